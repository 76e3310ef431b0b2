/**
 * Word vectors on disk.
 * - word2vec text format (word2vec.c -binary 0, gensim save_word2vec_format): a "<count> <dim>" header line,
 *   then "word v1 ... vD" per line. Written with the shortest decimal that reads back as the same float32, so a
 *   round trip is exact. The reader also takes word2vec.c's trailing space, CRLF, and GloVe's header-less files.
 * - word2vec binary format (word2vec.c -binary 1, e.g. GoogleNews vectors): the same header, then per word
 *   "word " followed by D little-endian float32 and a newline.
 * - safetensors: tensor `embeddings` [V, D] f32 (and `counts` [V] when known), the words one per line in a
 *   vocab file beside it (vocab.txt, named in the metadata), row i ↔ line i.
 * Large files are streamed both ways; every write goes to a temp file that is renamed into place.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { ArgumentError, DataError, FormatError } from "../../util/errors.js";
import { writeFileAtomic, writeStreamAtomic } from "../../util/atomic.js";
import { Tensor } from "../../tensor/index.js";
import { SafetensorsFile, saveSafetensors } from "../../io/safetensors.js";
import { readLines, checkReadable } from "../../data/readers/lines.js";
import { WordVectors } from "./vectors.js";

/** File names inside a vectors directory. */
export const VECTORS_TEXT = "vectors.txt";
export const VECTORS_BINARY = "vectors.bin";
export const VECTORS_SAFETENSORS = "vectors.safetensors";
export const VOCAB_FILE = "vocab.txt";

export interface LoadOptions {
  /** Read only the first `limit` vectors (as gensim's limit; the most frequent ones in a word2vec file). */
  limit?: number;
}

// ---- number formatting

/** The shortest decimal that parses back to exactly this float32 (what repr() of a numpy float32 prints). */
export function formatF32(x: number): string {
  if (!Number.isFinite(x))
    throw new ArgumentError(`cannot write ${x} in word vectors (did training diverge? try a smaller alpha)`);
  // from 6 digits up: a shorter exact form (0.5) shows as 6 digits plus zeros (0.500000), which trimming removes
  for (let p = 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return trimZeros(s);
  }
  return trimZeros(x.toPrecision(9)); // 9 significant digits always identify a float32
}

function trimZeros(s: string): string {
  // "0.500000" → "0.5", "1.00e-7" → "1e-7", "100" stays
  return s.replace(/(\.\d*?)0+(?=$|e)/, "$1").replace(/\.(?=$|e)/, "");
}

// ---- writing

function checkWords(wv: WordVectors, what: string, bad: RegExp, why: string): void {
  wv.words.forEach((w, i) => {
    if (w === "" || bad.test(w))
      throw new ArgumentError(
        `${what}: word ${i} (${JSON.stringify(w)}) is empty or contains ${why}`,
        "such a word cannot be stored in this format; rename or drop it",
      );
  });
}

export function saveWord2VecText(path: string, wv: WordVectors): void {
  checkWords(wv, `cannot write ${path}`, /\s/u, "whitespace");
  const D = wv.dim;
  writeStreamAtomic(path, (write) => {
    write(`${wv.size} ${D}\n`);
    let buf = "";
    for (let i = 0; i < wv.size; i++) {
      let line = wv.words[i]!;
      for (let d = 0; d < D; d++) line += " " + formatF32(wv.data[i * D + d]!);
      buf += line + "\n";
      if (buf.length > 1 << 20) {
        write(buf);
        buf = "";
      }
    }
    write(buf);
  });
}

export function saveWord2VecBinary(path: string, wv: WordVectors): void {
  checkWords(wv, `cannot write ${path}`, /[ \n]/, "a space or newline");
  const D = wv.dim;
  writeStreamAtomic(path, (write) => {
    write(`${wv.size} ${D}\n`);
    const row = Buffer.alloc(4 * D);
    for (let i = 0; i < wv.size; i++) {
      write(wv.words[i]! + " ");
      for (let d = 0; d < D; d++) row.writeFloatLE(wv.data[i * D + d]!, 4 * d);
      write(row);
      write("\n");
    }
  });
}

