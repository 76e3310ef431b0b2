/**
 * A training run is a directory:
 *   run.json              the resolved configuration (absolute paths) and the sha256 of each data file
 *   metrics.jsonl         one JSON object per logged step / evaluation
 *   checkpoints/step-N/   model.safetensors, optimizer.safetensors, trainer_state.json (complete or absent)
 *   best/                 the best weights so far
 * Checkpoints are written into a temporary directory and renamed into place, so a step-N directory is always
 * complete; a crash mid-write leaves only a temporary directory, which the next run (or resume) removes, and a
 * failed write (a full disk) removes its own. A new run refuses a directory that already holds files unless told to
 * overwrite it (openNewRun), and removes the directory again when it fails before training starts.
 */
import { createHash } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DiskFullError, freeBytes, isDiskFull, writeJsonAtomic } from "../util/atomic.js";
import { ArgumentError, FormatError } from "../util/errors.js";

/** What graft writes into a run directory: a directory holding only these (or a run.json) may be overwritten. */
const RUN_ENTRIES = new Set([
  "run.json",
  "data.json",
  "metrics.jsonl",
  "checkpoints",
  "best",
  "predictions.jsonl",
  "eval_predictions.jsonl",
  "summary.json",
  "report.html",
  "tokenizer",
  "data",
  "mlflow.json",
  "tapt",
]);
/** TensorBoard event files (--report-to tensorboard) belong to the run too. */
const EVENT_FILE = /^events\.out\.tfevents\./;
const TEMPORARY = /\.(tmp|old)-\d+(-\d+)?$/;

/**
 * Opens the directory of a new run. A directory that already holds files is refused (a second run would append to
 * the first one's metrics and leave its checkpoints for a later --resume to pick up) unless `overwrite`, which
 * clears it first — only when it looks like a run directory, never a directory of other files. Returns `discard`,
 * which removes what this run created (the directory, or its contents when it existed) for a run that fails before
 * training starts.
 */
export function openNewRun(
  path: string,
  opts: { overwrite?: boolean; command?: string } = {},
): { path: string; discard: () => void } {
  const dir = resolve(path);
  const command = opts.command ?? "graft";
  const existed = existsSync(dir);
  if (existed) {
    if (!statSync(dir).isDirectory()) throw new ArgumentError(`the run directory ${dir} is a file`);
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      const isRun =
        entries.includes("run.json") ||
        entries.every((e) => RUN_ENTRIES.has(e) || EVENT_FILE.test(e) || TEMPORARY.test(e));
      if (!opts.overwrite)
        throw new ArgumentError(
          `the run directory ${dir} is not empty (${describeEntries(entries)})`,
          isRun
            ? `continue that run with: ${command} --resume ${dir}; start over with --overwrite (deletes it); or choose another --output`
            : "choose another --output (an empty or new directory)",
        );
      if (!isRun)
        throw new ArgumentError(
          `--overwrite refuses to clear ${dir}: it is not a graft run directory (${describeEntries(entries)})`,
          "choose another --output (an empty or new directory)",
        );
      for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
    }
  }
  const first = existed ? undefined : mkdirSync(dir, { recursive: true });
  return {
    path: dir,
    discard: () => {
      if (existed) {
        for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      // parents this run created, while empty (another run may have started in one since)
      for (let p = dirname(dir); first && p.length >= first.length && p !== dirname(p); p = dirname(p)) {
        try {
          rmdirSync(p);
        } catch {
          break;
        }
      }
    },
  };
}

function describeEntries(entries: string[]): string {
  const shown = entries.slice(0, 5).join(", ");
  return entries.length > 5 ? `${shown} and ${entries.length - 5} more` : shown;
}

/** One data file a run read: its role, absolute path, size and the sha256 of its bytes. */
export interface DataSource {
  role: string;
  file: string;
  bytes: number;
  sha256: string;
}

/** Hashes the data files of a run (streamed, so a large corpus is never held in memory). */
export function dataSources(files: readonly { role: string; file: string }[]): DataSource[] {
  return files.map(({ role, file }) => {
    const path = resolve(file);
    const h = createHash("sha256");
    const fd = openSync(path, "r");
    const buf = Buffer.allocUnsafe(1 << 20);
    let bytes = 0;
    try {
      for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
        h.update(buf.subarray(0, n));
        bytes += n;
      }
    } finally {
      closeSync(fd);
    }
    return { role, file: path, bytes, sha256: h.digest("hex") };
  });
}

/**
 * What changed between the data files a run recorded and the current ones (one line each; empty: nothing). Files
 * are matched by position (train, validation, test; a corpus in order).
 */
export function changedSources(recorded: readonly DataSource[], current: readonly DataSource[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(recorded.length, current.length); i++) {
    const was = recorded[i];
    const now = current[i];
    if (!was) out.push(`${now!.role} file ${now!.file} was not part of the run`);
    else if (!now) out.push(`${was.role} file ${was.file} is no longer given`);
    else if (now.file !== was.file) out.push(`${was.role} file ${was.file} is now ${now.file}`);
    else if (now.sha256 !== was.sha256)
      out.push(
        `${was.role} file ${was.file} changed (sha256 ${was.sha256.slice(0, 12)}…, ${was.bytes} bytes when the run started; now ${now.sha256.slice(0, 12)}…, ${now.bytes} bytes)`,
      );
  }
  return out;
}

