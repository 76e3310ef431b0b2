/** bfloat16 rounding on the host: the reference the native bf16 GEMM is checked against. */

/** A copy of xs with every element rounded to bfloat16 (held in fp32). */
export function roundedBf16(xs: Float32Array): Float32Array {
  const out = new Float32Array(xs.length);
  const bits = new Uint32Array(xs.buffer, xs.byteOffset, xs.length);
  const ob = new Uint32Array(out.buffer);
  for (let i = 0; i < xs.length; i++) {
    const u = bits[i];
    ob[i] =
      (u & 0x7fffffff) > 0x7f800000
        ? ((u >>> 16) | 0x40) << 16
        : (((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16) >>> 0;
  }
  return out;
}
