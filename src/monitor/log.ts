/**
 * The served-sample log: a sample of what a server answered, kept in an embedded SQLite file (sql.js, as tune/'s
 * study.sqlite) so that `graft monitor` and `GET /drift` can compare it with the model's training reference.
 *
 * Privacy first: the sample rate defaults to 0, so nothing is recorded until the operator asks for it. Each served
 * input is kept with probability `sampleRate` (a seeded Bernoulli draw). The log holds at most `maxSamples` records;
 * past that the oldest go. sql.js keeps the database in memory: every `flushIntervalMs` (when something changed) and
 * on close the whole database is written to a temporary file and renamed over the log, so the file on disk is always
 * a complete database (a crash loses at most the last interval). One process writes a log at a time.
 *
 * Table samples: id, time (ms since the epoch), model, route, input (the text), output (JSON: {label?, scores?,
 * text?}), embedding (little-endian float32 blob, or NULL).
 */
import { existsSync, readFileSync } from "node:fs";
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from "sql.js";
import { writeFileAtomic } from "../util/atomic.js";
import { ArgumentError, FormatError } from "../util/errors.js";
import { Rng } from "../util/rng.js";

const LOG_KIND = "graft-sample-log";
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY, time REAL NOT NULL, model TEXT NOT NULL, route TEXT NOT NULL, input TEXT NOT NULL,
  output TEXT NOT NULL, embedding BLOB
);
`;

let sqlPromise: Promise<SqlJsStatic> | null = null;
function sqlite(): Promise<SqlJsStatic> {
  sqlPromise ??= initSqlJs();
  return sqlPromise;
}

/** One served prediction as the log keeps it. */
export interface ServedSample {
  /** Milliseconds since the epoch. */
  time: number;
  model: string;
  route: string;
  /** The input text (a pair or structured input as JSON). */
  input: string;
  /** The predicted label, if the route gives one. */
  label?: string | null;
  /** Scores by name: class probabilities, or {value} of a regression. */
  scores?: Record<string, number> | null;
  /** Generated text (generation routes). */
  text?: string | null;
  /** An embedding of the input (from /embed, or one the server computed alongside a prediction). */
  embedding?: ArrayLike<number> | null;
}

export interface SampleLogOptions {
  /** Share of served inputs recorded, 0..1 (default 0: nothing is recorded). */
  sampleRate?: number;
  /** Most records kept; the oldest are dropped past it (default 10 000). */
  maxSamples?: number;
  /** How often a changed log is written to disk, in ms (default 5000; 0 writes only on flush/close). */
  flushIntervalMs?: number;
  /** Seed of the sampling draws (default: from the clock). */
  seed?: number;
}

export const DEFAULT_LOG_OPTIONS = { sampleRate: 0, maxSamples: 10000, flushIntervalMs: 5000 } as const;

/** float32 little-endian bytes of a vector. */
function toBlob(v: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(v);
  const out = new Uint8Array(f.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < f.length; i++) view.setFloat32(i * 4, f[i]!, true);
  return out;
}

function fromBlob(b: Uint8Array): Float32Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function openDatabase(SQL: SqlJsStatic, path: string): Database {
  let db: Database;
  try {
    db = new SQL.Database(readFileSync(path));
    db.exec("SELECT count(*) FROM sqlite_master");
  } catch (e) {
    throw new FormatError(
      `${path} is not a readable SQLite database (${(e as Error).message}): not a graft sample log, or damaged`,
      "point --log at the file graft serve writes, or move the damaged file away and let the server start a new one",
    );
  }
  const meta = (key: string): string | undefined => {
    try {
      const v = db.exec("SELECT value FROM meta WHERE key = ?", [key])[0]?.values[0]?.[0];
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const kind = meta("kind");
  if (kind !== JSON.stringify(LOG_KIND)) {
    db.close();
    throw new FormatError(`${path} is an SQLite database but not a graft sample log (no meta kind "${LOG_KIND}")`);
  }
  const version = Number(meta("schema"));
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new FormatError(`${path}: sample log schema version ${version}, this graft reads version ${SCHEMA_VERSION}`);
  }
  return db;
}

function rowToSample(r: SqlValue[], path: string): ServedSample {
  let out: { label?: string | null; scores?: Record<string, number> | null; text?: string | null };
  try {
    out = JSON.parse(r[5] as string);
  } catch {
    throw new FormatError(`${path}: sample ${r[0]} has an output that is not JSON`);
  }
  return {
    time: r[1] as number,
    model: r[2] as string,
    route: r[3] as string,
    input: r[4] as string,
    label: out.label ?? null,
    scores: out.scores ?? null,
    text: out.text ?? null,
    embedding: r[6] instanceof Uint8Array ? fromBlob(r[6]) : null,
  };
}

function selectSamples(db: Database, path: string, where: { model?: string; limit?: number } = {}): ServedSample[] {
  const params: SqlValue[] = [];
  let sql = "SELECT id, time, model, route, input, output, embedding FROM samples";
  if (where.model !== undefined) {
    sql += " WHERE model = ?";
    params.push(where.model);
  }
  sql += " ORDER BY id DESC";
  if (where.limit !== undefined) {
    sql += " LIMIT ?";
    params.push(where.limit);
  }
  const rows = db.exec(sql, params)[0]?.values ?? [];
  return rows.reverse().map((r) => rowToSample(r, path));
}

/** Reads every sample of a log file written by SampleLog (oldest first); a file that is not one is refused clearly. */
export async function readSampleLog(
  path: string,
  where: { model?: string; limit?: number } = {},
): Promise<ServedSample[]> {
  if (!existsSync(path)) throw new ArgumentError(`the sample log ${path} does not exist`);
  const db = openDatabase(await sqlite(), path);
  try {
    return selectSamples(db, path, where);
  } finally {
    db.close();
  }
}

/** What a route answered for one input, reduced to what the log keeps. */
export function normalizeOutput(o: unknown): Pick<ServedSample, "label" | "scores" | "text" | "embedding"> {
  const isNums = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
  if (typeof o === "number") return { scores: { value: o } };
  if (typeof o === "string") return { text: o };
  if (isNums(o)) return { embedding: o };
  // TEI's /predict: [{label, score}, ...] for one input
  if (Array.isArray(o) && o.length && o.every((x) => x && typeof x === "object" && "label" in x && "score" in x)) {
    const scores: Record<string, number> = {};
    let best: string | null = null;
    for (const x of o as { label: unknown; score: unknown }[]) {
      if (typeof x.score !== "number") continue;
      scores[String(x.label)] = x.score;
      if (best === null || x.score > scores[best]!) best = String(x.label);
    }
    return { label: best, scores };
  }
  if (o && typeof o === "object" && !Array.isArray(o)) {
    const v = o as Record<string, unknown>;
    const out: Pick<ServedSample, "label" | "scores" | "text" | "embedding"> = {};
    if (typeof v.label === "string") out.label = v.label;
    if (v.scores && typeof v.scores === "object" && !Array.isArray(v.scores)) {
      const s: Record<string, number> = {};
      for (const [k, x] of Object.entries(v.scores)) if (typeof x === "number") s[k] = x;
      out.scores = s;
    } else if (typeof v.score === "number" && typeof v.label === "string") out.scores = { [v.label]: v.score };
    if (typeof v.value === "number") out.scores = { ...out.scores, value: v.value };
    if (isNums(v.embedding)) out.embedding = v.embedding;
    if (typeof v.text === "string") out.text = v.text;
    if (typeof v.generated_text === "string") out.text = v.generated_text;
    return out;
  }
  return {};
}

function inputText(i: unknown): string {
  if (typeof i === "string") return i;
  if (i && typeof i === "object" && !Array.isArray(i) && typeof (i as { text?: unknown }).text === "string")
    return (i as { text: string }).text;
  return JSON.stringify(i) ?? "";
}

export class SampleLog {
  readonly sampleRate: number;
  readonly maxSamples: number;
  private readonly rng: Rng;
  private dirty = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private rows: number;

  private constructor(
    private readonly db: Database,
    readonly path: string,
    o: Required<Omit<SampleLogOptions, "seed">> & { seed: number },
  ) {
    this.sampleRate = o.sampleRate;
    this.maxSamples = o.maxSamples;
    this.rng = new Rng(o.seed);
    this.rows = Number(db.exec("SELECT count(*) FROM samples")[0]?.values[0]?.[0] ?? 0);
    if (o.flushIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.dirty) this.flush();
      }, o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens the log at `path` (creating it at the first flush), refusing a file that is not a sample log. */
  static async open(path: string, options: SampleLogOptions = {}): Promise<SampleLog> {
    const sampleRate = options.sampleRate ?? DEFAULT_LOG_OPTIONS.sampleRate;
    const maxSamples = options.maxSamples ?? DEFAULT_LOG_OPTIONS.maxSamples;
    const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_LOG_OPTIONS.flushIntervalMs;
    if (!(sampleRate >= 0 && sampleRate <= 1))
      throw new ArgumentError(`sample log: the sample rate must be between 0 and 1, got ${sampleRate}`);
    if (!Number.isInteger(maxSamples) || maxSamples < 1)
      throw new ArgumentError(`sample log: maxSamples must be a positive integer, got ${maxSamples}`);
    if (!(flushIntervalMs >= 0))
      throw new ArgumentError(`sample log: flushIntervalMs must be >= 0, got ${flushIntervalMs}`);
    const SQL = await sqlite();
    let db: Database;
    if (existsSync(path)) db = openDatabase(SQL, path);
    else {
      db = new SQL.Database();
      db.exec(SCHEMA);
      db.run("INSERT INTO meta (key, value) VALUES ('kind', ?), ('schema', ?)", [
        JSON.stringify(LOG_KIND),
        String(SCHEMA_VERSION),
      ]);
    }
    const seed = options.seed ?? Date.now() % 4294967296;
    const log = new SampleLog(db, path, { sampleRate, maxSamples, flushIntervalMs, seed });
    log.trim();
    return log;
  }

  /** The number of records held. */
  count(): number {
    return this.rows;
  }

  /** Offers one served prediction: kept with probability sampleRate. Returns whether it was kept. */
  offer(sample: ServedSample): boolean {
    if (this.sampleRate === 0 || this.closed) return false;
    if (this.sampleRate < 1 && this.rng.uniform() >= this.sampleRate) return false;
    this.add(sample);
    return true;
  }

  /** Records a sample whatever the rate (a caller that sampled already, or a test). */
  add(s: ServedSample): void {
    if (this.closed) throw new ArgumentError(`the sample log ${this.path} is closed`);
    const output: Record<string, unknown> = {};
    if (s.label !== undefined && s.label !== null) output.label = s.label;
    if (s.scores) output.scores = s.scores;
    if (s.text !== undefined && s.text !== null) output.text = s.text;
    this.db.run("INSERT INTO samples (time, model, route, input, output, embedding) VALUES (?, ?, ?, ?, ?, ?)", [
      s.time,
      s.model,
      s.route,
      s.input,
      JSON.stringify(output),
      s.embedding ? toBlob(s.embedding) : null,
    ]);
    this.rows++;
    this.trim();
    this.dirty = true;
  }

  private trim(): void {
    if (this.rows <= this.maxSamples) return;
    // ids only grow, so the newest maxSamples are the largest ids
    this.db.run("DELETE FROM samples WHERE id NOT IN (SELECT id FROM samples ORDER BY id DESC LIMIT ?)", [
      this.maxSamples,
    ]);
    this.rows = this.maxSamples;
    this.dirty = true;
  }

  /**
   * The hook a server calls after answering: `onServed(route, inputs, outputs, model)` with one output per input, in
   * any of the shapes normalizeOutput reads. Each input is offered to the sample on its own.
   */
  hook(
    model?: string,
  ): (route: string, inputs: readonly unknown[], outputs: readonly unknown[], servedModel?: string) => void {
    return (route, inputs, outputs, servedModel) => {
      if (this.sampleRate === 0 || this.closed) return;
      const time = Date.now();
      // the server names the model that answered (4th argument); a hook made for one model names it itself
      const name = servedModel ?? model ?? "default";
      inputs.forEach((input, i) => {
        this.offer({ time, model: name, route, input: inputText(input), ...normalizeOutput(outputs[i]) });
      });
    };
  }

  /** The samples held, oldest first (optionally one model's, the newest `limit`). */
  samples(where: { model?: string; limit?: number } = {}): ServedSample[] {
    return selectSamples(this.db, this.path, where);
  }

  /** Writes the log to disk now, atomically (temp file + rename). */
  flush(): void {
    if (this.closed) return;
    writeFileAtomic(this.path, this.db.export());
    this.dirty = false;
  }

  /** Flushes if anything changed and releases the database. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.dirty) this.flush(); // a log that never recorded anything leaves no file
    this.closed = true;
    this.db.close();
  }
}