/**
 * Refuses to resume a run whose data files (`dataFiles` in its run.json) changed since it started, unless `allow`,
 * which logs what changed: a resumed run would otherwise continue silently on other data. A run that recorded no
 * hashes (made by an older graft) is not checked.
 */
export function checkResumeData(
  runDir: string,
  current: readonly DataSource[],
  opts: { allow?: boolean; log?: (line: string) => void } = {},
): void {
  const p = join(runDir, "run.json");
  if (!existsSync(p)) return;
  let recorded: DataSource[] | undefined;
  try {
    recorded = (JSON.parse(readFileSync(p, "utf8")) as { dataFiles?: DataSource[] }).dataFiles;
  } catch (e) {
    throw new FormatError(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(recorded)) return;
  const changes = changedSources(recorded, current);
  if (changes.length === 0) return;
  if (opts.allow) {
    for (const c of changes) opts.log?.(`warning: resuming on changed data (--allow-data-change): ${c}`);
    return;
  }
  throw new ArgumentError(
    `cannot resume ${runDir}: the data changed since the run started: ${changes.join("; ")}`,
    "restore the original files, start a new run (another --output, or --overwrite), or pass --allow-data-change to continue on the changed data",
  );
}

/** The run.json of a run directory (for --resume), without creating anything; a clear error when it is not a run. */
export function readRunJson<T = unknown>(path: string): T {
  const p = join(resolve(path), "run.json");
  if (!existsSync(p))
    throw new FormatError(
      `${resolve(path)} is not a graft run directory: ${existsSync(path) ? "run.json is missing" : "it does not exist"}`,
    );
  try {
    return JSON.parse(readFileSync(p, "utf8")) as T;
  } catch (e) {
    throw new FormatError(`${p}: not valid JSON (${(e as Error).message})`);
  }
}

export class RunDir {
  constructor(readonly path: string) {
    mkdirSync(join(path, "checkpoints"), { recursive: true });
  }

  get checkpointsDir(): string {
    return join(this.path, "checkpoints");
  }

  get bestDir(): string {
    return join(this.path, "best");
  }

  get metricsFile(): string {
    return join(this.path, "metrics.jsonl");
  }

  writeRunConfig(config: unknown): void {
    writeJsonAtomic(join(this.path, "run.json"), config);
  }

  readRunConfig<T = unknown>(): T {
    const p = join(this.path, "run.json");
    if (!existsSync(p)) throw new FormatError(`${this.path} is not a graft run directory: run.json is missing`);
    return JSON.parse(readFileSync(p, "utf8")) as T;
  }

  logMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.metricsFile, JSON.stringify(record) + "\n");
  }

  /** Logged records; a torn last line (crash mid-append) is ignored. */
  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsFile)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(this.metricsFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // torn write at the end of the file
      }
    }
    return out;
  }

  /** On resume: forget records logged after the checkpoint we resume from. */
  truncateMetricsAfter(step: number): void {
    const kept = this.readMetrics().filter((r) => typeof r.step !== "number" || r.step <= step);
    writeFileSync(this.metricsFile, kept.map((r) => JSON.stringify(r) + "\n").join(""));
  }

  /** Complete checkpoints, oldest first. */
  checkpoints(): { step: number; dir: string }[] {
    if (!existsSync(this.checkpointsDir)) return [];
    return readdirSync(this.checkpointsDir)
      .map((name) => /^step-(\d+)$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), dir: join(this.checkpointsDir, m[0]) }))
      .sort((a, b) => a.step - b.step);
  }

  latestCheckpoint(): { step: number; dir: string } | null {
    const all = this.checkpoints();
    return all.length ? all[all.length - 1] : null;
  }

  /**
   * Writes a directory atomically: fill(tmpDir) then rename over `finalDir`. A fill that fails removes the temporary
   * directory; a full disk is a DiskFullError naming `finalDir` and `neededBytes` (what the directory will hold).
   */
  writeDirAtomic(finalDir: string, fill: (tmp: string) => void, neededBytes?: number): void {
    const tmp = `${finalDir}.tmp-${process.pid}`;
    try {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      fill(tmp);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (isDiskFull(e)) throw new DiskFullError(finalDir, neededBytes, freeBytes(dirname(finalDir)));
      throw e;
    }
    const old = `${finalDir}.old-${process.pid}`;
    if (existsSync(finalDir)) renameSync(finalDir, old);
    renameSync(tmp, finalDir);
    rmSync(old, { recursive: true, force: true });
  }

  /**
   * Removes leftovers of interrupted writes: temporary directories and files (`step-N.tmp-*`, `.x.tmp-*`); a
   * directory moved aside (`X.old-*`) whose replacement never arrived is put back.
   */
  removeTemporaries(): void {
    for (const dir of [this.checkpointsDir, this.path]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (!TEMPORARY.test(name)) continue;
        const p = join(dir, name);
        const original = p.replace(TEMPORARY, "");
        if (/\.old-\d+$/.test(name) && !existsSync(original)) renameSync(p, original);
        else rmSync(p, { recursive: true, force: true });
      }
    }
  }

  /** Removes leftovers of interrupted writes and all but the newest `keep` checkpoints. */
  prune(keep: number): void {
    this.removeTemporaries();
    const all = this.checkpoints();
    for (const c of all.slice(0, Math.max(0, all.length - keep))) rmSync(c.dir, { recursive: true, force: true });
  }
}
