/**
 * Model weights in a directory, as Hugging Face lays them out: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json` ({ metadata: { total_size }, weight_map: { tensor: shard file } }).
 * PyTorch pickles (`pytorch_model.bin`) are refused with a way out: pickles can run code on load, and
 * the Hub converts most models to safetensors already.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FormatError, ArgumentError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import type { Tensor } from "../tensor/index.js";
import { DTYPE_BYTES } from "./dtypes.js";
import {
  SafetensorsFile,
  saveSafetensors,
  entriesOf,
  fileDType,
  type ReadOptions,
  type SaveOptions,
  type TensorMap,
} from "./safetensors.js";

export const WEIGHTS_NAME = "model.safetensors";
export const WEIGHTS_INDEX_NAME = "model.safetensors.index.json";
const PICKLE_NAMES = ["pytorch_model.bin", "pytorch_model.bin.index.json"];
const OTHER_NAMES = ["tf_model.h5", "flax_model.msgpack", "model.ckpt.index"];

export interface ShardIndex {
  metadata: { total_size?: number; [key: string]: unknown };
  weight_map: Record<string, string>;
}

/** Which weights file(s) a directory holds; throws a FormatError saying what is there instead when none is usable. */
export function findWeights(dir: string): { kind: "single"; file: string } | { kind: "sharded"; index: string } {
  if (existsSync(join(dir, WEIGHTS_NAME))) return { kind: "single", file: join(dir, WEIGHTS_NAME) };
  if (existsSync(join(dir, WEIGHTS_INDEX_NAME))) return { kind: "sharded", index: join(dir, WEIGHTS_INDEX_NAME) };
  const pickle = PICKLE_NAMES.find((n) => existsSync(join(dir, n)));
  if (pickle) {
    throw new FormatError(
      `${join(dir, pickle)}: PyTorch pickle checkpoints are not supported (loading a pickle can run arbitrary code); graft reads ${WEIGHTS_NAME}`,
      `convert it once with Python: python -c "from transformers import AutoModel as M; M.from_pretrained('${dir}').save_pretrained('${dir}-safetensors', safe_serialization=True)" ` +
        `(or download the model's ${WEIGHTS_NAME}; most Hub models have one, some under the refs/pr/ revision of their automatic conversion)`,
    );
  }
  const other = OTHER_NAMES.find((n) => existsSync(join(dir, n)));
  if (other)
    throw new FormatError(
      `${join(dir, other)}: TensorFlow/Flax checkpoints are not supported; graft reads ${WEIGHTS_NAME}`,
      "convert it with transformers' save_pretrained(..., safe_serialization=True)",
    );
  const listing = existsSync(dir) ? readdirSync(dir).slice(0, 12).join(", ") : "(directory does not exist)";
  throw new FormatError(`${dir}: no ${WEIGHTS_NAME} or ${WEIGHTS_INDEX_NAME} (found: ${listing || "nothing"})`);
}

export function readShardIndex(path: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FormatError(`${path}: cannot read the shard index (${(e as Error).message})`);
  }
  const j = json as Partial<ShardIndex> | null;
  if (!j || typeof j !== "object" || !j.weight_map || typeof j.weight_map !== "object" || Array.isArray(j.weight_map)) {
    throw new FormatError(`${path}: expected { "metadata": {...}, "weight_map": { tensor: shard file } }`);
  }
  for (const [name, file] of Object.entries(j.weight_map)) {
    // Shards must sit beside the index: a path that climbs out of the directory is refused.
    if (
      typeof file !== "string" ||
      file === "" ||
      file.includes("/") ||
      file.includes("\\") ||
      file === "." ||
      file === ".."
    ) {
      throw new FormatError(
        `${path}: weight_map["${name}"] must be a file name in the same directory, got ${JSON.stringify(file)}`,
      );
    }
  }
  const metadata = j.metadata && typeof j.metadata === "object" ? j.metadata : {};
  return { metadata, weight_map: j.weight_map };
}

