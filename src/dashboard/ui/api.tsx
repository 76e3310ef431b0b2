/** The dashboard's JSON routes as the page sees them (shapes of src/dashboard/server.ts), and a live-update hook. */
import { useEffect, useState } from "preact/hooks";

export interface EntryRow {
  id: string;
  kind: "run" | "study";
  dir: string;
  name: string;
  parent: string | null;
  task: string | null;
  model: string | null;
  data: string | null;
  status: string;
  metric: string | null;
  best: number | null;
  durationS: number | null;
  steps: number | null;
  trials: number | null;
  updated: number;
  error: string | null;
}

export interface TrainRecord {
  step: number;
  epoch: number | null;
  loss: number | null;
  lr: number | null;
  gradNorm: number | null;
  examplesPerS: number | null;
}

export interface RunDetail extends Omit<EntryRow, "best"> {
  config: Record<string, unknown> | null;
  train: TrainRecord[];
  evals: { step: number; epoch: number | null; metrics: Record<string, number> }[];
  best: { step: number; metric: string; value: number; metrics: Record<string, number> } | null;
  test: Record<string, number> | null;
  missing: string[];
  notes: string[];
  sections: { id: string; title: string; html: string }[];
  worst:
    | {
        task: "classification";
        total: number;
        wrong: number;
        rows: { line: number; text: string | null; label: string; pred: string; confidence: number | null }[];
      }
    | {
        task: "ner";
        total: number;
        wrong: number;
        rows: { line: number; tokens: string[]; labels: string[]; preds: string[]; errors: number }[];
      }
    | null;
}

export interface Trial {
  number: number;
  state: string;
  value: number | null;
  params: Record<string, number | string | boolean>;
  durationS: number | null;
  runDir: string | null;
  runId: string | null;
  intermediate: [number, number][];
  error: string | null;
}

export interface StudyDetail extends EntryRow {
  study: { metric: string; direction: "maximize" | "minimize"; trials: Trial[]; best: Trial | null };
  params: string[];
  importance: Record<string, number> | null;
  lineage: Lineage | null;
  notes: string[];
}

/** Population-based training: each member's segments, and whose weights each segment started from. */
export interface Lineage {
  interval: number;
  members: {
    member: number;
    segments: {
      generation: number;
      trial: number;
      member: number;
      params: Record<string, number | string | boolean>;
      score: number | null;
      state: string;
      startStep: number;
      endStep: number;
      donor: number | null;
      parentTrial: number | null;
    }[];
  }[];
}

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

export interface FeatureDrift {
  feature: string;
  kind: "num" | "cat";
  test: string;
  statistic: number;
  pValue: number | null;
  threshold: number;
  drift: boolean;
  referenceCount: number;
  currentCount: number;
}

export interface ServedState {
  server: string;
  error: string | null;
  models: {
    server: string;
    model: string;
    latest: {
      status: "ok" | "degraded";
      reasons: string[];
      samples: number;
      features: FeatureDrift[];
      driftedShare: number;
      notes: string[];
    } | null;
    history: {
      at: number;
      status: string;
      driftedShare: number;
      samples: number;
      features: Record<string, { statistic: number; drift: boolean }>;
    }[];
  }[];
}
