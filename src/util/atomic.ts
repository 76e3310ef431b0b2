/**
 * Crash-safe file writes: write a temp file beside the target, fsync, then rename over it.
 * A reader never sees a half-written file; an interrupted write leaves the old file intact, and a failed one
 * (a full disk) removes its temp file and says which path needed how much space.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  writeSync,
  mkdirSync,
  rmSync,
  statfsSync,
} from "node:fs";
import { dirname, basename, join } from "node:path";
import { GraftError } from "./errors.js";

let counter = 0;

/** The write call of the atomic writers; a test replaces it to simulate a full disk (see `simulateWriteFailure`). */
export const atomicIo: { writeSync: (fd: number, bytes: Uint8Array, offset: number, length: number) => number } = {
  writeSync: (fd, bytes, offset, length) => writeSync(fd, bytes, offset, length),
};

/** A disk-full error: names the path, the space it needed (when known) and what is free on that file system. */
export class DiskFullError extends GraftError {
  constructor(
    readonly path: string,
    readonly neededBytes: number | undefined,
    readonly freeBytes: number | undefined,
  ) {
    super(
      `no space left on the device writing ${path}` +
        (neededBytes !== undefined ? `: it needs about ${formatBytes(neededBytes)}` : "") +
        (freeBytes !== undefined
          ? `${neededBytes !== undefined ? " and" : ":"} ${formatBytes(freeBytes)} are free`
          : ""),
      "free space on that disk (or write the run elsewhere with --output) and resume with --resume; nothing half-written was left behind",
    );
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Bytes free for this user on the file system holding `path` (its nearest existing ancestor), or undefined. */
export function freeBytes(path: string): number | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Whether an error is a full disk (ENOSPC, or the quota's EDQUOT), raw or already wrapped. */
export function isDiskFull(e: unknown): boolean {
  if (e instanceof DiskFullError) return true;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/**
 * Streams chunks into a temp file beside `path` (fill calls write as often as it likes), then renames it over `path`.
 * `size` (the bytes the file will hold, when known) is named in the error of a full disk.
 */
export function writeStreamAtomic(
  path: string,
  fill: (write: (chunk: string | Uint8Array) => void) => void,
  size?: number,
): void {
  const file = openAtomic(path);
  try {
    fill(file.write);
  } catch (e) {
    file.abort(e, size);
  }
  file.commit();
}

/** writeStreamAtomic for a fill that awaits (e.g. one that reads other files as it writes). */
export async function writeStreamAtomicAsync(
  path: string,
  fill: (write: (chunk: string | Uint8Array) => void) => Promise<void>,
  size?: number,
): Promise<void> {
  const file = openAtomic(path);
  try {
    await fill(file.write);
  } catch (e) {
    file.abort(e, size);
  }
  file.commit();
}

/** A temp file beside `path`: write to it, then commit (fsync, rename over `path`) or abort (remove it, rethrow). */
function openAtomic(path: string) {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${counter++}`);
  const fd = openSync(tmp, "w");
  return {
    write(chunk: string | Uint8Array): void {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      let off = 0;
      while (off < bytes.length) off += atomicIo.writeSync(fd, bytes, off, bytes.length - off);
    },
    abort(e: unknown, size?: number): never {
      try {
        closeSync(fd);
      } catch {
        // already closed, or the close itself failed: the temp file goes either way
      }
      rmSync(tmp, { force: true });
      if (isDiskFull(e) && !(e instanceof DiskFullError)) throw new DiskFullError(path, size, freeBytes(dir));
      throw e;
    },
    commit(): void {
      try {
        fsyncSync(fd);
        closeSync(fd);
      } catch (e) {
        this.abort(e);
      }
      renameSync(tmp, path);
    },
  };
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const size = typeof data === "string" ? Buffer.byteLength(data, "utf8") : data.length;
  writeStreamAtomic(path, (write) => write(data), size);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