/** Loads every tensor of a sharded checkpoint, checking each shard holds exactly what the index says. */
export function loadShardedSafetensors(indexPath: string, opts: ReadOptions = {}): Map<string, Tensor> {
  const index = readShardIndex(indexPath);
  const dir = join(indexPath, "..");
  const byShard = new Map<string, Set<string>>();
  for (const [name, file] of Object.entries(index.weight_map)) {
    if (!byShard.has(file)) byShard.set(file, new Set());
    byShard.get(file)!.add(name);
  }
  const out = new Map<string, Tensor>();
  let totalBytes = 0;
  for (const [file, names] of byShard) {
    const path = join(dir, file);
    if (!existsSync(path))
      throw new FormatError(
        `${indexPath}: shard ${file} (holding ${names.size} tensors, e.g. "${names.values().next().value}") is missing`,
        "download the checkpoint again",
      );
    const f = SafetensorsFile.open(path);
    try {
      for (const name of names) {
        if (!f.info(name))
          throw new FormatError(`${path}: tensor "${name}" listed in ${indexPath} is not in this shard`);
      }
      for (const info of f.header.tensors) {
        if (!names.has(info.name))
          throw new FormatError(`${path}: tensor "${info.name}" is not listed for this shard in ${indexPath}`);
        totalBytes += info.end - info.begin;
        out.set(info.name, f.get(info.name, opts));
      }
    } finally {
      f.close();
    }
  }
  const declared = index.metadata.total_size;
  // transformers writes the sum of tensor bytes; some tools round or omit it, so only a larger claim is an error.
  if (typeof declared === "number" && declared > 0 && totalBytes > 0 && declared < totalBytes) {
    throw new FormatError(`${indexPath}: metadata.total_size is ${declared} bytes but the shards hold ${totalBytes}`);
  }
  return out;
}

/** Loads the weights of a model directory: `model.safetensors` or its shards. */
export function loadCheckpoint(dir: string, opts: ReadOptions = {}): Map<string, Tensor> {
  const w = findWeights(dir);
  if (w.kind === "single") {
    const f = SafetensorsFile.open(w.file);
    try {
      return f.all(opts);
    } finally {
      f.close();
    }
  }
  return loadShardedSafetensors(w.index, opts);
}

export interface SaveCheckpointOptions extends SaveOptions {
  /** Split into shards of at most this many data bytes (default: one file). A tensor larger than this gets a shard of its own. */
  maxShardBytes?: number;
}

/**
 * Writes weights into a model directory the way transformers' save_pretrained does: one `model.safetensors`,
 * or `model-0000i-of-0000n.safetensors` shards plus the index. Stale weight files from an earlier save are removed.
 * Returns the files written.
 */
export function saveCheckpoint(dir: string, tensors: TensorMap, opts: SaveCheckpointOptions = {}): string[] {
  const entries = entriesOf(tensors);
  const max = opts.maxShardBytes ?? Infinity;
  if (!(max > 0)) throw new ArgumentError(`saveCheckpoint: maxShardBytes must be positive, got ${max}`);
  const bytesOf = (name: string, t: Tensor): number => t.size * (DTYPE_BYTES[fileDType(name, t, opts)] ?? 4);
  const shards: [string, Tensor][][] = [[]];
  let current = 0;
  for (const [name, t] of entries) {
    const b = bytesOf(name, t);
    if (current + b > max && shards[shards.length - 1]!.length > 0) {
      shards.push([]);
      current = 0;
    }
    shards[shards.length - 1]!.push([name, t]);
    current += b;
  }
  if (shards.length === 1) {
    saveSafetensors(join(dir, WEIGHTS_NAME), new Map(shards[0]), opts);
    removeStaleWeights(dir, [WEIGHTS_NAME]);
    return [WEIGHTS_NAME];
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, "0");
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  let total = 0;
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    total += saveSafetensors(join(dir, file), new Map(shard), opts);
    for (const [name] of shard) weightMap[name] = file;
    files.push(file);
  });
  const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeJsonAtomic(join(dir, WEIGHTS_INDEX_NAME), { metadata: { total_size: total }, weight_map: sorted });
  files.push(WEIGHTS_INDEX_NAME);
  removeStaleWeights(dir, files);
  return files;
}

/** Removes weight files of an earlier save that the new one did not write (only after the new files are in place). */
function removeStaleWeights(dir: string, keep: string[]): void {
  for (const name of readdirSync(dir)) {
    if (keep.includes(name)) continue;
    if (name === WEIGHTS_NAME || name === WEIGHTS_INDEX_NAME || /^model-\d{5}-of-\d{5}\.safetensors$/.test(name))
      rmSync(join(dir, name), { force: true });
  }
}
