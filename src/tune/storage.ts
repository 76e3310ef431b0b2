/**
 * A study on disk: `study.sqlite`, an SQLite database (sql.js: SQLite compiled to WebAssembly, so nothing is
 * downloaded or compiled at install time). sql.js keeps the database in memory; every durable change writes the
 * whole database to a temporary file and renames it over study.sqlite, so the file on disk is always a complete,
 * consistent database — a crash loses at most the last intermediate values (which are written in batches), never a
 * finished trial. One process owns a study at a time (`study.sqlite.lock`); executors send results to it.
 *
 * Tables: meta (key → JSON), trials (one row per trial), intermediate (trial, step, value).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from "sql.js";
import { writeFileAtomic } from "../util/atomic.js";
import { FormatError } from "../util/errors.js";
import type { Trial, TrialState } from "./types.js";

const SCHEMA_VERSION = 1;
const FLUSH_DELAY_MS = 250;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, vals TEXT, error TEXT,
  attrs TEXT NOT NULL, system TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT, started_at REAL, finished_at REAL
);
CREATE TABLE IF NOT EXISTS intermediate (trial INTEGER NOT NULL, step REAL NOT NULL, value REAL, PRIMARY KEY (trial, step));
`;

let sqlPromise: Promise<SqlJsStatic> | null = null;
function sqlite(): Promise<SqlJsStatic> {
  sqlPromise ??= initSqlJs();
  return sqlPromise;
}

/** Where a study keeps its record. */
export interface StudyRecord {
  readonly path: string | null;
  getMeta<T>(key: string): T | undefined;
  /** `lazy`: written with the next flush (a new study's record is written once, whole). */
  setMeta(key: string, value: unknown, lazy?: boolean): void;
  loadTrials(): Trial[];
  saveTrial(t: Trial, lazy?: boolean): void;
  addIntermediate(trial: number, step: number, value: number): void;
  clearIntermediate(trial: number): void;
  flush(): void;
  close(): void;
}

/** A study without a directory: the Study's own objects are the record, nothing is written. */
export class MemoryRecord implements StudyRecord {
  readonly path = null;
  private readonly meta = new Map<string, string>();
  getMeta<T>(key: string): T | undefined {
    const v = this.meta.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  setMeta(key: string, value: unknown): void {
    this.meta.set(key, JSON.stringify(value));
  }
  loadTrials(): Trial[] {
    return [];
  }
  saveTrial(): void {}
  addIntermediate(): void {}
  clearIntermediate(): void {}
  flush(): void {}
  close(): void {}
}

export class StudyStorage implements StudyRecord {
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly db: Database,
    readonly path: string | null,
  ) {}

  /** Opens (or creates) the database at `path`. */
  static async open(path: string): Promise<StudyStorage> {
    const SQL = await sqlite();
    let db: Database;
    if (existsSync(path)) {
      try {
        db = new SQL.Database(readFileSync(path));
        db.exec("SELECT count(*) FROM sqlite_master");
      } catch (e) {
        throw new FormatError(`${path} is not a readable SQLite database: ${(e as Error).message}`);
      }
    } else db = new SQL.Database();
    acquireLock(path);
    const s = new StudyStorage(db, path);
    try {
      db.exec(SCHEMA);
      const version = s.getMeta<number>("schema");
      // a new database reaches the disk only with its first flush, when the study has recorded what it is
      if (version === undefined) s.setMeta("schema", SCHEMA_VERSION, true);
      else if (version !== SCHEMA_VERSION)
        throw new FormatError(`${path}: study schema version ${version}, this graft reads version ${SCHEMA_VERSION}`);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  getMeta<T>(key: string): T | undefined {
    const r = this.db.exec("SELECT value FROM meta WHERE key = ?", [key]);
    const v = r[0]?.values[0]?.[0];
    return typeof v === "string" ? (JSON.parse(v) as T) : undefined;
  }

  setMeta(key: string, value: unknown, lazy = false): void {
    this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, JSON.stringify(value)]);
    this.dirty = true;
    if (!lazy) this.flush();
  }

