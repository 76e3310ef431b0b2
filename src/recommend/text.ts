/**
 * Item text through a pre-trained encoder: each text is tokenized, run through the frozen base model (eval mode, no
 * gradients) and mean-pooled over its tokens, one vector per item. The vectors are computed once and cached as
 * float32 bytes beside a small JSON header keyed by the model directory and the texts' hash.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { ArgumentError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { mul, noGrad, sum, tensor, type Tensor } from "../tensor/index.js";
import { Rng } from "../util/rng.js";
import { resolve } from "node:path";
import { injectLora, loadLoraAdapter, saveLoraAdapter, type LoraConfig } from "../train/index.js";
import { AutoModel, readConfig, savePretrained, usesTokenTypes, type BaseModelOutput } from "../models/index.js";
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

/** How the item tower's text encoder trains: frozen (cached vectors), LoRA adapters, or every weight. */
export type ItemEncoderMode = "frozen" | "lora" | "full";
export const ITEM_ENCODER_MODES: readonly ItemEncoderMode[] = ["frozen", "lora", "full"];

/**
 * The LoRA targets of a `lora` item encoder (rank r, α = 2r): every attention and feed-forward projection of a
 * BERT-style encoder, not the pooler (the tower reads mean-pooled hidden states).
 */
export const ITEM_LORA_TARGETS = ["query", "key", "value", "intermediate.dense", "output.dense"];

/**
 * The item texts' encoder kept live for training: the texts tokenized once, the model in eval mode (no dropout),
 * and `pooled(items)` the mean-pooled last hidden states of a batch of items with gradients flowing into whatever
 * weights require them (LoRA adapters or the whole encoder).
 */
export class ItemEncoder {
  private constructor(
    readonly dir: string,
    readonly model: EncoderModelLike,
    private readonly ids: number[][],
    private readonly types: number[][],
    private readonly padId: number,
    private readonly useTypes: boolean,
    readonly tokenizer: Awaited<ReturnType<typeof loadTokenizer>>,
  ) {}

  /** The item encoder in `modelDir` (with the LoRA adapter in `opts.adapter` injected and loaded, when given). */
  static async load(modelDir: string, texts: readonly string[], opts: { maxLength?: number; adapter?: string } = {}) {
    if (texts.length === 0) throw new ArgumentError("ItemEncoder: no texts");
    const config = readConfig(modelDir);
    const tok = loadTokenizer(modelDir);
    const maxLength = Math.min(opts.maxLength ?? 64, tok.modelMaxLength ?? Infinity);
    const enc = await tok.encodeBatch([...texts], { truncation: true, maxLength });
    const model = AutoModel.fromPretrainedDir(modelDir);
    if (opts.adapter) loadLoraAdapter(model, opts.adapter);
    model.eval();
    const padId = tok.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
    return new ItemEncoder(
      modelDir,
      model,
      enc.inputIds.map((r) => [...r]),
      enc.tokenTypeIds.map((r) => [...r]),
      padId,
      usesTokenTypes(config.model_type),
      tok,
    );
  }

  get n(): number {
    return this.ids.length;
  }

  /** Mean-pooled last hidden states [n, hidden] of the given items (differentiable). */
  pooled(items: Int32Array): Tensor {
    const n = items.length;
    const rows = Array.from(items, (i) => this.ids[i]!);
    const t = Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(n * t).fill(this.padId);
    const types = new Int32Array(n * t);
    const mask = new Float32Array(n * t);
    const inv = new Float32Array(n);
    rows.forEach((r, b) => {
      ids.set(r, b * t);
      types.set(this.types[items[b]!]!, b * t);
      mask.fill(1, b * t, b * t + r.length);
      inv[b] = 1 / Math.max(1, r.length);
    });
    const out = this.model.forward({
      inputIds: tensor(ids, [n, t], { dtype: "i32" }),
      attentionMask: tensor(mask, [n, t]),
      ...(this.useTypes ? { tokenTypeIds: tensor(types, [n, t], { dtype: "i32" }) } : {}),
    }) as BaseModelOutput;
    const summed = sum(mul(out.lastHiddenState, tensor(mask, [n, t, 1])), 1);
    return mul(summed, tensor(inv, [n, 1]));
  }

  /** Every item's pooled vector, without gradients, in batches. */
  all(batchSize = 64): TextVectors {
    let dim = 0;
    let data = new Float32Array(0);
    noGrad(() => {
      for (let s = 0; s < this.n; s += batchSize) {
        const items = Int32Array.from({ length: Math.min(batchSize, this.n - s) }, (_, k) => s + k);
        const v = this.pooled(items);
        if (dim === 0) {
          dim = v.shape[1]!;
          data = new Float32Array(this.n * dim);
        }
        data.set(v.toArray(), s * dim);
      }
    });
    return { n: this.n, dim, data };
  }

  /** Makes the encoder trainable: LoRA adapters of rank r (the base frozen), or every weight. Returns the trained parameters. */
  trainable(mode: "lora" | "full", rank = 8, seed = 0): Tensor[] {
    if (this.mode !== "frozen") throw new ArgumentError(`ItemEncoder: already made trainable (${this.mode})`);
    this.mode = mode;
    if (mode === "lora") {
      this.lora = { r: rank, alpha: 2 * rank, dropout: 0, targetModules: ITEM_LORA_TARGETS, modulesToSave: [] };
      injectLora(this.model, this.lora, new Rng(seed));
    } else for (const p of this.model.parameters()) p.requiresGrad = true;
    return this.model.parameters().filter((p) => p.requiresGrad);
  }

  private mode: ItemEncoderMode = "frozen";
  private lora: LoraConfig | null = null;

  /**
   * Saves what was trained into `dir`: the LoRA adapter in PEFT's layout (its base: this encoder's directory), or
   * the whole fine-tuned encoder with its tokenizer. A frozen encoder writes nothing. Returns the mode.
   */
  save(dir: string): ItemEncoderMode {
    if (this.mode !== "frozen") mkdirSync(dir, { recursive: true });
    if (this.mode === "lora") saveLoraAdapter(this.model, dir, this.lora!, { baseModel: resolve(this.dir) });
    else if (this.mode === "full") savePretrained(this.model, dir, { tokenizer: this.tokenizer });
    return this.mode;
  }
}

type EncoderModelLike = ReturnType<typeof AutoModel.fromPretrainedDir>;