/** Writes `embeddings` (and `counts`) to path and the words to a vocab file in the same directory. */
export function saveWordVectorsSafetensors(
  path: string,
  wv: WordVectors,
  opts: { vocabFile?: string; metadata?: Record<string, string> } = {},
): void {
  const vocabFile = opts.vocabFile ?? VOCAB_FILE;
  checkWords(wv, `cannot write ${vocabFile}`, /[\r\n]/, "a line break");
  const tensors: Record<string, Tensor> = { embeddings: new Tensor(wv.data, [wv.size, wv.dim]) };
  if (wv.counts)
    tensors.counts = new Tensor(
      Int32Array.from(wv.counts, (c) => Math.min(c, 2147483647)),
      [wv.size],
    );
  writeFileAtomic(join(dirname(path), vocabFile), wv.words.join("\n") + "\n");
  saveSafetensors(path, tensors, {
    metadata: { ...opts.metadata, vocab_file: vocabFile, vocab_size: String(wv.size), dim: String(wv.dim) },
  });
}

/** A vectors directory: vectors.txt, vectors.safetensors + vocab.txt, and vectors.bin if asked for. */
export function saveWordVectors(
  dir: string,
  wv: WordVectors,
  opts: { binary?: boolean; metadata?: Record<string, string> } = {},
): string[] {
  mkdirSync(dir, { recursive: true });
  saveWord2VecText(join(dir, VECTORS_TEXT), wv);
  saveWordVectorsSafetensors(join(dir, VECTORS_SAFETENSORS), wv, { metadata: opts.metadata });
  const files = [VECTORS_TEXT, VECTORS_SAFETENSORS, VOCAB_FILE];
  if (opts.binary) {
    saveWord2VecBinary(join(dir, VECTORS_BINARY), wv);
    files.push(VECTORS_BINARY);
  }
  return files.map((f) => join(dir, f));
}

// ---- reading

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Infinity;
  if (!Number.isInteger(limit) || limit < 1)
    throw new ArgumentError(`word vectors: limit must be a positive integer, got ${limit}`);
  return limit;
}

/** Parses a "<count> <dim>" header; null when the line is not one (a header-less GloVe file). */
function parseHeader(line: string): { count: number; dim: number } | null {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
  return m ? { count: Number(m[1]), dim: Number(m[2]) } : null;
}

/** Reads the word2vec text format (also word2vec.c's and gensim's output, and GloVe's header-less files). */
export async function loadWord2VecText(path: string, opts: LoadOptions = {}): Promise<WordVectors> {
  const limit = checkLimit(opts.limit);
  const words: string[] = [];
  let data = new Float32Array(0);
  let header: { count: number; dim: number } | null = null;
  let dim = 0;
  let rows = 0;
  for await (const { line, text, invalidUtf8 } of readLines(path)) {
    if (invalidUtf8 !== undefined)
      throw new DataError(
        `invalid UTF-8 at byte ${invalidUtf8 + 1}`,
        { file: path, line },
        "word2vec text files are UTF-8",
      );
    const body = text.replace(/\s+$/u, ""); // word2vec.c ends each line with a space
    if (line === 1) {
      header = parseHeader(body);
      if (header) {
        if (header.dim === 0) throw new DataError(`header "${body}" gives 0 dimensions`, { file: path, line });
        dim = header.dim;
        data = new Float32Array(Math.min(header.count, limit) * dim);
        continue;
      }
    }
    if (rows >= limit) break;
    if (body === "") {
      if (header) throw new DataError("empty line where a vector was expected", { file: path, line });
      continue;
    }
    const parts = body.split(" ");
    if (dim === 0) dim = parts.length - 1; // header-less: the first row decides
    if (dim === 0)
      throw new DataError(
        `expected a word and its numbers, found only ${JSON.stringify(body.slice(0, 40))}`,
        { file: path, line },
        "is this a word2vec text file?",
      );
    if (parts.length !== dim + 1) {
      throw new DataError(
        `expected a word and ${dim} numbers, found ${parts.length} space-separated fields`,
        { file: path, line },
        "is this really a word2vec text file (or a binary one: use a .bin name)?",
      );
    }
    if (header && rows >= header.count)
      throw new DataError(`more vectors than the ${header.count} the header announces`, { file: path, line });
    if ((rows + 1) * dim > data.length) {
      const grown = new Float32Array(Math.max(1024 * dim, data.length * 2));
      grown.set(data);
      data = grown;
    }
    for (let d = 0; d < dim; d++) {
      const v = Number(parts[d + 1]);
      if (!Number.isFinite(v) || parts[d + 1] === "")
        throw new DataError(`value ${d + 1} of "${parts[0]}" is ${JSON.stringify(parts[d + 1])}, not a finite number`, {
          file: path,
          line,
        });
      data[rows * dim + d] = v;
    }
    words.push(parts[0]!);
    rows++;
  }
  if (header && rows < Math.min(header.count, limit)) {
    throw new DataError(
      `the header announces ${header.count} vectors but the file holds ${rows}`,
      { file: path },
      "the file is truncated, or its count is wrong",
    );
  }
  if (rows === 0) throw new DataError("no vectors in the file", { file: path });
  return fromRows(words, data.subarray(0, rows * dim).slice(), dim, path);
}

