// List state (page, perPage, order, filters) <-> the URL's query string <-> a ListRequest.
// Every list is a deep link: reloading or sharing the URL shows the same page.

export interface ListState {
  page: number;
  perPage: number;
  order: string;
  /** filter key → accepted values (exact match, as ListRequest §3.4); "tags" → matchall. */
  filters: Record<string, string[]>;
}

export interface ListRequestFilter {
  key: string;
  value?: string;
  values?: string[];
  matchall?: string[];
}

export interface ListRequestBody {
  page: number;
  perPage: number;
  order?: string;
  filters?: ListRequestFilter[];
  with_hosts?: boolean;
}

export const DEFAULT_PER_PAGE = 25;
export const PER_PAGE_CHOICES = [10, 25, 50, 100];
const RESERVED = new Set(["page", "perPage", "order"]);

function positive(raw: string | null, fallback: number, max: number): number {
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : fallback;
}

/** Reads ``?page=2&perPage=25&order=state+desc&state=FAILED&state=DEGRADED``. */
export function parseListState(search: string): ListState {
  const params = new URLSearchParams(search);
  const filters: Record<string, string[]> = {};
  for (const [key, value] of params) {
    if (RESERVED.has(key) || value === "") continue;
    (filters[key] ??= []).push(value);
  }
  return {
    page: positive(params.get("page"), 1, 2 ** 31),
    perPage: positive(params.get("perPage"), DEFAULT_PER_PAGE, 1000),
    order: params.get("order") ?? "",
    filters,
  };
}

/** The query string of a state (defaults left out, keys in a stable order). */
export function formatListState(state: ListState): string {
  const params = new URLSearchParams();
  if (state.page !== 1) params.set("page", String(state.page));
  if (state.perPage !== DEFAULT_PER_PAGE) params.set("perPage", String(state.perPage));
  if (state.order) params.set("order", state.order);
  for (const key of Object.keys(state.filters).sort()) {
    for (const value of state.filters[key]) params.append(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The ListRequest body for a state. */
export function toListRequest(state: ListState): ListRequestBody {
  const body: ListRequestBody = { page: state.page, perPage: state.perPage };
  if (state.order) body.order = state.order;
  const filters: ListRequestFilter[] = [];
  for (const [key, values] of Object.entries(state.filters)) {
    if (values.length === 0) continue;
    filters.push(key === "tags" ? { key, matchall: values } : { key, values });
  }
  if (filters.length) body.filters = filters;
  return body;
}

/** A list URL with the given filters (used by the overview's numbers and charts). */
export function listHref(path: string, filters: Record<string, string | string[]>): string {
  const state: ListState = { page: 1, perPage: DEFAULT_PER_PAGE, order: "", filters: {} };
  for (const [key, value] of Object.entries(filters)) {
    state.filters[key] = Array.isArray(value) ? value : [value];
  }
  return path + formatListState(state);
}

/** Sorting by a column: none → ascending → descending → ascending. */
export function nextOrder(current: string, field: string): string {
  const [name, dir] = current.split(" ");
  if (name !== field) return field;
  return dir === "desc" ? field : `${field} desc`;
}

/** Number of pages for a total (at least 1). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)));
}
