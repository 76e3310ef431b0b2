/**
 * Files of vectors: safetensors (an F32 n×d tensor, "embeddings" by default, with string metadata; other F32/I32
 * tensors beside it, e.g. an HNSW graph) or JSONL (one object per line with an "embedding" array, and any other
 * fields such as the text). Written through io/safetensors; read from the validated header's byte spans straight
 * into typed arrays (no tensor in between: collections of 100k vectors stay one Float32Array).
 */
import { createReadStream, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { extname } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import { Tensor } from "../tensor/index.js";
import { readSafetensorsHeader, saveSafetensors } from "../io/safetensors.js";
import { readRawTensor } from "../io/raw-tensor.js";
import type { Matrix } from "../data/vectors/index.js";

export const EMBEDDINGS_TENSOR = "embeddings";

export interface VectorFile extends Matrix {
  data: Float32Array;
  metadata: Record<string, string>;
  /** JSONL: each line's other fields (text, label, id, ...). */
  records?: Record<string, unknown>[];
}

export type VectorFormat = "safetensors" | "jsonl";

/** The format of a vectors file from its extension. */
export function vectorFormat(path: string): VectorFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".safetensors") return "safetensors";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  throw new ArgumentError(`${path}: a vectors file ends in .safetensors or .jsonl`);
}

/** Writes vectors (and, for JSONL, each row's fields; for safetensors, extra tensors and metadata). */
export function saveVectors(
  path: string,
  m: Matrix,
  opts: {
    metadata?: Record<string, string>;
    records?: readonly Record<string, unknown>[];
    extra?: Record<string, Float32Array | Int32Array>;
  } = {},
): void {
  if (vectorFormat(path) === "jsonl") {
    const lines: string[] = [];
    for (let i = 0; i < m.n; i++) {
      const v = Array.from(m.data.subarray(i * m.d, (i + 1) * m.d), (x) => Math.fround(x));
      lines.push(JSON.stringify({ ...(opts.records?.[i] ?? {}), embedding: v }));
    }
    writeFileSync(path, lines.length ? `${lines.join("\n")}\n` : "");
    return;
  }
  const data = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data);
  const tensors: Record<string, Tensor> = { [EMBEDDINGS_TENSOR]: new Tensor(data, [m.n, m.d]) };
  const dtypes: Record<string, "F32" | "I32"> = { [EMBEDDINGS_TENSOR]: "F32" };
  for (const [k, v] of Object.entries(opts.extra ?? {})) {
    // a 1-element minimum: safetensors holds empty tensors, the backend does not
    tensors[k] = new Tensor(v.length ? v : v instanceof Int32Array ? new Int32Array(1) : new Float32Array(1), [
      Math.max(1, v.length),
    ]);
    dtypes[k] = v instanceof Int32Array ? "I32" : "F32";
  }
  saveSafetensors(path, tensors, { metadata: opts.metadata ?? {}, dtypes });
}

/** Reads a vectors file (errors name the file, and for JSONL the line and field). */
export async function loadVectors(path: string): Promise<VectorFile> {
  if (vectorFormat(path) === "safetensors") {
    const header = readSafetensorsHeader(path);
    const info = header.tensors.find((t) => t.name === EMBEDDINGS_TENSOR) ?? header.tensors[0];
    if (!info) throw new DataError("holds no tensor", { file: path });
    if (info.shape.length !== 2)
      throw new DataError(`tensor "${info.name}" has shape [${info.shape.join(", ")}]; vectors are n×d`, {
        file: path,
      });
    const data = readRawTensor(path, info.name).data as Float32Array;
    return { data, n: info.shape[0], d: info.shape[1], metadata: { ...header.metadata } };
  }
  const rows: number[][] = [];
  const records: Record<string, unknown>[] = [];
  const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === "") continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new DataError(`not JSON (${(e as Error).message})`, { file: path, line });
    }
    const { embedding, ...rest } = obj;
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === "number" && Number.isFinite(x)))
      throw new DataError(`"embedding" must be an array of finite numbers`, { file: path, line, field: "embedding" });
    if (rows.length && embedding.length !== rows[0].length)
      throw new DataError(`"embedding" has ${embedding.length} values, the first line's ${rows[0].length}`, {
        file: path,
        line,
        field: "embedding",
      });
    rows.push(embedding as number[]);
    records.push(rest);
  }
  if (!rows.length) throw new DataError("holds no vectors", { file: path });
  const d = rows[0].length;
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => data.set(r, i * d));
  return { data, n: rows.length, d, metadata: {}, records };
}