/** word2vec.c's binary format, read in chunks so multi-gigabyte files (GoogleNews) need no single buffer. */
export function loadWord2VecBinary(path: string, opts: LoadOptions = {}): WordVectors {
  const limit = checkLimit(opts.limit);
  checkReadable(path);
  const r = new ChunkReader(path);
  try {
    const headerText = r.until(0x0a, 100).toString("utf8");
    const header = parseHeader(headerText);
    if (!header || header.dim === 0)
      throw new DataError(
        `first line ${JSON.stringify(headerText.slice(0, 40))} is not a "<count> <dim>" header`,
        { file: path, line: 1 },
        "is this a word2vec binary file?",
      );
    const { count, dim } = header;
    const n = Math.min(count, limit);
    const words: string[] = [];
    const data = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      r.skip(0x0a); // word2vec.c writes a newline after each vector, some writers do not
      const word = r.until(0x20, 1 << 16, `vector ${i + 1} of ${count}`).toString("utf8");
      const raw = r.exact(4 * dim, `the numbers of "${word}" (vector ${i + 1} of ${count})`);
      for (let d = 0; d < dim; d++) data[i * dim + d] = raw.readFloatLE(4 * d);
      words.push(word);
    }
    return fromRows(words, data, dim, path);
  } finally {
    r.close();
  }
}

