/**
 * Crash-safe file writes: write a temp file beside the target, fsync, then rename over it.
 * A reader never sees a half-written file; an interrupted write leaves the old file intact.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, rmSync } from "node:fs";
import { dirname, basename, join } from "node:path";

let counter = 0;

/** Streams chunks into a temp file beside `path` (fill calls write as often as it likes), then renames it over `path`. */
export function writeStreamAtomic(path: string, fill: (write: (chunk: string | Uint8Array) => void) => void): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${counter++}`);
  const fd = openSync(tmp, "w");
  try {
    fill((chunk) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeStreamAtomic(path, (write) => write(data));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
