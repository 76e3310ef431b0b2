/**
 * The element types a safetensors file can hold, and their conversion to graft's two in-memory types:
 * floating types become f32 (F16/BF16/F8 upcast exactly, F64 rounded), integer and boolean types become i32
 * (with a range check for the wide ones). Writers go the other way: f32 → F32/F16/BF16, i32 → I64/I32.
 */

export type SafeDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "F8_E4M3"
  | "F8_E5M2"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafeDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export function isSafeDType(s: unknown): s is SafeDType {
  return typeof s === "string" && Object.hasOwn(DTYPE_BYTES, s);
}

/** Whether a dtype loads as f32 (true) or i32 (false). */
export function isFloatDType(d: SafeDType): boolean {
  return d[0] === "F" || d === "BF16";
}

// ---- half precision: the backend's conversions (bit-exact as PyTorch's), under the names the file codecs use

import { f16ToNumber } from "../backend/index.js";

export {
  bf16ToNumber as bf16ToF32,
  bf16FromNumber as f32ToBf16,
  f16ToNumber as f16ToF32,
  f16FromNumber as f32ToF16,
} from "../backend/index.js";

/** FP8 E4M3 ("fn": no infinities, 0x7f/0xff are NaN) → f32. */
export function f8e4m3ToF32(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const frac = b & 0x7;
  if (exp === 0xf && frac === 0x7) return NaN;
  if (exp === 0) return sign * frac * 2 ** -9;
  return sign * (1 + frac / 8) * 2 ** (exp - 7);
}

/** FP8 E5M2 (IEEE-like, with infinities) → f32. */
export function f8e5m2ToF32(b: number): number {
  return f16ToNumber((b & 0xff) << 8);
}
