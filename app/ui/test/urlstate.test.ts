import { describe, expect, it } from "vitest";
import { DEFAULT_PER_PAGE, formatListState, listHref, nextOrder, pageCount, parseListState, toListRequest } from "../src/urlstate";

describe("list state in the URL", () => {
  it("reads page, perPage, order and repeated filters", () => {
    const s = parseListState("?page=3&perPage=10&order=state+desc&state=FAILED&state=DEGRADED&tags=prod");
    expect(s).toEqual({ page: 3, perPage: 10, order: "state desc", filters: { state: ["FAILED", "DEGRADED"], tags: ["prod"] } });
  });
  it("falls back to defaults for bad numbers (never page 0: cmon-proxy crashes on it)", () => {
    for (const q of ["?page=0", "?page=-1", "?page=abc", "?page=1.5", ""]) {
      expect(parseListState(q).page).toBe(1);
    }
    expect(parseListState("?perPage=0").perPage).toBe(DEFAULT_PER_PAGE);
    expect(parseListState("?perPage=100000").perPage).toBe(DEFAULT_PER_PAGE);
    expect(parseListState("?state=").filters).toEqual({});
  });
  it("writes a stable, minimal query that reads back the same", () => {
    const s = { page: 2, perPage: 50, order: "cluster_id", filters: { xid: ["b"], state: ["STARTED"] } };
    const q = formatListState(s);
    expect(q).toBe("?page=2&perPage=50&order=cluster_id&state=STARTED&xid=b");
    expect(parseListState(q)).toEqual(s);
    expect(formatListState({ page: 1, perPage: DEFAULT_PER_PAGE, order: "", filters: {} })).toBe("");
  });
  it("escapes values", () => {
    const href = listHref("/clusters", { tags: "a&b=c" });
    expect(href).toBe("/clusters?tags=a%26b%3Dc");
    expect(parseListState(href.slice("/clusters".length)).filters).toEqual({ tags: ["a&b=c"] });
  });
});

describe("ListRequest bodies", () => {
  it("maps filters to values, tags to matchall", () => {
    expect(toListRequest(parseListState("?page=2&perPage=10&order=state&state=FAILED&tags=prod&tags=eu"))).toEqual({
      page: 2, perPage: 10, order: "state",
      filters: [{ key: "state", values: ["FAILED"] }, { key: "tags", matchall: ["prod", "eu"] }],
    });
    expect(toListRequest(parseListState(""))).toEqual({ page: 1, perPage: DEFAULT_PER_PAGE });
  });
  it("cycles a column's order and counts pages", () => {
    expect(nextOrder("", "state")).toBe("state");
    expect(nextOrder("state", "state")).toBe("state desc");
    expect(nextOrder("state desc", "state")).toBe("state");
    expect(nextOrder("state desc", "cluster_id")).toBe("cluster_id");
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
  });
});
