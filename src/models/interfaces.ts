/** What models take and return, named as transformers names them (input_ids → inputIds, last_hidden_state → lastHiddenState). */
import { ShapeError, fmtShape } from "../util/errors.js";
import { Tensor, attentionSoftmax, embedding, isGradEnabled, matmul, reshape, tensor } from "../tensor/index.js";
import {
  type Dropout,
  type Linear,
  Module,
  checkpointed,
  mergeHeads,
  scaledDotProductAttention,
  splitHeads,
} from "../nn/index.js";

export interface ModelInputs {
  /** [B, T] i32 token ids. */
  inputIds: Tensor;
  /** [B, T]: 1 for tokens to attend to, 0 for padding (default: all 1). */
  attentionMask?: Tensor | null;
  /** [B, T] i32 segment ids (BERT; default zeros). */
  tokenTypeIds?: Tensor | null;
  /** [B, T] or [1, T] i32 positions (default as transformers computes them per architecture). */
  positionIds?: Tensor | null;
  /**
   * [B, T] i32 segment ids for packed rows (causal LMs): a token attends only to tokens of its own segment, so
   * several samples share a row without seeing each other. Padding may take any id (its keys are hidden by
   * attentionMask anyway); graft's packing gives samples 1, 2, ... and padding 0. Without a cache the causal LMs
   * restart positions at 0 for each segment when positionIds is not given.
   */
  segmentIds?: Tensor | null;
  /** Targets: i32 class ids (or f32 values for regression / multi-label); a loss is returned when given. */
  labels?: Tensor | null;
  /** Return every layer's hidden states (transformers' output_hidden_states). */
  outputHiddenStates?: boolean;
  /** Return every layer's attention probabilities (transformers' output_attentions; transformer models only). */
  outputAttentions?: boolean;
}

/** What a model returns besides its main output when asked, as transformers returns them. */
export interface LayerOutputs {
  /**
   * With outputHiddenStates: the embeddings' output, then each layer's output ([B, T, H] each; num_layers + 1 in
   * all); the last is lastHiddenState (after GPT-2's final LayerNorm, as transformers gives it). Else null/absent.
   */
  hiddenStates?: Tensor[] | null;
  /** With outputAttentions: each layer's attention probabilities [B, heads, T_query, T_key]. Else null/absent. */
  attentions?: Tensor[] | null;
}

export interface BaseModelOutput extends LayerOutputs {
  /** [B, T, H] */
  lastHiddenState: Tensor;
  /** [B, H]: the pooler's tanh(dense(first token)) (BERT, RoBERTa); null for models without a pooler. */
  poolerOutput: Tensor | null;
}

export interface ClassifierOutput extends LayerOutputs {
  /** [B, C] for sequences, [B, T, C] for tokens. */
  logits: Tensor;
  loss: Tensor | null;
}

export interface LMOutput extends LayerOutputs {
  /** [B, T, V] */
  logits: Tensor;
  loss: Tensor | null;
}

/** A causal LM's inputs: with a cache (`pastKeyValues`), inputIds are only the new tokens. */
export interface CausalLMInputs<Cache = unknown> extends ModelInputs {
  /** What the model kept from the tokens already processed (GPT-2: keys and values; LSTM: its state). */
  pastKeyValues?: Cache | null;
  /** Return the cache including these tokens (generation). */
  useCache?: boolean;
  /**
   * With useCache and no gradients: keep the cache in preallocated buffers that later steps fill in place (the
   * decode path; see kv-cache.ts). The cache's key/value are then the buffers, `length` rows of them filled.
   */
  growCache?: boolean;
}

export interface CausalLMOutput<Cache = unknown> extends LMOutput {
  pastKeyValues: Cache | null;
}

/** What generation needs of a model: next-token logits, optionally continuing from a cache. */
export interface CausalLM<Cache = unknown> {
  readonly config: { model_type: string; pad_token_id: number | null; eos_token_id: number | null; vocab_size: number };
  /** The longest sequence the model can attend to (null: unbounded, as an LSTM). */
  readonly maxPositions: number | null;
  forward(inputs: CausalLMInputs<Cache>): CausalLMOutput<Cache>;
  /** The cache keeping only batch rows `rows` (in that order; a row may repeat): beam search reorders beams. */
  reorderCache?(cache: Cache, rows: readonly number[]): Cache;
  eval(): unknown;
  train(mode?: boolean): unknown;
  readonly training: boolean;
}