/** Reads `embeddings` [V, D] and its vocab file. */
export function loadWordVectorsSafetensors(path: string, opts: LoadOptions = {}): WordVectors {
  const limit = checkLimit(opts.limit);
  const f = SafetensorsFile.open(path);
  let emb: Tensor, counts: Tensor | null;
  try {
    if (!f.info("embeddings"))
      throw new FormatError(
        `${path}: no tensor named "embeddings"`,
        `it holds ${f.names.map((s) => JSON.stringify(s)).join(", ") || "no tensors"}`,
      );
    emb = f.get("embeddings");
    counts = f.info("counts") ? f.get("counts") : null;
  } finally {
    f.close();
  }
  if (emb.rank !== 2 || emb.dtype !== "f32")
    throw new FormatError(
      `${path}: "embeddings" must be a [vocab, dim] float matrix, got ${emb.dtype} [${emb.shape.join(", ")}]`,
    );
  const [V, D] = emb.shape as [number, number];
  const vocabPath = join(dirname(path), f.metadata.vocab_file ?? VOCAB_FILE);
  if (!existsSync(vocabPath))
    throw new FormatError(
      `${path}: vocabulary file ${vocabPath} is missing`,
      "the words of the rows live in a vocab.txt beside the safetensors file, one per line",
    );
  const lines = readFileSync(vocabPath, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const words = lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (words.length !== V)
    throw new FormatError(
      `${vocabPath} has ${words.length} words but ${path} has ${V} rows`,
      "the two files must come from the same save",
    );
  const n = Math.min(V, limit);
  const c = counts && counts.size === V ? Float64Array.from(counts.toArray().slice(0, n)) : null;
  return new WordVectors(words.slice(0, n), emb.toFloat32Array().slice(0, n * D), D, c);
}

/**
 * Loads vectors from a file or a directory written by saveWordVectors. A directory prefers vectors.safetensors,
 * then vectors.txt, then vectors.bin; a file is read by its extension (.safetensors, .bin, anything else as text).
 */
export async function loadWordVectors(
  path: string,
  opts: LoadOptions & { binary?: boolean } = {},
): Promise<WordVectors> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ArgumentError(
      `word vectors: ${path} does not exist`,
      "pass the directory written by `graft word2vec train --out DIR`, or a .txt/.bin/.safetensors vectors file",
    );
  }
  if (st.isDirectory()) {
    for (const name of [VECTORS_SAFETENSORS, VECTORS_TEXT, VECTORS_BINARY]) {
      if (existsSync(join(path, name))) return loadWordVectors(join(path, name), opts);
    }
    throw new ArgumentError(
      `word vectors: ${path} holds none of ${VECTORS_SAFETENSORS}, ${VECTORS_TEXT}, ${VECTORS_BINARY}`,
      "is this the directory given to `graft word2vec train --out`?",
    );
  }
  const ext = extname(path).toLowerCase();
  if (ext === ".safetensors") return loadWordVectorsSafetensors(path, opts);
  if (opts.binary ?? ext === ".bin") return loadWord2VecBinary(path, opts);
  return loadWord2VecText(path, opts);
}

function fromRows(words: string[], data: Float32Array, dim: number, path: string): WordVectors {
  // gensim keeps the first of duplicate words and warns; a silent choice would hide a broken file, so refuse
  const seen = new Map<string, number>();
  words.forEach((w, i) => {
    const j = seen.get(w);
    if (j !== undefined)
      throw new DataError(`word ${JSON.stringify(w)} appears twice (vectors ${j + 1} and ${i + 1})`, { file: path });
    seen.set(w, i);
  });
  return new WordVectors(words, data, dim);
}

/** Sequential reads of a file through a 1 MiB window. */
class ChunkReader {
  private readonly fd: number;
  private buf = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(private readonly path: string) {
    this.fd = openSync(path, "r");
  }

  /** Ensures at least n unread bytes are buffered (fewer only at end of file); returns how many are. */
  private fill(n: number): number {
    if (this.end - this.start >= n || this.eof) return this.end - this.start;
    if (n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(n, 2 * this.buf.length));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    while (this.end < n && !this.eof) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end;
  }

  skip(byte: number): void {
    while (this.fill(1) > 0 && this.buf[this.start] === byte) this.start++;
  }

  /** Bytes up to (not including) `byte`, which is consumed; at most max bytes. */
  until(byte: number, max: number, what = "the header"): Buffer {
    for (let scanned = 0; ; ) {
      const have = this.fill(scanned + 1);
      const at = this.buf.indexOf(byte, this.start + scanned);
      if (at >= 0 && at < this.end) {
        const out = Buffer.from(this.buf.subarray(this.start, at));
        this.start = at + 1;
        return out;
      }
      if (have <= scanned)
        throw new DataError(
          `file ends inside ${what}`,
          { file: this.path },
          "the file is truncated, or its header count is wrong",
        );
      scanned = have;
      if (scanned > max)
        throw new DataError(
          `no ${byte === 0x20 ? "space" : "newline"} within ${max} bytes while reading ${what}`,
          { file: this.path },
          "is this a word2vec binary file?",
        );
    }
  }

  exact(n: number, what: string): Buffer {
    if (this.fill(n) < n)
      throw new DataError(
        `file ends inside ${what}`,
        { file: this.path },
        "the file is truncated, or its header count is wrong",
      );
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
