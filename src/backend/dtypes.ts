/**
 * Number ↔ bfloat16 / IEEE half bit patterns, bit-exact as PyTorch's c10::BFloat16 and c10::Half convert: f32 to
 * bf16/f16 rounds to nearest even, back is exact. Plain functions of numbers: the host backends' cast uses them,
 * and so may any layer that encodes files.
 */

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** The f32 bit pattern of a number (rounded to f32 first). */
function f32Bits(v: number): number {
  scratchF[0] = v;
  return scratchU[0];
}

/** f32 bits → bf16 bits, rounding to nearest even; every NaN becomes the quiet NaN 0x7fc0 (as torch). */
export function bf16FromF32Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 bits → IEEE half bits, rounding to nearest even; overflow gives ±Inf, NaN a quiet NaN with its sign. */
export function f16FromF32Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);
  const e = exp - 112; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // a half subnormal (or zero): the 24-bit significand shifted right by 14 - e, rounded to nearest even
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const rest = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r; // r may carry into the smallest normal: still the right encoding
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++; // a carry into the exponent may give Inf: right
  return sign | r;
}

/** bf16 bits → the number (exact). */
export function bf16ToNumber(h: number): number {
  scratchU[0] = h << 16;
  return scratchF[0];
}

/** IEEE half bits → the number (exact). */
export function f16ToNumber(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export const bf16FromNumber = (v: number): number => bf16FromF32Bits(f32Bits(v));
export const f16FromNumber = (v: number): number => f16FromF32Bits(f32Bits(v));