/** Checks token ids (and the optional per-token tensors beside them); returns [B, T]. */
export function checkInputs(where: string, inputs: ModelInputs): [number, number] {
  const ids = inputs.inputIds;
  if (!(ids instanceof Tensor)) throw new ShapeError(`${where}: inputIds must be a Tensor`);
  if (ids.dtype !== "i32" || ids.rank !== 2)
    throw new ShapeError(
      `${where}: inputIds must be an i32 tensor [batch, seq], got ${ids.dtype}${fmtShape(ids.shape)}`,
    );
  const [b, t] = ids.shape;
  const mask = inputs.attentionMask;
  if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t)) {
    throw new ShapeError(`${where}: attentionMask must be [${b}, ${t}] like inputIds, got ${fmtShape(mask.shape)}`);
  }
  const types = inputs.tokenTypeIds;
  if (types && (types.dtype !== "i32" || types.rank !== 2 || types.shape[0] !== b || types.shape[1] !== t)) {
    throw new ShapeError(`${where}: tokenTypeIds must be i32 [${b}, ${t}], got ${types.dtype}${fmtShape(types.shape)}`);
  }
  const pos = inputs.positionIds;
  if (
    pos &&
    (pos.dtype !== "i32" || pos.rank !== 2 || (pos.shape[0] !== b && pos.shape[0] !== 1) || pos.shape[1] !== t)
  ) {
    throw new ShapeError(
      `${where}: positionIds must be i32 [${b}, ${t}] or [1, ${t}], got ${pos.dtype}${fmtShape(pos.shape)}`,
    );
  }
  return [b, t];
}

/** Ids must index a table of `size` rows; says which table and which value otherwise. */
export function checkRange(where: string, what: string, ids: Tensor, size: number): void {
  const d = ids.toArray();
  for (let i = 0; i < d.length; i++) {
    if (d[i] < 0 || d[i] >= size)
      throw new ShapeError(`${where}: ${what} ${d[i]} at flat index ${i} is outside [0, ${size})`);
  }
}

/** [1, T] positions start, start + 1, ... */
export function positionRange(t: number, start = 0): Tensor {
  return tensor(
    Array.from({ length: t }, (_, i) => start + i),
    [1, t],
    { dtype: "i32" },
  );
}

/** A padded batch from token-id lists: right padding by default (encoders), left for generation. */
export function padBatch(
  seqs: readonly (readonly number[])[],
  padId: number,
  side: "right" | "left" = "right",
): { inputIds: Tensor; attentionMask: Tensor } {
  if (seqs.length === 0) throw new ShapeError("padBatch: no sequences");
  const t = Math.max(...seqs.map((s) => s.length));
  if (t === 0) throw new ShapeError("padBatch: every sequence is empty");
  const ids = new Int32Array(seqs.length * t).fill(padId);
  const mask = new Float32Array(seqs.length * t);
  seqs.forEach((s, i) => {
    const off = i * t + (side === "left" ? t - s.length : 0);
    for (let j = 0; j < s.length; j++) {
      if (!Number.isInteger(s[j]))
        throw new ShapeError(`padBatch: sequence ${i} position ${j} is ${s[j]}, not a token id`);
      ids[off + j] = s[j];
      mask[off + j] = 1;
    }
  });
  return { inputIds: new Tensor(ids, [seqs.length, t]), attentionMask: new Tensor(mask, [seqs.length, t]) };
}

/**
 * Rows `rows` of t along its first axis, in that order (a row may repeat): what beam search needs to reorder a cache
 * ([B, ...] f32 → [rows.length, ...]).
 */
export function selectRows(t: Tensor, rows: readonly number[]): Tensor {
  const [b, ...rest] = t.shape;
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= b) throw new ShapeError(`selectRows: row ${r} is outside [0, ${b})`);
  const width = rest.reduce((a, x) => a * x, 1);
  const picked = embedding(new Tensor(Int32Array.from(rows), [rows.length]), reshape(t, [b, width]));
  return reshape(picked, [rows.length, ...rest]);
}

/** What attention layers need to mask: the padding mask and whether attention is causal (applied inside the fused attention softmax). */
export interface AttentionMask {
  /** [B, Tk] (1 = token, 0 = padding), or null when every key is a token. */
  keep: Tensor | null;
  causal: boolean;
  /** [B, Tk] i32 segment ids of packed samples (a query sees only its own segment's keys), or null/absent. */
  segments?: Tensor | null;
}

/**
 * The attention mask of a padded batch (mask [B, Tk], 1 = token), causal or not. A query with no visible key — a
 * left-padding position before the first token, or a sequence that is all padding — gets a zero context, as
 * PyTorch's scaled_dot_product_attention (transformers' default attention) gives it; transformers' eager attention
 * would average all values instead. Only padding positions differ between the two.
 */
