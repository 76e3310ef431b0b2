/**
 * A hyperparameter-tuning study as the report reads it. A study directory holds either file:
 *
 * `leaderboard.json`, written when the study ends (or rewritten after each trial):
 *   {"metric": "eval_accuracy", "direction": "maximize" | "minimize",
 *    "trials": [{"number": 0, "state": "complete" | "pruned" | "failed" | "running", "value": 0.91,
 *                "params": {"lr": 3e-5, "batchSize": 16, "schedule": "cosine"}, "duration_s": 41.2,
 *                "run_dir": "trial-0", "intermediate": [[step, value], ...]}]}
 *   A bare array of trials is accepted too. `intermediate` may also be [{"step": 10, "value": 0.7}, ...].
 *
 * `trials.jsonl`, appended while the study runs: an optional first line {"meta": {"metric": ..., "direction": ...}},
 *   then one trial object per line; a later line for the same trial number replaces an earlier one.
 *
 * The shape of tune/'s own Trial is read as well: "values": [v, ...] (the first objective is shown), "directions":
 * [...] at the top, "startedAt"/"finishedAt" in milliseconds, "error", and the state "waiting". A trial without
 * run_dir links to `trials/trial-NNNN/report.html` when that exists.
 * Without a direction, a metric named like a loss is minimized and anything else maximized.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isObject, jsonLines } from "./jsonl.js";
import type { Point } from "./svg.js";

export const STUDY_FILES = ["leaderboard.json", "trials.jsonl"] as const;

export type TrialState = "complete" | "pruned" | "failed" | "running" | "waiting";

export interface Trial {
  number: number;
  state: TrialState;
  value: number | null;
  params: Record<string, number | string | boolean>;
  durationS: number | null;
  runDir: string | null;
  intermediate: Point[];
  error: string | null;
}

export interface Study {
  metric: string;
  direction: "maximize" | "minimize";
  trials: Trial[];
  /** The best complete trial, or null. */
  best: Trial | null;
  source: string;
}

const STATES: readonly TrialState[] = ["complete", "pruned", "failed", "running", "waiting"];

function readTrial(t: unknown, where: string, notes: string[]): Trial | null {
  if (!isObject(t) || !Number.isInteger(t.number)) {
    notes.push(`${where}: a trial needs an integer "number"; skipped`);
    return null;
  }
  const state =
    typeof t.state === "string" && (STATES as readonly string[]).includes(t.state.toLowerCase())
      ? (t.state.toLowerCase() as TrialState)
      : null;
  const raw = Array.isArray(t.values) ? t.values[0] : t.value;
  const value = typeof raw === "number" && Number.isFinite(raw) ? raw : null;
  const params: Trial["params"] = {};
  if (isObject(t.params)) {
    for (const [k, v] of Object.entries(t.params))
      if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") params[k] = v;
  }
  const intermediate: Point[] = [];
  if (Array.isArray(t.intermediate)) {
    for (const p of t.intermediate) {
      const xy = Array.isArray(p) ? p : isObject(p) ? [p.step, p.value] : [];
      if (typeof xy[0] === "number" && typeof xy[1] === "number") intermediate.push([xy[0], xy[1]]);
    }
  }
  return {
    number: t.number as number,
    // a trial with a value and no state is a finished one
    state: state ?? (value !== null ? "complete" : "running"),
    value,
    params,
    durationS:
      typeof t.duration_s === "number"
        ? t.duration_s
        : typeof t.startedAt === "number" && typeof t.finishedAt === "number"
          ? (t.finishedAt - t.startedAt) / 1000
          : null,
    runDir: typeof t.run_dir === "string" ? t.run_dir : null,
    intermediate,
    error: typeof t.error === "string" ? t.error : null,
  };
}

export function lossLike(metric: string): boolean {
  return /loss|perplexity|error|mse|mae|rmse/i.test(metric);
}

/** Builds a study from parsed parts: sorts trials by number and picks the best complete one. */
export function makeStudy(
  metric: unknown,
  direction: unknown,
  trials: Trial[],
  source: string,
  notes: string[],
): Study {
  const m = typeof metric === "string" && metric ? metric : "objective";
  let dir: "maximize" | "minimize";
  if (direction === "maximize" || direction === "minimize") dir = direction;
  else {
    dir = lossLike(m) ? "minimize" : "maximize";
    notes.push(`${source}: no "direction"; assumed ${dir} for "${m}"`);
  }
  const sorted = [...trials].sort((a, b) => a.number - b.number);
  let best: Trial | null = null;
  for (const t of sorted) {
    if (t.state !== "complete" || t.value === null) continue;
    if (!best || (dir === "maximize" ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return { metric: m, direction: dir, trials: sorted, best, source };
}

export function parseLeaderboard(text: string, source: string, notes: string[]): Study | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    notes.push(`${source}: ${(e as Error).message}`);
    return null;
  }
  const obj = Array.isArray(raw) ? { trials: raw } : raw;
  if (!isObject(obj) || !Array.isArray(obj.trials)) {
    notes.push(`${source}: expected {"metric", "direction", "trials": [...]} or an array of trials`);
    return null;
  }
  const trials = obj.trials
    .map((t, i) => readTrial(t, `${source} trial ${i}`, notes))
    .filter((t): t is Trial => t !== null);
  if (Array.isArray(obj.directions) && obj.directions.length > 1)
    notes.push(`${source}: ${obj.directions.length} objectives; the report ranks by the first`);
  const direction = obj.direction ?? (Array.isArray(obj.directions) ? obj.directions[0] : undefined);
  return makeStudy(obj.metric ?? obj.objective, direction, trials, source, notes);
}

export function parseTrialsJsonl(text: string, source: string, notes: string[]): Study | null {
  let meta: Record<string, unknown> = {};
  const byNumber = new Map<number, Trial>();
  const bad = (line: number): void => {
    notes.push(`${source} line ${line}: not valid JSON; skipped`);
  };
  for (const { value: v, line } of jsonLines(text, bad)) {
    if (isObject(v) && isObject(v.meta)) {
      meta = v.meta;
      continue;
    }
    const t = readTrial(v, `${source} line ${line}`, notes);
    if (t) byNumber.set(t.number, t);
  }
  const direction = meta.direction ?? (Array.isArray(meta.directions) ? meta.directions[0] : undefined);
  return makeStudy(meta.metric ?? meta.objective, direction, [...byNumber.values()], source, notes);
}

/** Reads a study directory's leaderboard.json, else its trials.jsonl. */
export function readStudy(dir: string): { value: Study | null; notes: string[] } {
  const notes: string[] = [];
  for (const f of STUDY_FILES) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, "utf8");
    const value = f === "leaderboard.json" ? parseLeaderboard(text, f, notes) : parseTrialsJsonl(text, f, notes);
    return { value, notes };
  }
  return { value: null, notes };
}
