/**
 * Item text through a pre-trained encoder: each text is tokenized, run through the frozen base model (eval mode, no
 * gradients) and mean-pooled over its tokens, one vector per item. The vectors are computed once and cached as
 * float32 bytes beside a small JSON header keyed by the model directory and the texts' hash.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { ArgumentError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { noGrad, tensor } from "../tensor/index.js";
import { AutoModel, readConfig, usesTokenTypes, type BaseModelOutput } from "../models/index.js";
import { loadTokenizer } from "../tokenizers/index.js";

export interface TextVectors {
  n: number;
  dim: number;
  data: Float32Array;
}

export interface EncodeOptions {
  batchSize?: number;
  maxLength?: number;
  /** Cache file prefix: PREFIX.json + PREFIX.float32. */
  cache?: string;
  onProgress?: (done: number, total: number) => void;
}

function key(modelDir: string, texts: readonly string[], maxLength: number): string {
  const h = createHash("sha256");
  h.update(`${modelDir}\n${maxLength}\n`);
  for (const t of texts) h.update(`${t}\n`);
  return h.digest("hex");
}

/** Mean-pooled last hidden states of the encoder in `modelDir` for each text. */
export async function encodeItemTexts(
  modelDir: string,
  texts: readonly string[],
  opts: EncodeOptions = {},
): Promise<TextVectors> {
  if (texts.length === 0) throw new ArgumentError("encodeItemTexts: no texts");
  const config = readConfig(modelDir);
  const tok = loadTokenizer(modelDir);
  const maxLength = Math.min(opts.maxLength ?? 64, tok.modelMaxLength ?? Infinity);
  const k = key(modelDir, texts, maxLength);
  if (opts.cache && existsSync(`${opts.cache}.json`) && existsSync(`${opts.cache}.float32`)) {
    const head = JSON.parse(readFileSync(`${opts.cache}.json`, "utf8")) as { key: string; n: number; dim: number };
    if (head.key === k && head.n === texts.length) {
      const buf = readFileSync(`${opts.cache}.float32`);
      const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      if (data.length === head.n * head.dim) return { n: head.n, dim: head.dim, data };
    }
  }
  const model = AutoModel.fromPretrainedDir(modelDir);
  model.eval();
  const padId = tok.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  const useTypes = usesTokenTypes(config.model_type);
  const batchSize = opts.batchSize ?? 64;
  let dim = 0;
  let data = new Float32Array(0);
  for (let s = 0; s < texts.length; s += batchSize) {
    const chunk = texts.slice(s, s + batchSize);
    const enc = await tok.encodeBatch([...chunk], { truncation: true, maxLength });
    const t = Math.max(1, ...enc.inputIds.map((r) => r.length));
    const n = chunk.length;
    const ids = new Int32Array(n * t).fill(padId);
    const types = new Int32Array(n * t);
    const mask = new Float32Array(n * t);
    enc.inputIds.forEach((r, b) => {
      ids.set(r, b * t);
      types.set(enc.tokenTypeIds[b]!, b * t);
      mask.fill(1, b * t, b * t + r.length);
    });
    noGrad(() => {
      const out = model.forward({
        inputIds: tensor(ids, [n, t], { dtype: "i32" }),
        attentionMask: tensor(mask, [n, t]),
        ...(useTypes ? { tokenTypeIds: tensor(types, [n, t], { dtype: "i32" }) } : {}),
      }) as BaseModelOutput;
      const h = out.lastHiddenState.shape[2]!;
      if (dim === 0) {
        dim = h;
        data = new Float32Array(texts.length * h);
      }
      const flat = out.lastHiddenState.toArray();
      enc.inputIds.forEach((r, b) => {
        const o = (s + b) * h;
        for (let p = 0; p < r.length; p++)
          for (let j = 0; j < h; j++) data[o + j]! += flat[(b * t + p) * h + j]! / r.length;
      });
    });
    opts.onProgress?.(Math.min(texts.length, s + batchSize), texts.length);
  }
  if (opts.cache) {
    writeFileAtomic(`${opts.cache}.float32`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    writeJsonAtomic(`${opts.cache}.json`, { key: k, n: texts.length, dim, model: modelDir });
  }
  return { n: texts.length, dim, data };
}
