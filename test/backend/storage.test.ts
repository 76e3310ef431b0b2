/**
 * Storage on both CPU backends: allocate / upload / download / view / cast, strided copies of every dtype, and the
 * f32 → bf16 / f16 conversions against known bit patterns (ties to even, subnormals, Inf/NaN, f16 overflow).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DTYPES, type Backend } from "../../src/backend/backend.js";
import {
  bf16FromF32Bits,
  bf16FromNumber,
  bf16ToNumber,
  f16FromF32Bits,
  f16FromNumber,
  f16ToNumber,
} from "../../src/backend/dtypes.js";
import { jsBackend } from "../../src/backend/js/index.js";
import { loadNativeBackend } from "../../src/backend/native.js";
import { f32ToF16 } from "../../src/io/dtypes.js";
import { Rng } from "../../src/util/rng.js";

const native = loadNativeBackend().backend;
const backends: Backend[] = native ? [jsBackend, native] : [jsBackend];

/** The f32 bit pattern as a number. */
const bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0];
const fromBits = (u: number): number => new Float32Array(Uint32Array.of(u).buffer)[0];

test("f32 → bf16 rounds to nearest even on known bit patterns, as torch", () => {
  const cases: [number, number, string][] = [
    [0x3f800000, 0x3f80, "1"],
    [0x3f808000, 0x3f80, "1 + 2^-8: a tie, to the even 1"],
    [0x3f818000, 0x3f82, "1 + 3·2^-8: a tie, to the even 1 + 2^-6"],
    [0x3f808001, 0x3f81, "just above the tie rounds up"],
    [0x3f807fff, 0x3f80, "just below the tie rounds down"],
    [0x80000000, 0x8000, "-0 keeps its sign"],
    [0x00000001, 0x0000, "the smallest f32 subnormal rounds to +0"],
    [0x00018000, 0x0002, "a subnormal tie goes to even"],
    [0x7f800000, 0x7f80, "+Inf"],
    [0xff800000, 0xff80, "-Inf"],
    [0x7f7fffff, 0x7f80, "FLT_MAX rounds up to Inf"],
    [0x7fc00000, 0x7fc0, "NaN"],
    [0xffc00001, 0x7fc0, "any NaN becomes the quiet NaN 0x7fc0"],
    [0x7f800001, 0x7fc0, "a signalling NaN too"],
  ];
  for (const [u, want, label] of cases) assert.equal(bf16FromF32Bits(u), want, label);
  assert.ok(Number.isNaN(bf16ToNumber(0x7fc0)));
  assert.equal(bf16ToNumber(0x3f81), 1.0078125);
  assert.equal(bf16ToNumber(0xff80), -Infinity);
  assert.ok(Object.is(bf16ToNumber(0x8000), -0));
});

test("f32 → f16 rounds to nearest even, with subnormals, overflow to Inf and NaN", () => {
  const cases: [number, number, string][] = [
    [1, 0x3c00, "1"],
    [fromBits(0x3f801000), 0x3c00, "1 + 2^-11: a tie, to the even 1"],
    [fromBits(0x3f803000), 0x3c02, "1 + 3·2^-11: a tie, to the even 1 + 2^-9"],
    [fromBits(0x3f801001), 0x3c01, "just above the tie rounds up"],
    [65504, 0x7bff, "the largest half"],
    [65519, 0x7bff, "below the midpoint to 65536 stays finite"],
    [65520, 0x7c00, "the midpoint overflows to Inf (ties to even)"],
    [1e5, 0x7c00, "overflow gives +Inf"],
    [-1e5, 0xfc00, "and -Inf"],
    [2 ** -24, 0x0001, "the smallest subnormal"],
    [2 ** -25, 0x0000, "half of it is a tie, to the even 0"],
    [1.5 * 2 ** -25, 0x0001, "above half rounds up"],
    [3 * 2 ** -25, 0x0002, "a subnormal tie goes to even"],
    [1023 * 2 ** -24, 0x03ff, "the largest subnormal"],
    [2 ** -14 - 2 ** -25, 0x0400, "a tie between the largest subnormal and the smallest normal goes to the normal"],
    [2 ** -14, 0x0400, "the smallest normal"],
    [-0, 0x8000, "-0"],
    [Infinity, 0x7c00, "+Inf"],
    [-Infinity, 0xfc00, "-Inf"],
    [Number.NaN, 0x7e00, "NaN"],
  ];
  for (const [v, want, label] of cases) assert.equal(f16FromNumber(v), want, `${label}: ${v}`);
  assert.equal(f16FromF32Bits(0xffc00000), 0xfe00, "a negative NaN keeps its sign");
  assert.equal(f16ToNumber(0x0001), 2 ** -24);
  assert.equal(f16ToNumber(0x7bff), 65504);
  assert.equal(f16ToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16ToNumber(0x7e00)));
});

