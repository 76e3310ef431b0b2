/**
 * A training run is a directory:
 *   run.json              the resolved configuration
 *   metrics.jsonl         one JSON object per logged step / evaluation
 *   checkpoints/step-N/   model.safetensors, optimizer.safetensors, trainer_state.json (complete or absent)
 *   best/                 the best weights so far
 * Checkpoints are written into a temporary directory and renamed into place, so a step-N directory is always
 * complete; a crash mid-write leaves only a temporary directory, which the next run removes.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.js";
import { FormatError } from "../util/errors.js";

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

  /** Writes a directory atomically: fill(tmpDir) then rename over `finalDir`. */
  writeDirAtomic(finalDir: string, fill: (tmp: string) => void): void {
    const tmp = `${finalDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    const old = `${finalDir}.old-${process.pid}`;
    if (existsSync(finalDir)) renameSync(finalDir, old);
    renameSync(tmp, finalDir);
    rmSync(old, { recursive: true, force: true });
  }

  /** Removes leftovers of interrupted writes and all but the newest `keep` checkpoints. */
  prune(keep: number): void {
    for (const dir of [this.checkpointsDir, this.path]) {
      for (const name of readdirSync(dir))
        if (/\.(tmp|old)-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    const all = this.checkpoints();
    for (const c of all.slice(0, Math.max(0, all.length - keep))) rmSync(c.dir, { recursive: true, force: true });
  }
}
