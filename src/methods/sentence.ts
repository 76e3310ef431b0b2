/**
 * Sentence embeddings and sentence encoders. `embedTexts` runs a saved model's Predictor (the same `embed` the
 * server's /embed route calls) over texts in batches, with the pooling recorded in the model's
 * sentence_config.json unless one is asked for. `trainSentenceEncoder` fine-tunes a transformer encoder
 * contrastively into a sentence encoder, as sentence-transformers' MultipleNegativesRankingLoss does: each batch
 * holds (anchor, positive) pairs; the anchors' pooled, unit-length embeddings are scored against every positive of
 * the batch by cosine × scale (20), and the loss is the cross-entropy of picking the anchor's own positive (the
 * others are in-batch negatives). Pairs come from a file of text pairs, or from a labelled file (each text paired
 * with another text of the same label). The result is an ordinary model directory (config.json, weights,
 * tokenizer) plus sentence_config.json naming its pooling, which `graft embed`, `graft serve` and this module load.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, GraftError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Rng, manualSeed } from "../util/rng.js";
import {
  type Tensor,
  affine,
  arange,
  crossEntropy,
  div,
  matmul,
  mul,
  noGrad,
  reshape,
  slice,
  sqrt,
  sum,
} from "../tensor/index.js";
import { AdamW, clipGradNorm } from "../optim/index.js";
import { readExamples, type ExampleReadOptions } from "../data/index.js";
import { AutoModel, readConfig, savePretrained, usesTokenTypes, type BaseModelOutput } from "../models/index.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { encodeTexts, padRows } from "../tasks/index.js";
import { loadPredictor } from "../tasks/predictor.js";
import type { Pooling } from "./features.js";

export type { Pooling };

/** The file beside a model's config.json that records how it embeds. */
export const SENTENCE_CONFIG = "sentence_config.json";

export interface SentenceConfig {
  pooling: Pooling;
  /** Whether vectors are scaled to unit length (a dot product is then the cosine). */
  normalize: boolean;
  /** How it was trained, when graft trained it. */
  training?: Record<string, unknown>;
}

/** A model directory's sentence_config.json, or null when it has none (errors name the file and field). */
export function readSentenceConfig(dir: string): SentenceConfig | null {
  const file = join(dir, SENTENCE_CONFIG);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new GraftError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const c = raw as Partial<SentenceConfig>;
  if (c.pooling !== "cls" && c.pooling !== "mean")
    throw new GraftError(`${file}: "pooling" must be "cls" or "mean", got ${JSON.stringify(c.pooling)}`);
  if (c.normalize !== undefined && typeof c.normalize !== "boolean")
    throw new GraftError(`${file}: "normalize" must be true or false`);
  return { pooling: c.pooling, normalize: c.normalize ?? true, ...(c.training ? { training: c.training } : {}) };
}

export interface EmbedTextsOptions {
  /** Default: the model's sentence_config.json, else "mean". */
  pooling?: Pooling;
  /** Default: the model's sentence_config.json, else true. */
  normalize?: boolean;
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /** Truncate texts to this many tokens (default: the model's limit). */
  maxLength?: number;
  /** Called after each batch with the texts done so far. */
  onBatch?: (done: number, total: number) => void;
}

export interface Embeddings {
  /** n×d, row-major. */
  data: Float32Array;
  n: number;
  d: number;
  pooling: Pooling;
  normalize: boolean;
}

/** A loaded model that embeds texts, with its pooling settled (what embed, cluster and search share). */
export class Embedder {
  readonly pooling: Pooling;
  readonly normalize: boolean;
  private readonly embed: (
    texts: readonly string[],
    o: { pooling: Pooling; normalize: boolean },
  ) => Promise<number[][]>;

  constructor(
    readonly dir: string,
    opts: { pooling?: Pooling; normalize?: boolean; maxLength?: number } = {},
  ) {
    const sc = readSentenceConfig(dir);
    this.pooling = opts.pooling ?? sc?.pooling ?? "mean";
    this.normalize = opts.normalize ?? sc?.normalize ?? true;
    const p = loadPredictor(dir, { name: `--model ${dir}`, ...(opts.maxLength ? { maxLength: opts.maxLength } : {}) });
    if (!p.embed)
      throw new ArgumentError(
        `--model ${dir} holds a ${p.kind}, which does not embed texts`,
        "use a transformer encoder",
      );
    this.embed = p.embed.bind(p);
  }

