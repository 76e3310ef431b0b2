/**
 * Host memory: the Storage of the CPU backends (a typed array inside, at no cost), the f32 ↔ bf16/f16 conversions,
 * and hostBackend(), which turns kernels over typed arrays (js/ or the native addon) into a Backend over storages.
 * Nothing outside backend/ may import this file: above it, a storage is opaque.
 */
import type { Backend, DType, HostArray, HostKernels, Storage } from "./backend.js";
import { stridedCopy as stridedCopyAny } from "./js/layout.js";
import { bf16FromF32Bits, bf16FromNumber, bf16ToNumber, f16FromF32Bits, f16FromNumber, f16ToNumber } from "./dtypes.js";

export class HostStorage implements Storage {
  readonly length: number;
  constructor(
    readonly dtype: DType,
    readonly array: HostArray,
  ) {
    this.length = array.length;
  }
}

type HostCtor = { new (n: number): HostArray; new (b: ArrayBuffer, offset: number, n: number): HostArray };

const HOST_TYPE: Record<DType, HostCtor> = {
  f32: Float32Array,
  bf16: Uint16Array,
  f16: Uint16Array,
  i32: Int32Array,
  i8: Int8Array,
};

/** The typed array inside a host storage (the kernel adapters below unwrap with it). */
const f = (s: Storage): Float32Array => (s as HostStorage).array as Float32Array;
const i = (s: Storage): Int32Array => (s as HostStorage).array as Int32Array;
const i8 = (s: Storage): Int8Array => (s as HostStorage).array as Int8Array;
const fOrNull = (s: Storage | null): Float32Array | null => (s === null ? null : f(s));

/** dst = src converted elementwise (see Backend.cast). */
function castArrays(from: DType, src: HostArray, to: DType, dst: HostArray): void {
  const n = Math.min(src.length, dst.length);
  if (from === to) {
    dst.set(src.subarray(0, n) as never);
    return;
  }
  if (from === "f32" && (to === "bf16" || to === "f16")) {
    const bits = new Uint32Array(src.buffer, src.byteOffset, n);
    const enc = to === "bf16" ? bf16FromF32Bits : f16FromF32Bits;
    for (let k = 0; k < n; k++) dst[k] = enc(bits[k]);
    return;
  }
  const dec = from === "bf16" ? bf16ToNumber : from === "f16" ? f16ToNumber : null;
  const enc = to === "bf16" ? bf16FromNumber : to === "f16" ? f16FromNumber : null;
  for (let k = 0; k < n; k++) {
    const v = dec ? dec(src[k]) : src[k];
    // typed-array stores round to f32 or truncate (toward zero, modulo 2^32 or 2^8) to integers by themselves
    dst[k] = enc ? enc(v) : v;
  }
}

// ---- allocation

/** Below this many elements zero-filling costs nothing worth avoiding. */
const UNINIT_MIN = 4096;

function allocate(dtype: DType, length: number, zeroed = true): Storage {
  const ctor = HOST_TYPE[dtype];
  if (zeroed || length < UNINIT_MIN) return new HostStorage(dtype, new ctor(length));
  // Large activations are allocated on every op, and clearing them first was ~10% of a forward pass.
  // allocUnsafeSlow gives each storage its own ArrayBuffer (never a slice of Node's shared pool).
  const bytes = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const buf = Buffer.allocUnsafeSlow(length * bytes);
  return new HostStorage(dtype, new ctor(buf.buffer as ArrayBuffer, buf.byteOffset, length));
}

function upload(dtype: DType, values: HostArray | ArrayLike<number>): Storage {
  const ctor = HOST_TYPE[dtype];
  if (values instanceof ctor) return new HostStorage(dtype, values);
  const n = values.length;
  const out = new ctor(n);
  if (dtype === "bf16" || dtype === "f16") {
    const enc = dtype === "bf16" ? bf16FromNumber : f16FromNumber;
    for (let k = 0; k < n; k++) out[k] = enc(values[k]);
  } else for (let k = 0; k < n; k++) out[k] = values[k];
  return new HostStorage(dtype, out);
}

/**
 * A Backend over host storages running the given typed-array kernels. Each kernel is one small function that
 * unwraps its storages and calls the kernel with the same arguments: no copies, no allocation (except the lists
 * of the many-buffer kernels), so the native addon's cost per call is what it was over raw typed arrays.
 */
