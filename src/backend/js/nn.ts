import type { CrossEntropyParams, F32, I32 } from "../backend.js";

export function softmax(x: F32, out: F32, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (x[o + c] > max) max = x[o + c];
    if (max === -Infinity) max = 0; // a fully masked row: keep it finite (all -inf → uniform NaN-free zeros below)
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[o + c] - max);
    if (log) {
      const lse = max + Math.log(sum);
      for (let c = 0; c < cols; c++) out[o + c] = x[o + c] - lse;
    } else {
      const inv = sum > 0 ? 1 / sum : 0;
      for (let c = 0; c < cols; c++) out[o + c] = Math.exp(x[o + c] - max) * inv;
    }
  }
}

export function softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    if (log) {
      for (let c = 0; c < cols; c++) dot += dy[o + c];
      for (let c = 0; c < cols; c++) dx[o + c] = dy[o + c] - Math.exp(y[o + c]) * dot;
    } else {
      for (let c = 0; c < cols; c++) dot += dy[o + c] * y[o + c];
      for (let c = 0; c < cols; c++) dx[o + c] = y[o + c] * (dy[o + c] - dot);
    }
  }
}

export function layerNorm(
  x: F32,
  gamma: F32,
  beta: F32,
  out: F32,
  mean: F32,
  rstd: F32,
  rows: number,
  cols: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[o + c];
    const mu = s / cols;
    let v = 0;
    for (let c = 0; c < cols; c++) {
      const d = x[o + c] - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) out[o + c] = (x[o + c] - mu) * rs * gamma[c] + beta[c];
  }
}

export function layerNormBackward(
  dy: F32,
  x: F32,
  gamma: F32,
  mean: F32,
  rstd: F32,
  dx: F32,
  dgamma: F32,
  dbeta: F32,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean[r];
    const rs = rstd[r];
    let sumD = 0;
    let sumDX = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - mu) * rs;
      const d = dy[o + c] * gamma[c];
      sumD += d;
      sumDX += d * xhat;
      dgamma[c] += dy[o + c] * xhat;
      dbeta[c] += dy[o + c];
    }
    sumD /= cols;
    sumDX /= cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - mu) * rs;
      dx[o + c] = rs * (dy[o + c] * gamma[c] - sumD - xhat * sumDX);
    }
  }
}

export function embedding(table: F32, ids: I32, out: F32, rows: number, dim: number, vocab: number): void {
  for (let r = 0; r < rows; r++) {
    const id = ids[r];
    if (!(id >= 0 && id < vocab))
      throw new RangeError(`embedding: id ${id} at position ${r} is out of range for a vocabulary of ${vocab}`);
    out.set(table.subarray(id * dim, id * dim + dim), r * dim);
  }
}

export function embeddingBackward(dy: F32, ids: I32, dTable: F32, rows: number, dim: number): void {
  const vocab = dim > 0 ? Math.floor(dTable.length / dim) : 0;
  for (let r = 0; r < rows; r++) {
    const id = ids[r];
    if (dim > 0 && !(id >= 0 && id < vocab))
      throw new RangeError(`embedding: id ${id} at position ${r} is out of range for a vocabulary of ${vocab}`);
  }
  for (let r = 0; r < rows; r++) {
    const t = ids[r] * dim;
    const o = r * dim;
    for (let c = 0; c < dim; c++) dTable[t + c] += dy[o + c];
  }
}

/** Counter-based hash (murmur3 finalizer) so the mask depends only on (seed, i), identically in C++. */
export function dropoutHash(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function dropout(x: F32, out: F32, mask: F32, p: number, seed: number): void {
  const scale = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) {
    const u = (dropoutHash(seed, i) >>> 8) / 16777216;
    const m = u >= p ? scale : 0;
    mask[i] = m;
    out[i] = x[i] * m;
  }
}

function checkTarget(t: number, r: number, classes: number): void {
  if (!(t >= 0 && t < classes))
    throw new RangeError(`cross-entropy: target ${t} in row ${r} is out of range for ${classes} classes`);
}

export function crossEntropy(logits: F32, targets: I32, weights: F32 | null, losses: F32, p: CrossEntropyParams): void {
  const { rows, classes: C, ignoreIndex, smoothing: eps } = p;
  let wSum = C;
  if (weights) {
    wSum = 0;
    for (let c = 0; c < C; c++) wSum += weights[c];
  }
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex) {
      losses[r] = 0;
      continue;
    }
    checkTarget(t, r, C);
    const o = r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (logits[o + c] > max) max = logits[o + c];
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[o + c] - max);
    const lse = max + Math.log(s);
    const wt = weights ? weights[t] : 1;
    let loss = (1 - eps) * wt * (lse - logits[o + t]);
    if (eps > 0) {
      // ε/C · Σ_c w_c · (−log p_c) = ε/C · (Σ w_c · lse − Σ w_c · x_c)
      let wx = 0;
      for (let c = 0; c < C; c++) wx += (weights ? weights[c] : 1) * logits[o + c];
      loss += (eps / C) * (wSum * lse - wx);
    }
    losses[r] = loss;
  }
}

export function crossEntropyBackward(
  logits: F32,
  targets: I32,
  weights: F32 | null,
  dlosses: F32,
  dlogits: F32,
  p: CrossEntropyParams,
): void {
  const { rows, classes: C, ignoreIndex, smoothing: eps } = p;
  let wSum = C;
  if (weights) {
    wSum = 0;
    for (let c = 0; c < C; c++) wSum += weights[c];
  }
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const t = targets[r];
    if (t === ignoreIndex) {
      dlogits.fill(0, o, o + C);
      continue;
    }
    checkTarget(t, r, C);
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (logits[o + c] > max) max = logits[o + c];
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[o + c] - max);
    const inv = 1 / s;
    const wt = weights ? weights[t] : 1;
    const g = dlosses[r];
    for (let c = 0; c < C; c++) {
      const pc = Math.exp(logits[o + c] - max) * inv;
      let d = (1 - eps) * wt * (pc - (c === t ? 1 : 0));
      if (eps > 0) d += (eps / C) * (wSum * pc - (weights ? weights[c] : 1));
      dlogits[o + c] = g * d;
    }
  }
}
