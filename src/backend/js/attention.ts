/**
 * Reference fused attention: what the native flash kernels compute block by block, written one query row at a time
 * (that row's scores over every key, a two-pass softmax, then the weighted sum of values), so parity tests pin the
 * blocked online softmax down. The backward recomputes each row's probabilities from the saved logsumexp.
 */
import type { F32, FlashAttentionParams, I32 } from "../backend.js";

/** Whether key k is visible to query qi of batch item b (padding, causal and segment masks). */
function visibility(
  p: FlashAttentionParams,
  keep: F32 | null,
  segments: I32 | null,
): (b: number, qi: number, k: number) => boolean {
  const off = p.keys - p.queries;
  return (b, qi, k) =>
    (keep === null || keep[b * p.keys + k] !== 0) &&
    (!p.causal || k <= qi + off) &&
    (segments === null || segments[b * p.keys + k] === segments[b * p.keys + qi + off]);
}

export function flashAttention(
  q: F32,
  k: F32,
  v: F32,
  keep: F32 | null,
  segments: I32 | null,
  out: F32,
  lse: F32,
  p: FlashAttentionParams,
): void {
  const { batch, heads, queries, keys, dim, scale } = p;
  const rows = p.kvRows ?? keys;
  const kvHeads = p.kvHeads ?? heads;
  const visible = visibility(p, keep, segments);
  const s = new Float64Array(keys);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const bh = b * heads + h;
      const bkv = b * kvHeads + Math.floor(h / (heads / kvHeads));
      for (let qi = 0; qi < queries; qi++) {
        const qo = (bh * queries + qi) * dim;
        let max = -Infinity;
        for (let j = 0; j < keys; j++) {
          if (!visible(b, qi, j)) {
            s[j] = -Infinity;
            continue;
          }
          const ko = (bkv * rows + j) * dim;
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += q[qo + d] * k[ko + d];
          s[j] = Math.fround(scale * Math.fround(dot));
          if (s[j] > max) max = s[j];
        }
        const o = out.subarray(qo, qo + dim);
        o.fill(0);
        if (max === -Infinity) {
          lse[bh * queries + qi] = -Infinity;
          continue;
        }
        let sum = 0;
        for (let j = 0; j < keys; j++) {
          if (s[j] === -Infinity) continue;
          const e = Math.exp(s[j] - max);
          sum += e;
          const vo = (bkv * rows + j) * dim;
          for (let d = 0; d < dim; d++) o[d] += e * v[vo + d];
        }
        for (let d = 0; d < dim; d++) o[d] /= sum;
        lse[bh * queries + qi] = max + Math.log(sum);
      }
    }
  }
}

export function flashAttentionBackward(
  q: F32,
  k: F32,
  v: F32,
  keep: F32 | null,
  segments: I32 | null,
  out: F32,
  lse: F32,
  dout: F32,
  dq: F32,
  dk: F32,
  dv: F32,
  p: FlashAttentionParams,
): void {
  const { batch, heads, queries, keys, dim, scale } = p;
  const rows = p.kvRows ?? keys;
  const kvHeads = p.kvHeads ?? heads;
  const visible = visibility(p, keep, segments);
  dq.fill(0, 0, batch * heads * queries * dim);
  dk.fill(0, 0, batch * kvHeads * rows * dim);
  dv.fill(0, 0, batch * kvHeads * rows * dim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const bh = b * heads + h;
      const bkv = b * kvHeads + Math.floor(h / (heads / kvHeads));
      for (let qi = 0; qi < queries; qi++) {
        const l = lse[bh * queries + qi];
        if (l === -Infinity) continue; // sees no key: zero output, no gradient
        const qo = (bh * queries + qi) * dim;
        let delta = 0; // D_i = dO_i · O_i
        for (let d = 0; d < dim; d++) delta += dout[qo + d] * out[qo + d];
        for (let j = 0; j < keys; j++) {
          if (!visible(b, qi, j)) continue;
          const ko = (bkv * rows + j) * dim;
          let dot = 0;
          let dp = 0;
          for (let d = 0; d < dim; d++) {
            dot += q[qo + d] * k[ko + d];
            dp += dout[qo + d] * v[ko + d];
          }
          const pj = Math.exp(Math.fround(scale * Math.fround(dot)) - l);
          const ds = scale * pj * (dp - delta);
          for (let d = 0; d < dim; d++) {
            dv[ko + d] += pj * dout[qo + d];
            dk[ko + d] += ds * q[qo + d];
            dq[qo + d] += ds * k[ko + d];
          }
        }
      }
    }
  }
}