  /** Embeddings of the texts, batchSize at a time. */
  async embedTexts(
    texts: readonly string[],
    opts: Pick<EmbedTextsOptions, "batchSize" | "onBatch"> = {},
  ): Promise<Embeddings> {
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new ArgumentError(`batch size must be a positive integer, got ${batchSize}`);
    let d = 0;
    let vectors = new Float32Array(0);
    for (let start = 0; start < texts.length; start += batchSize) {
      const rows = await this.embed(texts.slice(start, start + batchSize), {
        pooling: this.pooling,
        normalize: this.normalize,
      });
      if (start === 0) {
        d = rows[0].length;
        vectors = new Float32Array(texts.length * d);
      }
      rows.forEach((r, i) => vectors.set(r, (start + i) * d));
      opts.onBatch?.(Math.min(texts.length, start + batchSize), texts.length);
    }
    return { data: vectors, n: texts.length, d, pooling: this.pooling, normalize: this.normalize };
  }
}

/** Embeddings of texts from the model in `dir` (its Predictor's embed, in batches). */
export async function embedTexts(
  dir: string,
  texts: readonly string[],
  opts: EmbedTextsOptions = {},
): Promise<Embeddings> {
  return new Embedder(dir, opts).embedTexts(texts, opts);
}

/** Pools hidden states [B, T, H] to [B, H] (differentiable): the first token, or the mean over the mask. */
export function poolHidden(hidden: Tensor, mask: Tensor, pooling: Pooling): Tensor {
  const [b, t, h] = hidden.shape;
  if (pooling === "cls") return reshape(slice(hidden, 1, 0, 1), [b, h]);
  const m = reshape(mask, [b, t, 1]);
  return div(sum(mul(hidden, m), 1), sum(m, 1));
}

/** Rows scaled to unit length (as torch.nn.functional.normalize, up to its 1e-12 floor). */
export function unitRows(x: Tensor): Tensor {
  return div(x, sqrt(affine(sum(mul(x, x), 1, { keepDim: true }), 1, 1e-24)));
}

/**
 * MultipleNegativesRankingLoss: anchors [B, H] against candidates [C ≥ B, H] (row i of the candidates is anchor
 * i's positive, the rest negatives): mean cross-entropy of softmax(scale · cos(a_i, c_j)) at j = i.
 */
export function multipleNegativesRankingLoss(anchors: Tensor, candidates: Tensor, scale = 20): Tensor {
  const [b] = anchors.shape;
  if (candidates.shape[0] < b)
    throw new ArgumentError(`MNRL: ${candidates.shape[0]} candidates for ${b} anchors; each anchor needs its positive`);
  const scores = affine(matmul(unitRows(anchors), unitRows(candidates), { transB: true }), scale);
  return crossEntropy(scores, arange(b));
}

/** A text and its positive. */
export interface TextPair {
  anchor: string;
  positive: string;
}

/** Pairs from a file of text pairs (text and text_pair / sentence1 and sentence2 columns, or the named ones). */
export async function readPairs(file: string, read: ExampleReadOptions = {}): Promise<TextPair[]> {
  const { examples } = await readExamples(file, { labelColumn: null, ...read });
  const pairs: TextPair[] = [];
  examples.forEach((e, i) => {
    if (e.textPair === undefined)
      throw new ArgumentError(
        `${file}: example ${i + 1} has no second text`,
        "a pairs file needs two text columns: text and text_pair (or sentence1 and sentence2, or --text-pair-column)",
      );
    pairs.push({ anchor: e.text, positive: e.textPair });
  });
  if (pairs.length < 2) throw new ArgumentError(`${file}: needs at least two pairs, found ${pairs.length}`);
  return pairs;
}

/** Pairs from labelled texts: each text with another text of its label, drawn by the seeded generator. */
export function labelPairs(texts: readonly string[], labels: readonly string[], rng: Rng): TextPair[] {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const list = byLabel.get(l) ?? [];
    list.push(i);
    byLabel.set(l, list);
  });
  const pairs: TextPair[] = [];
  texts.forEach((t, i) => {
    const same = byLabel.get(labels[i])!;
    if (same.length < 2) return;
    let j = i;
    while (j === i) j = same[rng.int(same.length)];
    pairs.push({ anchor: t, positive: texts[j] });
  });
  if (pairs.length < 2) throw new ArgumentError("labelled data: no label has two texts to pair");
  return pairs;
}

export interface SentenceTrainingOptions {
  /** The encoder to start from (a model directory). */
  model: string;
  pairs: TextPair[];
  /** The output model directory. */
  output: string;
  pooling?: Pooling;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Cosine scale of the loss (default 20, as sentence-transformers). */
  scale?: number;
  /** Fraction of steps with a linear warm-up (default 0.1), then linear decay to 0. */
  warmup?: number;
  maxLength?: number;
  /** Stop after this many steps (default: all epochs). */
  maxSteps?: number;
  seed?: number;
  log?: (line: string) => void;
  /** Checked before each step: true ends training there, and the model trained so far is saved. */
  shouldStop?: () => boolean;
  /** Where the pairs came from, recorded in sentence_config.json. */
  source?: string;
}

