/** The dashboard's JSON routes as the page sees them (shapes of src/dashboard/server.ts), and a live-update hook. */
import { useEffect, useState } from "preact/hooks";

// the JSON routes' shapes, as the server declares them (type-only imports: erased from the bundle)
export type { EntryRow } from "../entries.js";
export type { Lineage, RunResponse as RunDetail, StudyResponse as StudyDetail } from "../server.js";
export type { ServedState } from "../drift.js";
import type { StudyResponse } from "../server.js";
export type Trial = StudyResponse["study"]["trials"][number];

type Loaded<T> = { data: T | null; error: string | null };

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body as T;
}

/** One event stream for the page: listeners per event name. */
const listeners = new Map<string, Set<(data: { id?: string }) => void>>();
let source: EventSource | null = null;
function subscribe(event: string, fn: (data: { id?: string }) => void): () => void {
  if (!source) {
    source = new EventSource("/api/events");
    for (const name of ["entries", "change", "served"])
      source.addEventListener(name, (e) => {
        const data = JSON.parse((e as MessageEvent).data || "{}");
        for (const f of listeners.get(name) ?? []) f(data);
      });
  }
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event)!.add(fn);
  return () => listeners.get(event)!.delete(fn);
}

/**
 * Fetches `url` and fetches it again whenever the server says so: on `entries` for the runs list, `served` for the
 * drift page, on `change` for the ids in `watch`.
 */
export function useLive<T>(
  url: string,
  watch: readonly string[] | "entries" | "served",
): Loaded<T> & { version: number } {
  const [state, setState] = useState<Loaded<T> & { version: number }>({ data: null, error: null, version: 0 });
  useEffect(() => {
    let alive = true;
    const load = () =>
      getJson<T>(url).then(
        (data) => alive && setState((s) => ({ data, error: null, version: s.version + 1 })),
        (e: Error) => alive && setState((s) => ({ data: s.data, error: e.message, version: s.version + 1 })),
      );
    load();
    const off =
      watch === "entries" || watch === "served"
        ? subscribe(watch, load)
        : subscribe("change", (d) => {
            if (d.id && watch.includes(d.id)) load();
          });
    return () => {
      alive = false;
      off();
    };
  }, [url, Array.isArray(watch) ? watch.join() : watch]);
  return state;
}

export const fmt = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? "—"
    : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(2)
      : String(+v.toFixed(digits));

export const duration = (s: number | null): string =>
  s === null ? "—" : s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
