import { describe, expect, it } from "vitest";
import { exactTime, formatBytes, formatDuration, formatNumber, humanState, parseTime, relativeTime } from "../src/format";

describe("formatNumber", () => {
  it("groups thousands", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(1234567)).toBe("1,234,567");
  });
  it("shows a dash for missing values", () => {
    expect(formatNumber(undefined)).toBe("–");
    expect(formatNumber(Number.NaN)).toBe("–");
  });
});

describe("times", () => {
  const now = new Date("2026-12-02T12:00:00Z");
  it("parses RFC 3339 and rejects empty or zero times", () => {
    expect(parseTime("2026-12-02T11:59:00+01:00")?.toISOString()).toBe("2026-12-02T10:59:00.000Z");
    expect(parseTime("")).toBeNull();
    expect(parseTime("0001-01-01T00:00:00Z")).toBeNull();
    expect(parseTime("yesterday")).toBeNull();
  });
  it("says how long ago, rounded down", () => {
    expect(relativeTime(new Date("2026-12-02T11:59:58Z"), now)).toBe("just now");
    expect(relativeTime(new Date("2026-12-02T11:59:15Z"), now)).toBe("45 s ago");
    expect(relativeTime(new Date("2026-12-02T11:57:00Z"), now)).toBe("3 min ago");
    expect(relativeTime(new Date("2026-12-02T09:00:00Z"), now)).toBe("3 h ago");
    expect(relativeTime(new Date("2026-11-25T12:00:00Z"), now)).toBe("7 d ago");
    expect(relativeTime(new Date("2026-12-02T14:00:00Z"), now)).toBe("in 2 h");
    expect(relativeTime(null, now)).toBe("never");
  });
  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(59.9)).toBe("59 s");
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(-5)).toBe("0 s");
  });
  it("gives the exact local time with its offset for hover text", () => {
    expect(exactTime(new Date(2026, 0, 2, 3, 4, 5))).toMatch(/^2026-01-02 03:04:05 UTC[+-]\d\d:\d\d$/);
    expect(exactTime(null)).toBe("");
  });
});

describe("formatBytes and humanState", () => {
  it("uses binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
    expect(formatBytes(null)).toBe("–");
  });
  it("turns cmon's words into people's", () => {
    expect(humanState("CmonHostOnline")).toBe("Online");
    expect(humanState("CmonHostOffLine")).toBe("Off Line");
    expect(humanState("ALARM_CRITICAL")).toBe("Critical");
    expect(humanState("SHUTTING_DOWN")).toBe("Shutting down");
    expect(humanState("Completed")).toBe("Completed");
    expect(humanState("")).toBe("(none)");
  });
});