export function attentionMaskFor(opts: {
  batch: number;
  queryLen: number;
  keyLen: number;
  paddingMask: Tensor | null;
  causal?: boolean;
  /** [B, Tk] i32 segment ids (cached keys included): block-diagonal attention between packed samples. */
  segmentIds?: Tensor | null;
}): AttentionMask {
  const pad = opts.paddingMask;
  const { batch: b, keyLen: tk } = opts;
  const causal = opts.causal ?? false;
  if (pad && (pad.rank !== 2 || pad.shape[0] !== b || pad.shape[1] !== tk)) {
    throw new ShapeError(`attention: padding mask must be [${b}, ${tk}], got ${fmtShape(pad.shape)}`);
  }
  const seg = opts.segmentIds ?? null;
  if (seg && (seg.dtype !== "i32" || seg.rank !== 2 || seg.shape[0] !== b || seg.shape[1] !== tk)) {
    throw new ShapeError(`attention: segment ids must be i32 [${b}, ${tk}], got ${seg.dtype}${fmtShape(seg.shape)}`);
  }
  return { keep: pad, causal, segments: seg };
}

/**
 * [B, T] positions restarting at 0 where the segment id changes (packed samples), from segment ids [B, T]; each
 * sample of a packed row gets the positions it would have alone.
 */
export function segmentPositions(segmentIds: Tensor, start = 0): Tensor {
  const [b, t] = segmentIds.shape;
  const s = segmentIds.toArray();
  const pos = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    let p = start;
    for (let j = 0; j < t; j++) {
      if (j > 0 && s[i * t + j] !== s[i * t + j - 1]) p = 0;
      pos[i * t + j] = p++;
    }
  }
  return new Tensor(pos, [b, t]);
}

/**
 * softmax(q·kᵀ·scale, masked)·v for q [B, nh, Tq, dh], k and v [B, nh, Tk, dh] → context [B, nh, Tq, dh], and with
 * `outputAttentions` the probabilities [B, nh, Tq, Tk] too (after dropout, as transformers returns them). Without
 * it, nn's fused scaledDotProductAttention runs unchanged.
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: AttentionMask,
  opts: { scale?: number; dropout: Dropout; outputAttentions?: boolean },
): { context: Tensor; probs: Tensor | null } {
  const masking = {
    keep: mask.keep,
    causal: mask.causal,
    segments: mask.segments ?? null,
    scale: opts.scale,
    dropout: opts.dropout,
  };
  if (!opts.outputAttentions) return { context: scaledDotProductAttention(q, k, v, masking), probs: null };
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[3]);
  const scores = matmul(q, k, { transB: true }); // [B, nh, Tq, Tk]
  const probs = opts.dropout.forward(
    attentionSoftmax(scores, { keep: mask.keep, causal: mask.causal, segments: mask.segments, scale }),
  );
  return { context: matmul(probs, v), probs };
}

/**
 * Multi-head self-attention from three projections of x [B, T, H] → context [B, T, H] (heads merged, before any
 * output projection), and the probabilities when asked.
 */
export function selfAttention(
  x: Tensor,
  proj: { q: Linear; k: Linear; v: Linear },
  heads: number,
  mask: AttentionMask,
  opts: { dropout: Dropout; outputAttentions?: boolean },
): LayerStep {
  const q = splitHeads(proj.q.forward(x), heads); // [B, nh, T, dh]
  const k = splitHeads(proj.k.forward(x), heads);
  const v = splitHeads(proj.v.forward(x), heads);
  const r = attend(q, k, v, mask, opts);
  return { output: mergeHeads(r.context), attention: r.probs };
}

/** What one layer of a stack gives: its output, and its attention probabilities when asked. */
export interface LayerStep {
  output: Tensor;
  attention: Tensor | null;
}

/**
 * Runs a stack of layers over x, collecting the input and each layer's output (hiddenStates, length
 * layers + 1) and each layer's attention probabilities when asked, as transformers' encoders do.
 *
 * A layer whose module has gradientCheckpointing on runs as one checkpoint while training with gradients (and
 * neither attentions nor a cache are asked for): its forward keeps only its output, and the backward recomputes it
 * with the same dropout masks (nn's checkpointed).
 */
export function runLayers<L>(
  x: Tensor,
  layers: readonly L[],
  step: (layer: L, h: Tensor, index: number) => LayerStep,
  want: { outputHiddenStates?: boolean; outputAttentions?: boolean; useCache?: boolean },
): { lastHiddenState: Tensor; hiddenStates: Tensor[] | null; attentions: Tensor[] | null } {
  const hiddenStates = want.outputHiddenStates ? [x] : null;
  const attentions: Tensor[] | null = want.outputAttentions ? [] : null;
  let h = x;
  layers.forEach((layer, i) => {
    const ckpt =
      layer instanceof Module &&
      layer.gradientCheckpointing &&
      layer.training &&
      isGradEnabled() &&
      !want.outputAttentions &&
      !want.useCache;
    const input = h;
    const r: LayerStep = ckpt
      ? { output: checkpointed(() => step(layer, input, i).output), attention: null }
      : step(layer, h, i);
    h = r.output;
    hiddenStates?.push(h);
    if (attentions && r.attention) attentions.push(r.attention);
  });
  return { lastHiddenState: h, hiddenStates, attentions };
}