test("every half and bf16 value survives decode → encode; f16 agrees with the safetensors encoder", () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = f16ToNumber(h);
    if (!Number.isNaN(v)) assert.equal(f16FromNumber(v), h, `f16 0x${h.toString(16)}`);
    const w = bf16ToNumber(h);
    if (!Number.isNaN(w)) assert.equal(bf16FromNumber(w), h, `bf16 0x${h.toString(16)}`);
  }
  const rng = new Rng(5);
  for (let i = 0; i < 20000; i++) {
    // values spread over the half's whole range, subnormals included
    const v = (rng.uniform() < 0.5 ? -1 : 1) * 2 ** rng.range(-27, 17);
    assert.equal(f16FromNumber(v), f32ToF16(v), `${v}`);
    // bf16 is the f32 pattern's top half, rounded: check the arithmetic definition
    const u = bits(v);
    const down = (u >>> 16) << 16;
    const up = down + 0x10000;
    const lo = Math.abs(fromBits(down)),
      hi = Math.abs(fromBits(up >>> 0)),
      a = Math.abs(fromBits(u));
    const want =
      a - lo < hi - a
        ? down >>> 16
        : a - lo > hi - a
          ? (up >>> 16) & 0xffff
          : (down >>> 16) & 1
            ? (up >>> 16) & 0xffff
            : down >>> 16;
    assert.equal(bf16FromF32Bits(u), want, `${v}`);
  }
});

for (const b of backends) {
  test(`${b.name}: allocate, upload, download, view and cast`, () => {
    for (const dtype of DTYPES) {
      const s = b.allocate(dtype, 5);
      assert.equal(s.dtype, dtype);
      assert.equal(s.length, 5);
      assert.deepEqual(Array.from(b.download(s)), [0, 0, 0, 0, 0], `${dtype} starts zeroed`);
      assert.equal(b.allocate(dtype, 10000, false).length, 10000);
    }
    const f = b.upload("f32", [1, 2.5, -3, 4, 5]);
    const copy = b.download(f);
    assert.ok(copy instanceof Float32Array);
    copy[0] = 99; // a copy: the storage does not change
    assert.deepEqual(Array.from(b.download(f)), [1, 2.5, -3, 4, 5]);
    // a view shares elements
    const v = b.view(f, 1, 3);
    assert.equal(v.length, 3);
    b.fill(v, 7);
    assert.deepEqual(Array.from(b.download(f)), [1, 7, 7, 7, 5]);
    assert.throws(() => b.view(f, 3, 3), RangeError);
    // bf16 and f16 upload numbers rounded, download bit patterns
    const h = b.upload("bf16", [1, fromBits(0x3f808000), Number.NaN]);
    assert.deepEqual(Array.from(b.download(h)), [0x3f80, 0x3f80, 0x7fc0]);
    const half = b.upload("f16", Uint16Array.of(0x3c00, 0x7bff));
    assert.deepEqual(Array.from(b.download(half)), [0x3c00, 0x7bff], "a Uint16Array is taken as bit patterns");
    // cast: f32 → f16 → f32, f32 → i32 / i8 truncate, i32 → f32
    const x = b.upload("f32", [1, 65520, 2 ** -25, -2.75]);
    const x16 = b.allocate("f16", 4);
    b.cast(x, x16);
    assert.deepEqual(Array.from(b.download(x16)), [0x3c00, 0x7c00, 0x0000, 0xc180]);
    const back = b.allocate("f32", 4);
    b.cast(x16, back);
    assert.deepEqual(Array.from(b.download(back)), [1, Infinity, 0, -2.75]);
    const i8 = b.allocate("i8", 4);
    b.cast(b.upload("f32", [1.9, -1.9, 127, -128]), i8);
    assert.deepEqual(Array.from(b.download(i8)), [1, -1, 127, -128]);
    const fromInt = b.allocate("f32", 2);
    b.cast(b.upload("i32", [7, -9]), fromInt);
    assert.deepEqual(Array.from(b.download(fromInt)), [7, -9]);
  });

  test(`${b.name}: strided copies move every dtype; accumulation needs f32 or i32`, () => {
    for (const dtype of DTYPES) {
      const src = b.upload(dtype, [1, 2, 3, 4, 5, 6]); // [2, 3]
      const dst = b.allocate(dtype, 6);
      b.stridedCopy(src, { offset: 0, strides: [1, 3] }, dst, { offset: 0, strides: [2, 1] }, [3, 2], false);
      const got = b.allocate("f32", 6);
      b.cast(dst, got);
      assert.deepEqual(Array.from(b.download(got)), [1, 4, 2, 5, 3, 6], `${dtype} transpose`);
    }
    const s = b.upload("bf16", [1, 2]);
    assert.throws(
      () =>
        b.stridedCopy(s, { offset: 0, strides: [1] }, b.allocate("bf16", 2), { offset: 0, strides: [1] }, [2], true),
      /cannot accumulate into bf16/,
    );
    assert.throws(
      () =>
        b.stridedCopy(s, { offset: 0, strides: [1] }, b.allocate("f32", 2), { offset: 0, strides: [1] }, [2], false),
      /src is bf16 but dst is f32/,
    );
  });

  test(`${b.name}: kernels run on storages without copying them`, () => {
    const x = b.upload("f32", [1, 2, 3]);
    const y = b.upload("f32", [10, 20, 30]);
    b.axpy(x, y, 2);
    assert.deepEqual(Array.from(b.download(y)), [12, 24, 36]);
    // a view into the middle of a storage is a kernel operand like any other
    b.affine(b.view(y, 1, 2), b.view(x, 0, 2), 0.5, 0);
    assert.deepEqual(Array.from(b.download(x)), [12, 18, 3]);
  });
}