export interface SentenceTrainingResult {
  output: string;
  steps: number;
  pairs: number;
  /** Mean loss of each epoch. */
  epochLosses: number[];
  seconds: number;
}

/** Contrastive fine-tuning of an encoder into a sentence encoder (MNRL with in-batch negatives). */
export async function trainSentenceEncoder(o: SentenceTrainingOptions): Promise<SentenceTrainingResult> {
  const epochs = o.epochs ?? 1;
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 5e-5;
  const scale = o.scale ?? 20;
  const pooling = o.pooling ?? readSentenceConfig(o.model)?.pooling ?? "mean";
  const warmup = o.warmup ?? 0.1;
  const seed = o.seed ?? 42;
  if (!(Number.isInteger(batchSize) && batchSize >= 2))
    throw new ArgumentError(`batch size must be an integer ≥ 2 (in-batch negatives), got ${batchSize}`);
  if (!(epochs > 0)) throw new ArgumentError(`epochs must be > 0, got ${epochs}`);
  if (!(lr > 0)) throw new ArgumentError(`learning rate must be > 0, got ${lr}`);
  const t0 = Date.now();
  manualSeed(seed);
  const rng = new Rng(seed);
  const config = readConfig(o.model);
  const tok = loadTokenizer(o.model);
  const model = AutoModel.fromPretrainedDir(o.model);
  const padId = tok.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  const maxLength = Math.min(o.maxLength ?? 128, tok.modelMaxLength ?? Infinity);
  const useTypes = usesTokenTypes(config.model_type);
  const anchors = await encodeTexts(
    tok,
    o.pairs.map((p) => p.anchor),
    undefined,
    maxLength,
  );
  const positives = await encodeTexts(
    tok,
    o.pairs.map((p) => p.positive),
    undefined,
    maxLength,
  );
  const rows = [...anchors, ...positives];
  const n = o.pairs.length;
  const perEpoch = Math.floor(n / batchSize);
  if (perEpoch < 1) throw new ArgumentError(`${n} pairs make no full batch of ${batchSize}`);
  const total = Math.min(o.maxSteps ?? Infinity, Math.ceil(epochs * perEpoch));
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr, weightDecay: 0.01 });
  const warm = Math.floor(total * warmup);
  const epochLosses: number[] = [];
  model.train();
  let step = 0;
  let stopped = false;
  for (let epoch = 0; step < total; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    rng.shuffle(order);
    let sumLoss = 0,
      count = 0;
    for (let b = 0; b < perEpoch && step < total; b++, step++) {
      // let signal handlers run between steps (the loop is otherwise synchronous)
      await new Promise((r) => setImmediate(r));
      if (o.shouldStop?.()) {
        o.log?.(`stopped at step ${step} of ${total}; saving the model trained so far`);
        stopped = true;
        break;
      }
      const idx = order.slice(b * batchSize, (b + 1) * batchSize);
      // anchors and positives in one padded batch: rows 0..B-1 anchors, B..2B-1 their positives
      const batch = padRows(rows, [...idx, ...idx.map((i) => n + i)], padId);
      const out = model.forward({
        inputIds: batch.inputIds,
        attentionMask: batch.attentionMask,
        ...(useTypes ? { tokenTypeIds: batch.tokenTypeIds } : {}),
      }) as BaseModelOutput;
      const pooled = poolHidden(out.lastHiddenState, batch.attentionMask, pooling);
      const loss = multipleNegativesRankingLoss(slice(pooled, 0, 0, idx.length), slice(pooled, 0, idx.length), scale);
      const f = step < warm ? (step + 1) / warm : Math.max(0, (total - step) / Math.max(1, total - warm));
      for (const g of opt.groups) g.lr = lr * f;
      opt.zeroGrad();
      loss.backward();
      clipGradNorm(params, 1);
      opt.step();
      const v = loss.item();
      sumLoss += v;
      count++;
      if (o.log && (step % 5 === 0 || step === total - 1))
        o.log(`step ${step + 1}/${total}  epoch ${epoch + 1}  loss ${v.toFixed(4)}`);
    }
    if (count) epochLosses.push(sumLoss / count);
    if (stopped) break;
  }
  model.eval();
  noGrad(() => savePretrained(model, o.output, { tokenizer: tok }));
  const sc: SentenceConfig = {
    pooling,
    normalize: true,
    training: {
      loss: "MultipleNegativesRankingLoss",
      scale,
      base: o.model,
      pairs: n,
      ...(o.source ? { source: o.source } : {}),
      steps: step,
      batchSize,
      lr,
      seed,
      epochLosses,
    },
  };
  writeJsonAtomic(join(o.output, SENTENCE_CONFIG), sc);
  return { output: o.output, steps: step, pairs: n, epochLosses, seconds: (Date.now() - t0) / 1000 };
}
