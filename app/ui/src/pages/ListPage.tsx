// One server-side paged, sorted, filtered list (ListRequest), its state in the URL.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { Empty, ErrorBox, Loading, Pager } from "../components";
import { navigate, type Place } from "../router";
import { controllers, useApi, useValue } from "../state";
import type { Item, ListReply } from "../types";
import { formatListState, nextOrder, parseListState, PER_PAGE_CHOICES, toListRequest, type ListState } from "../urlstate";

export interface Column {
  label: string;
  /** ListRequest order field, when the server can sort by it. */
  sort?: string;
  render: (item: Item) => JSX.Element | string;
}

export interface FilterDef {
  key: string;
  label: string;
  /** Fixed choices; "controllers" lists the configured controllers by xid. */
  options?: string[] | "controllers";
}

export interface ListDef {
  path: string;
  title: string;
  endpoint: string;
  itemsKey: string;
  noun: string;
  columns: Column[];
  filters: FilterDef[];
  rowKey: (item: Item) => string;
  withHosts?: boolean;
  note?: string;
}

function FilterForm({ def, state, onApply }: {
  def: ListDef; state: ListState; onApply: (filters: Record<string, string[]>) => void;
}): JSX.Element {
  const known = useValue(controllers) ?? [];
  const [draft, setDraft] = useState<Record<string, string>>(() => Object.fromEntries(
    def.filters.map((f) => [f.key, (state.filters[f.key] ?? []).join(", ")])));
  const submit = (e: Event): void => {
    e.preventDefault();
    const filters: Record<string, string[]> = {};
    for (const f of def.filters) {
      const values = (draft[f.key] ?? "").split(",").map((v) => v.trim()).filter(Boolean);
      if (values.length) filters[f.key] = values;
    }
    onApply(filters);
  };
  const clear = (): void => {
    setDraft({});
    onApply({});
  };
  return (
    <form class="filters" onSubmit={submit} aria-label={`Filter ${def.noun}`}>
      {def.filters.map((f) => {
        const id = `filter-${f.key}`;
        const value = draft[f.key] ?? "";
        const set = (v: string): void => setDraft({ ...draft, [f.key]: v });
        let control: JSX.Element;
        if (f.options) {
          const choices = f.options === "controllers"
            ? known.map((c) => [c.xid, c.controller_name || c.url])
            : f.options.map((o) => [o, o]);
          if (value && !choices.some(([v]) => v === value)) choices.push([value, value]);
          control = (
            <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              {choices.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
            </select>
          );
        } else {
          control = <input id={id} value={value} placeholder="any" onInput={(e) => set((e.target as HTMLInputElement).value)} />;
        }
        return <div class="field" key={f.key}><label for={id}>{f.label}</label>{control}</div>;
      })}
      <div class="field actions">
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={clear}>Clear</button>
      </div>
    </form>
  );
}

export function ListPage({ def, place }: { def: ListDef; place: Place }): JSX.Element {
  const state = parseListState(place.search);
  const body = { ...toListRequest(state), ...(def.withHosts ? { with_hosts: true } : {}) };
  const { data, error, loading } = useApi<ListReply>(def.endpoint, body, "", true);
  const go = (next: ListState, replace = false): void => navigate(def.path + formatListState(next), replace);
  const items = (data?.[def.itemsKey] as Item[] | undefined) ?? [];
  const total = data?.total ?? 0;

  return (
    <>
      <h2>{def.title}</h2>
      {def.note && <p class="muted">{def.note}</p>}
      <FilterForm key={place.search} def={def} state={state}
        onApply={(filters) => go({ ...state, filters, page: 1 })} />
      <ErrorBox error={error} title={`Could not load ${def.noun}`} />
      {data === null && loading && <Loading what={def.noun} />}
      {data !== null && items.length === 0 && <Empty>No {def.noun} match.</Empty>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table aria-busy={loading ? "true" : "false"}>
            <caption class="visually-hidden">{def.title}</caption>
            <thead>
              <tr>
                {def.columns.map((c) => {
                  if (!c.sort) return <th key={c.label} scope="col">{c.label}</th>;
                  const [field, dir] = state.order.split(" ");
                  const sorted = field === c.sort ? (dir === "desc" ? "descending" : "ascending") : undefined;
                  return (
                    <th key={c.label} scope="col" aria-sort={sorted ?? "none"}>
                      <button type="button" class="sort" onClick={() => go({ ...state, order: nextOrder(state.order, c.sort ?? ""), page: 1 })}>
                        {c.label} <span aria-hidden="true">{sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : "↕"}</span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={def.rowKey(item)}>
                  {def.columns.map((c) => <td key={c.label}>{c.render(item)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data !== null && (
        <div class="list-footer">
          <Pager page={state.page} perPage={state.perPage} total={total} onPage={(page) => go({ ...state, page })} />
          <label>
            Per page{" "}
            <select value={String(state.perPage)} onChange={(e) => go({ ...state, perPage: Number((e.target as HTMLSelectElement).value), page: 1 })}>
              {PER_PAGE_CHOICES.map((n) => <option key={n} value={String(n)}>{n}</option>)}
            </select>
          </label>
        </div>
      )}
    </>
  );
}
