/**
 * What the dashboard shows: the run and study directories under the folders it was given, found again on each scan
 * (a run started after the dashboard appears), each with a stable id (a hash of its path) and what the runs table
 * needs. Reading goes through report/ (readRun, readStudy), so the dashboard and report.html agree on every file.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readRun, readStudy, STUDY_FILES, type RunData, type Study } from "../report/index.js";

/** Files whose change means an entry has news (size and mtime are compared between scans). */
export const WATCHED = [
  "run.json",
  "metrics.jsonl",
  "summary.json",
  "train_summary.json",
  "predictions.jsonl",
  "eval_predictions.jsonl",
  "best/best.json",
  ...STUDY_FILES,
];
const RUN_MARKERS = ["run.json", "metrics.jsonl", "eval_predictions.jsonl", ...STUDY_FILES];

export interface Entry {
  id: string;
  kind: "run" | "study";
  dir: string;
  name: string;
  /** The study this run is a trial of (when found under a study directory). */
  parent: string | null;
}

export interface EntryRow extends Entry {
  task: string | null;
  model: string | null;
  data: string | null;
  status: "running" | "finished" | "interrupted" | "stopped early" | "failed" | "unknown";
  /** The best (run) or best trial's (study) value of the deciding metric. */
  metric: string | null;
  best: number | null;
  durationS: number | null;
  steps: number | null;
  trials: number | null;
  updated: number;
  /** Why the directory could not be read, shown in its row instead of its figures. */
  error: string | null;
}

const idOf = (dir: string) => createHash("sha1").update(dir).digest("hex").slice(0, 12);

function kindOf(dir: string): "run" | "study" | null {
  const has = (f: string) => existsSync(join(dir, f));
  if (STUDY_FILES.some(has)) return "study";
  if (RUN_MARKERS.some(has)) return "run";
  return null;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The runs and studies under `roots`: a root that is one itself, and the runs and studies among its subfolders
 * (two levels down, so a study's trial runs and a folder of folders are found). `problems` gets a line for a root
 * that does not exist or holds none.
 */
export function discover(roots: readonly string[], problems: string[] = []): Entry[] {
  const out: Entry[] = [];
  const seen = new Set<string>();
  const visit = (dir: string, depth: number, parent: string | null) => {
    if (seen.has(dir)) return;
    const kind = kindOf(dir);
    if (kind) {
      seen.add(dir);
      const e: Entry = { id: idOf(dir), kind, dir, name: basename(dir), parent };
      out.push(e);
      // a study's trials are runs under it (trials/trial-0003/)
      if (kind === "study") for (const d of subdirs(dir)) visit(d, 1, e.id);
      return;
    }
    if (depth < 2) for (const d of subdirs(dir)) visit(d, depth + 1, parent);
  };
  for (const r of roots) {
    const dir = resolve(r);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(`${r}: no such directory`);
      continue;
    }
    const before = out.length;
    visit(dir, 0, null);
    if (out.length === before)
      problems.push(`${r}: no graft run or study here (a run has run.json or metrics.jsonl; a study trials.jsonl)`);
  }
  return out;
}

/** A fingerprint of an entry's watched files: it changes when any of them is written. */
export function fingerprint(dir: string): string {
  return WATCHED.map((f) => {
    try {
      const s = statSync(join(dir, f));
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return "-";
    }
  }).join("|");
}

function lastModified(dir: string): number {
  let t = 0;
  for (const f of WATCHED) {
    try {
      t = Math.max(t, statSync(join(dir, f)).mtimeMs);
    } catch {
      // not there
    }
  }
  return t;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** A run still being written: no summary yet and its log touched within this long. */
const RUNNING_WINDOW_MS = 120_000;

/**
 * The runs table's row of an entry; a directory that cannot be read gets a row with its error. `read` is what a
 * caller has already read of the directory (a run page's RunData, a study page's Study), so it is not read twice.
 */
export function entryRow(e: Entry, read: { run?: RunData; study?: Study | null } = {}, now = Date.now()): EntryRow {
  const row: EntryRow = {
    ...e,
    task: null,
    model: null,
    data: null,
    status: "unknown",
    metric: null,
    best: null,
    durationS: null,
    steps: null,
    trials: null,
    updated: lastModified(e.dir),
    error: null,
  };
  try {
    if (e.kind === "study") {
      const value = read.study !== undefined ? read.study : readStudy(e.dir).value;
      row.trials = value?.trials.length ?? 0;
      row.metric = value?.metric ?? null;
      row.best = value?.best?.value ?? null;
      const running = value?.trials.some((t) => t.state === "running" || t.state === "waiting");
      row.status = running ? "running" : "finished";
      row.durationS = value ? value.trials.reduce((s, t) => s + (t.durationS ?? 0), 0) : null;
      return row;
    }
    describeRun(row, read.run ?? readRun(e.dir), now);
  } catch (err) {
    row.error = (err as Error).message;
    row.status = "failed";
  }
  return row;
}

function describeRun(row: EntryRow, run: RunData, now: number): void {
  const c = run.config ?? {};
  const ft = obj(c.finetune);
  row.task = str(c.task) ?? str(ft?.task) ?? str(c.objective) ?? run.predictions?.task ?? null;
  row.model = str(c.model) ?? str(c.modelDir) ?? str(ft?.model) ?? null;
  const files = Array.isArray(c.dataFiles) ? (c.dataFiles as unknown[]).filter((f) => typeof f === "string") : [];
  row.data = files.length ? files.map((f) => basename(f as string)).join(", ") : (str(ft?.data) ?? str(c.corpus));
  const args = obj(c.args);
  row.metric = run.best?.metric ?? str(args?.metricForBest);
  row.best = run.best?.value ?? null;
  row.steps = run.train.at(-1)?.step ?? run.evals.at(-1)?.step ?? null;
  row.durationS = run.summary?.trainSeconds ?? null;
  const s = run.summary;
  if (s) row.status = s.interrupted ? "interrupted" : s.stoppedEarly ? "stopped early" : "finished";
  else row.status = now - row.updated < RUNNING_WINDOW_MS ? "running" : "interrupted";
}

/** A run's full data for its page, with a note for a metrics.jsonl whose last line is cut short. */
export function runDetail(e: Entry): RunData & { tornLine: number | null } {
  const run = readRun(e.dir);
  let tornLine: number | null = null;
  const log = join(e.dir, "metrics.jsonl");
  if (existsSync(log)) {
    const text = readFileSync(log, "utf8");
    if (text.length && !text.endsWith("\n")) {
      const lines = text.split("\n");
      try {
        JSON.parse(lines.at(-1)!);
      } catch {
        tornLine = lines.length;
        run.notes.push(
          `metrics.jsonl line ${tornLine}: cut short (the run is writing it, or stopped mid-write); skipped`,
        );
      }
    }
  }
  return { ...run, tornLine };
}
