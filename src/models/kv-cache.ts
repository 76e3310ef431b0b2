/**
 * The decode path's KV cache grown in place: each layer's keys and values live in preallocated [B, H, capacity, dh]
 * buffers (capacity doubling as the sequence grows), each step writes only its new rows, and attention reads the
 * filled prefix in place through the fused kernel (flashAttention's keyLength) instead of concatenating the whole
 * cache into new tensors every step (O(T) copies per step, O(T²) per sequence). Generation asks for it with
 * `growCache` (inference only: without gradients); a plain `useCache` forward keeps returning exact-length tensors.
 */
import { type Tensor, concat, copyRows_, flashAttention, isGradEnabled, slice, zeros } from "../tensor/index.js";
import type { Dropout } from "../nn/index.js";
import { attend, selectRows, type AttentionMask } from "./interfaces.js";

/** What the buffers of a layer have been written up to: a cache may grow in place only from the end. */
export interface KVStore {
  filled: number;
}

/** One layer's cached keys and values; with `length`, key and value are buffers of which `length` rows are filled. */
export interface CachedKV {
  key: Tensor;
  value: Tensor;
  /** Rows filled (absent: all of key.shape[2]). */
  length?: number;
  /** The buffers' shared high-water mark (absent: not growable in place). */
  store?: KVStore;
}

/** Tokens a layer's cache holds. */
export function cachedLength(kv: CachedKV): number {
  return kv.length ?? kv.key.shape[2];
}

/** Whether this forward should keep its cache in growable buffers: asked for, and no gradients are recorded. */
export function growsInPlace(growCache: boolean | undefined): boolean {
  return !!growCache && !isGradEnabled();
}

const MIN_CAPACITY = 16;

/**
 * The cache with k, v [B, H, T, dh] appended: written in place into past's buffers when they have room and past
 * ends where they were last written; otherwise into new buffers of twice the length (past's rows copied once).
 */
export function appendKV(past: CachedKV | null, k: Tensor, v: Tensor): CachedKV {
  const [b, h, t, d] = k.shape;
  const len = past ? cachedLength(past) : 0;
  let key: Tensor;
  let value: Tensor;
  let store: KVStore;
  if (past?.store && past.store.filled === len && len + t <= past.key.shape[2]) {
    key = past.key;
    value = past.value;
    store = past.store;
  } else {
    const cap = Math.max(MIN_CAPACITY, 2 * (len + t));
    key = zeros([b, h, cap, d]);
    value = zeros([b, h, cap, d]);
    if (past) {
      copyRows_(key, 2, 0, past.key, 0, len);
      copyRows_(value, 2, 0, past.value, 0, len);
    }
    store = { filled: len };
  }
  copyRows_(key, 2, len, k);
  copyRows_(value, 2, len, v);
  store.filled = len + t;
  return { key, value, length: len + t, store };
}

/** The cache keeping batch rows `rows` (beam search), growable again from its end. */
export function reorderKV(kv: CachedKV, rows: readonly number[]): CachedKV {
  const key = selectRows(kv.key, rows);
  const value = selectRows(kv.value, rows);
  return kv.length === undefined ? { key, value } : { key, value, length: kv.length, store: { filled: kv.length } };
}

/**
 * Several batches' caches as one (continuous batching): their rows stacked in order, each left-padded with zero
 * columns to the longest, which the caller's attention mask hides. Exact-length: the next in-place append copies
 * it once into new buffers.
 */
export function joinKV(parts: readonly CachedKV[]): CachedKV {
  const len = Math.max(...parts.map(cachedLength));
  const padded = (t: Tensor, n: number) => {
    const filled = n === t.shape[2] ? t : slice(t, 2, 0, n);
    if (n === len) return filled;
    const [b, h, , d] = t.shape;
    return concat([zeros([b, h, len - n, d]), filled], 2);
  };
  return {
    key: concat(
      parts.map((p) => padded(p.key, cachedLength(p))),
      0,
    ),
    value: concat(
      parts.map((p) => padded(p.value, cachedLength(p))),
      0,
    ),
  };
}

/** The cache without its first n columns (padding no row needs any more), exact-length. */
export function dropLeadingKV(kv: CachedKV, n: number): CachedKV {
  const len = cachedLength(kv);
  return { key: slice(kv.key, 2, n, len), value: slice(kv.value, 2, n, len) };
}

/**
 * Attention of q [B, nh, Tq, dh] over a grown cache: the fused kernel reads the filled rows in place (kv heads
 * may be fewer than nh: grouped-query attention); with attention probabilities asked for or attention dropout on,
 * the filled rows are copied out (repeated per query head by `expand`) and take the usual path.
 */
export function attendCached(
  q: Tensor,
  kv: CachedKV,
  mask: AttentionMask,
  opts: { scale?: number; dropout: Dropout; outputAttentions?: boolean; expand?: (x: Tensor) => Tensor },
): { context: Tensor; probs: Tensor | null } {
  const len = cachedLength(kv);
  const dropping = opts.dropout.training && opts.dropout.p > 0;
  if (!opts.outputAttentions && !dropping) {
    const context = flashAttention(q, kv.key, kv.value, {
      keep: mask.keep,
      causal: mask.causal,
      segments: mask.segments ?? null,
      scale: opts.scale ?? 1 / Math.sqrt(q.shape[3]),
      keyLength: len,
    });
    return { context, probs: null };
  }
  const expand = opts.expand ?? ((x: Tensor) => x);
  return attend(q, expand(slice(kv.key, 2, 0, len)), expand(slice(kv.value, 2, 0, len)), mask, opts);
}
