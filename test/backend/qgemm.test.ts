/**
 * The int8 products accumulate exactly: with integer activations whose rows reach ±127 (activation scale exactly
 * 1) and unit weight scales, qlinear's output IS the int32 accumulation, which must equal the integer product
 * computed here, on the reference and on the native backend at every SIMD level — including a depth where int16
 * pair sums would saturate (all ±127) and shapes off the 6 × 16 tile and the depth pairs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { int8PackedLength, type HostKernels } from "../../src/backend/backend.js";
import { jsKernels } from "../../src/backend/js/index.js";
import { Rng } from "../../src/util/rng.js";
import { atLevel, native, simdLevels, skipNative } from "./helpers.js";

interface Case {
  rows: number;
  n: number;
  k: number;
  fill?: number;
}

// [rows, n, k]; `fill` makes every activation and weight ±fill (the largest sums: 127² · k < 2^24 stays exact)
const CASES: Case[] = [
  { rows: 1, n: 1, k: 1 },
  { rows: 1, n: 17, k: 9 },
  { rows: 2, n: 40, k: 1001, fill: 127 },
  { rows: 4, n: 33, k: 64 },
  { rows: 7, n: 19, k: 3 },
  { rows: 50, n: 130, k: 77 },
];

function makeCase(c: Case, rng: Rng) {
  const { rows, n, k } = c;
  const x = new Float32Array(rows * k);
  const w = new Int8Array(n * k);
  for (let i = 0; i < x.length; i++) x[i] = c.fill ? (i % 3 === 2 ? -c.fill : c.fill) : rng.int(255) - 127;
  for (let r = 0; r < rows; r++) x[r * k] = c.fill ? c.fill : 127; // every row reaches 127: scale exactly 1
  for (let i = 0; i < w.length; i++) w[i] = c.fill ? (i % 5 === 1 ? -c.fill : c.fill) : rng.int(255) - 127;
  const want = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[r * k + p] * w[j * k + p];
      want[r * n + j] = s;
    }
  return { x, w, want };
}

function run(b: HostKernels, c: Case, x: Float32Array, w: Int8Array): Float32Array {
  const packed = new Int8Array(int8PackedLength(c.n, c.k));
  b.packInt8(w, packed, c.n, c.k);
  const out = new Float32Array(c.rows * c.n);
  b.qlinear(x, packed, new Float32Array(c.n).fill(1), null, out, { rows: c.rows, n: c.n, k: c.k });
  return out;
}

function check(b: HostKernels, label: string): void {
  let seed = 7;
  for (const c of CASES) {
    const { x, w, want } = makeCase(c, new Rng(seed++));
    const got = run(b, c, x, w);
    for (let i = 0; i < want.length; i++)
      if (got[i] !== want[i])
        assert.fail(`${label} ${c.rows}x${c.n}x${c.k}: element ${i} is ${got[i]}, the integer product is ${want[i]}`);
  }
}

test("the reference qlinear accumulates int8 products exactly", () => check(jsKernels, "js"));

for (const level of simdLevels())
  test(`native qlinear accumulates int8 products exactly (${level})`, { skip: skipNative }, () =>
    atLevel(level, () => check(native as HostKernels, level)),
  );

test("quantizeRows: symmetric per row, round half to even, zero rows give scale 0", () => {
  const x = Float32Array.from([127, 0.5, 1.5, -2.5, -127, 3, 0, 0, 0, 0, 0, 0]);
  const q = new Int8Array(12);
  const s = new Float32Array(2);
  for (const b of [jsKernels, ...(native ? [native] : [])]) {
    b.quantizeRows(x.subarray(0, 12), q, s, 2, 6);
    assert.deepEqual([...q], [127, 0, 2, -2, -127, 3, 0, 0, 0, 0, 0, 0], b.name);
    assert.deepEqual([...s], [1, 0], b.name);
  }
});
