/**
 * Float arrays in saved JSON models: exact little-endian float64 bytes in base64 (about 11 characters per value
 * instead of ~19 for decimal text, and no rounding). Readers also accept a plain number array.
 */
import { FormatError } from "../../util/errors.js";

export interface EncodedF64 {
  dtype: "float64";
  base64: string;
}

export function encodeF64(values: ArrayLike<number>): EncodedF64 {
  const a = Float64Array.from(values as ArrayLike<number>);
  const bytes = new Uint8Array(a.buffer);
  // typed arrays are in the platform's byte order; every platform Node supports is little-endian, checked on decode
  return { dtype: "float64", base64: Buffer.from(bytes).toString("base64") };
}

export function decodeF64(v: EncodedF64 | readonly number[], what: string): Float64Array {
  if (Array.isArray(v)) return Float64Array.from(v as number[]);
  const e = v as EncodedF64;
  if (e?.dtype !== "float64" || typeof e.base64 !== "string")
    throw new FormatError(`${what}: expected a number array or { dtype: "float64", base64 }`);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1)
    throw new FormatError(`${what}: float64 data is little-endian, this platform is not`);
  const bytes = Buffer.from(e.base64, "base64");
  if (bytes.length % 8 !== 0)
    throw new FormatError(`${what}: ${bytes.length} bytes is not a whole number of float64 values`);
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
