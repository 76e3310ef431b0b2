/**
 * Streams a file as numbered lines without holding it in memory. Lines are split on bytes (0x0A never occurs
 * inside a UTF-8 sequence), so a bad byte is pinned to its line: every line is validated as UTF-8 and a bad one
 * is marked (invalidUtf8 = byte offset of the first bad byte) instead of silently decoded with U+FFFD.
 * CRLF and a leading BOM are removed; a lone CR stays part of the text.
 */
import { createReadStream, statSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import { DataError } from "../../util/errors.js";

export interface Line {
  /** 1-based line number. */
  line: number;
  text: string;
  /** Present when the line is not valid UTF-8: byte offset (within the line) of the first invalid byte. */
  invalidUtf8?: number;
}

export interface LineOptions {
  /** Longest line accepted, in bytes; a longer one is an error naming its line (default 256 MiB). */
  maxLineBytes?: number;
  /** Read-chunk size in bytes (tests use a tiny one to exercise lines split across chunks). */
  chunkBytes?: number;
}

const DEFAULT_MAX_LINE = 256 * 1024 * 1024;

/** Throws a DataError naming the file when it does not exist or is a directory. */
export function checkReadable(file: string): number {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new DataError("is a directory, expected a data file", { file });
    size = st.size;
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(e)})`, { file });
  }
  return size;
}

export async function* readLines(file: string, opts: LineOptions = {}): AsyncGenerator<Line> {
  checkReadable(file);
  yield* splitLines(createReadStream(file, { highWaterMark: opts.chunkBytes ?? 1 << 20 }), file, opts);
}

/** The numbered lines of a byte stream (a file, a decompressed file); `file` names it in errors. */
export async function* splitLines(
  stream: AsyncIterable<Buffer> & { destroy(): void },
  file: string,
  opts: LineOptions = {},
): AsyncGenerator<Line> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  try {
    for await (const chunk of stream) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) {
          if (start < chunk.length) {
            pending.push(chunk.subarray(start));
            pendingBytes += chunk.length - start;
            if (pendingBytes > maxLine)
              throw new DataError(
                `line is longer than ${maxLine} bytes`,
                { file, line: lineNo + 1 },
                "is this a binary file, or a file without line breaks?",
              );
          }
          break;
        }
        const piece = chunk.subarray(start, nl);
        const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        if (bytes.length > maxLine)
          throw new DataError(`line is longer than ${maxLine} bytes`, { file, line: lineNo + 1 });
        pending = [];
        pendingBytes = 0;
        yield decodeLine(bytes, ++lineNo);
        start = nl + 1;
      }
    }
    if (pending.length > 0) yield decodeLine(Buffer.concat(pending), ++lineNo);
  } finally {
    // an error, or a consumer that stops early: release the file
    stream.destroy();
  }
}

function decodeLine(bytes: Buffer, line: number): Line {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 13) end--;
  let begin = 0;
  if (line === 1 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) begin = 3;
  const body = bytes.subarray(begin, end);
  const text = body.toString("utf8");
  if (isUtf8(body)) return { line, text };
  return { line, text, invalidUtf8: firstInvalidUtf8(body) + begin };
}

/** Byte offset of the first byte that breaks UTF-8 (overlong forms, surrogates and > U+10FFFF included). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number, min: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** "invalid UTF-8 at byte 17 of the line": the shared wording for readers' bad-row reasons. */
export function invalidUtf8Reason(offset: number): string {
  return `invalid UTF-8 at byte ${offset + 1} of the line (is the file in another encoding, e.g. Latin-1 or UTF-16?)`;
}