  loadTrials(): Trial[] {
    const rows =
      this.db.exec(
        "SELECT number, state, params, vals, error, attrs, system, attempt, worker, started_at, finished_at FROM trials ORDER BY number",
      )[0]?.values ?? [];
    const trials = rows.map(
      (r): Trial => ({
        number: r[0] as number,
        state: r[1] as TrialState,
        params: JSON.parse(r[2] as string),
        values: r[3] === null ? null : JSON.parse(r[3] as string),
        error: r[4] as string | null,
        attrs: JSON.parse(r[5] as string),
        system: JSON.parse(r[6] as string),
        attempt: r[7] as number,
        worker: r[8] as string | null,
        startedAt: r[9] as number | null,
        finishedAt: r[10] as number | null,
        intermediate: [],
      }),
    );
    const byNumber = new Map(trials.map((t) => [t.number, t]));
    for (const [trial, step, value] of this.db.exec(
      "SELECT trial, step, value FROM intermediate ORDER BY trial, step",
    )[0]?.values ?? []) {
      byNumber
        .get(trial as number)
        ?.intermediate.push({ step: step as number, value: value === null ? NaN : (value as number) });
    }
    return trials;
  }

  /** Writes the trial's row (not its intermediate values); durable unless `lazy`. */
  saveTrial(t: Trial, lazy = false): void {
    const row: SqlValue[] = [
      t.number,
      t.state,
      JSON.stringify(t.params),
      t.values === null ? null : JSON.stringify(t.values),
      t.error,
      JSON.stringify(t.attrs),
      JSON.stringify(t.system),
      t.attempt,
      t.worker,
      t.startedAt,
      t.finishedAt,
    ];
    this.db.run(
      "INSERT OR REPLACE INTO trials (number, state, params, vals, error, attrs, system, attempt, worker, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
      row,
    );
    if (lazy) this.flushSoon();
    else this.flush();
  }

  /** Intermediate values are written in batches (a crash may lose the last quarter second of them). */
  addIntermediate(trial: number, step: number, value: number): void {
    this.db.run("INSERT OR REPLACE INTO intermediate (trial, step, value) VALUES (?, ?, ?)", [
      trial,
      step,
      Number.isNaN(value) ? null : value,
    ]);
    this.flushSoon();
  }

  clearIntermediate(trial: number): void {
    this.db.run("DELETE FROM intermediate WHERE trial = ?", [trial]);
    this.flushSoon();
  }

  private flushSoon(): void {
    this.dirty = true;
    if (!this.path || this.timer || this.closed) return;
    this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** Writes the database to disk now (atomically). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.path || this.closed) return;
    writeFileAtomic(this.path, this.db.export());
    this.dirty = false;
  }

  close(): void {
    if (this.closed) return;
    if (this.dirty) this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.closed = true;
    this.db.close();
    if (this.path) releaseLock(this.path);
  }
}

interface LockInfo {
  pid: number;
  host: string;
}

/** Studies this process has open (its own lock file cannot tell a second open apart from the first). */
const openHere = new Set<string>();

function acquireLock(dbPath: string): void {
  const lock = `${dbPath}.lock`;
  if (openHere.has(dbPath))
    throw new FormatError(
      `the study ${dbPath} is in use by process ${process.pid} (this one)`,
      "close the other Study object first",
    );
  if (existsSync(lock)) {
    let info: LockInfo | null = null;
    try {
      info = JSON.parse(readFileSync(lock, "utf8")) as LockInfo;
    } catch {
      // a torn lock file: its owner died while writing it
    }
    if (info && info.host !== hostname()) {
      throw new FormatError(
        `the study ${dbPath} is locked by process ${info.pid} on ${info.host}`,
        `if that process is gone, delete ${lock}`,
      );
    }
    if (info && info.pid !== process.pid && alive(info.pid)) {
      throw new FormatError(
        `the study ${dbPath} is in use by process ${info.pid}`,
        "wait for it to finish, or stop it; a study has one coordinator (add workers with --parallel or --redis instead)",
      );
    }
  }
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname() }));
  openHere.add(dbPath);
}

function releaseLock(dbPath: string): void {
  openHere.delete(dbPath);
  rmSync(`${dbPath}.lock`, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