export function hostBackend(k: HostKernels & { info?(): Record<string, string | number> }): Backend {
  const b: Backend = {
    name: k.name,
    allocate,
    upload,
    download: (s) => (s as HostStorage).array.slice(),
    view(s, offset, length) {
      const a = (s as HostStorage).array;
      if (!(offset >= 0 && length >= 0 && offset + length <= a.length))
        throw new RangeError(`view: elements [${offset}, ${offset + length}) of a storage of ${a.length}`);
      return new HostStorage(s.dtype, a.subarray(offset, offset + length));
    },
    cast: (src, dst) => castArrays(src.dtype, (src as HostStorage).array, dst.dtype, (dst as HostStorage).array),

    fill: (out, value) => k.fill(f(out), value),
    axpy: (x, y, alpha) => k.axpy(f(x), f(y), alpha),
    affine: (x, out, alpha, beta) => k.affine(f(x), f(out), alpha, beta),
    sumSquares: (xs) => k.sumSquares(xs.map(f)),
    matmul: (a, bb, out, p) => k.matmul(f(a), f(bb), f(out), p),
    unary: (op, x, out, param) => k.unary(op, f(x), f(out), param),
    unaryBackward: (op, x, y, dy, dx, param) => k.unaryBackward(op, f(x), f(y), f(dy), f(dx), param),
    binary: (op, a, bb, out, shape, sa, sb) => k.binary(op, f(a), f(bb), f(out), shape, sa, sb),
    where: (c, a, bb, out, shape, sc, sa, sb) => k.where(f(c), f(a), f(bb), f(out), shape, sc, sa, sb),
    stridedCopy(src, from, dst, to, shape, accumulate) {
      const s = (src as HostStorage).array,
        d = (dst as HostStorage).array;
      if (src.dtype !== dst.dtype)
        throw new TypeError(`stridedCopy: src is ${src.dtype} but dst is ${dst.dtype} (cast first)`);
      if (s instanceof Float32Array || s instanceof Int32Array)
        k.stridedCopy(s, from, d as Float32Array | Int32Array, to, shape, accumulate);
      else if (accumulate) throw new TypeError(`stridedCopy: cannot accumulate into ${dst.dtype} storage`);
      // 16- and 8-bit elements move as they are (no native kernel for them yet)
      else stridedCopyAny(s as never, from, d as never, to, shape, false);
    },
    reduce: (op, x, out, s) => k.reduce(op, f(x), f(out), s),
    argReduce: (op, x, out, s) => k.argReduce(op, f(x), i(out), s),
    gatherAxis: (x, idx, out, s) => k.gatherAxis(f(x), i(idx), f(out), s),
    scatterAddAxis: (dy, idx, dx, s) => k.scatterAddAxis(f(dy), i(idx), f(dx), s),
    softmax: (x, out, rows, cols, log) => k.softmax(f(x), f(out), rows, cols, log),
    softmaxBackward: (y, dy, dx, rows, cols, log) => k.softmaxBackward(f(y), f(dy), f(dx), rows, cols, log),
    attentionSoftmax: (x, keep, out, p, segments) =>
      k.attentionSoftmax(f(x), fOrNull(keep), f(out), p, segments ? i(segments) : null),
    attentionSoftmaxBackward: (y, dy, dx, rows, cols, scale) =>
      k.attentionSoftmaxBackward(f(y), f(dy), f(dx), rows, cols, scale),
    layerNorm: (x, gamma, beta, out, mean, rstd, rows, cols, eps) =>
      k.layerNorm(f(x), f(gamma), f(beta), f(out), f(mean), f(rstd), rows, cols, eps),
    layerNormBackward: (dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols) =>
      k.layerNormBackward(f(dy), f(x), f(gamma), f(mean), f(rstd), f(dx), f(dgamma), f(dbeta), rows, cols),
    embedding: (table, ids, out, rows, dim, vocab) => k.embedding(f(table), i(ids), f(out), rows, dim, vocab),
    embeddingBackward: (dy, ids, dTable, rows, dim) => k.embeddingBackward(f(dy), i(ids), f(dTable), rows, dim),
    dropout: (x, out, mask, p, seed) => k.dropout(f(x), f(out), f(mask), p, seed),
    crossEntropy: (logits, targets, weights, losses, p) =>
      k.crossEntropy(f(logits), i(targets), fOrNull(weights), f(losses), p),
    crossEntropyBackward: (logits, targets, weights, dlosses, dlogits, p) =>
      k.crossEntropyBackward(f(logits), i(targets), fOrNull(weights), f(dlosses), f(dlogits), p),
    biasActivation: (act, x, bias, out, rows, cols) => k.biasActivation(act, f(x), f(bias), f(out), rows, cols),
    biasActivationBackward: (act, x, bias, dy, dx, dbias, rows, cols) =>
      k.biasActivationBackward(act, f(x), f(bias), f(dy), f(dx), f(dbias), rows, cols),
    adam: (params, grads, m, v, h) => k.adam(params.map(f), grads.map(f), m.map(f), v.map(f), h),
    sgd: (params, grads, momentum, h) => k.sgd(params.map(f), grads.map(f), momentum.map(fOrNull), h),
    flashAttention: (q, kk, v, keep, seg, out, lse, p) =>
      k.flashAttention(f(q), f(kk), f(v), fOrNull(keep), seg ? i(seg) : null, f(out), f(lse), p),
    flashAttentionBackward: (q, kk, v, keep, seg, out, lse, dout, dq, dk, dv, p) =>
      k.flashAttentionBackward(
        f(q),
        f(kk),
        f(v),
        fOrNull(keep),
        seg ? i(seg) : null,
        f(out),
        f(lse),
        f(dout),
        f(dq),
        f(dk),
        f(dv),
        p,
      ),
    quantizeRows: (x, q, scales, rows, cols) => k.quantizeRows(f(x), i8(q), f(scales), rows, cols),
    packInt8: (q, packed, n, kk) => k.packInt8(i8(q), i8(packed), n, kk),
    qlinear: (x, packed, wScales, bias, out, p) => k.qlinear(f(x), i8(packed), f(wScales), fOrNull(bias), f(out), p),
  };
  if (k.info) b.info = () => k.info!();
  return b;
}
