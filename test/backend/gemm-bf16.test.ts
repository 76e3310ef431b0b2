/**
 * The bf16 GEMM (matmul with bf16: true): the reference's rounding (round-to-nearest-even, as torch), and the
 * native kernels at every SIMD level this machine has against the reference on shapes that cross the kernels'
 * blocks (k past kc = 256, m past mc = 144, n past nc = 512 and the 16-column tile), every transpose flag,
 * batches, shared operands (stride 0), accumulation and the few-row products.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { MatmulParams } from "../../src/backend/backend.js";
import { jsKernels } from "../../src/backend/js/index.js";
import { roundedBf16 } from "../../src/backend/js/bf16.js";
import { Rng } from "../../src/util/rng.js";
import { addon, assertClose, atLevel, native, randF32, simdLevels, skipNative } from "./helpers.js";

test("bf16 rounding is round-to-nearest-even on the 16 bits dropped, as torch", () => {
  const cases: [number, number][] = [
    [1, 1],
    [1 + 2 ** -8, 1], // a tie: to the even mantissa
    [1 + 3 * 2 ** -8, 1 + 2 ** -6], // a tie: up to the even one
    [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // just past the tie: up
    [-(1 + 2 ** -8 + 2 ** -20), -(1 + 2 ** -7)],
    [3.140625, 3.140625],
    [Math.fround(Math.PI), 3.140625],
    [0, 0],
    [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    [3.4e38, Number.POSITIVE_INFINITY], // past the largest bf16: overflows as torch's rounding does
  ];
  const got = roundedBf16(new Float32Array(cases.map(([x]) => x)));
  cases.forEach(([x, want], i) => assert.equal(got[i], want, `${x} → ${got[i]}, expected ${want}`));
  assert.ok(Number.isNaN(roundedBf16(new Float32Array([Number.NaN]))[0]));
  assert.ok(Object.is(roundedBf16(new Float32Array([-0]))[0], -0));
});

test("the reference bf16 product is the fp32 product of the rounded operands", () => {
  const r = new Rng(3);
  const a = randF32(r, 7 * 13),
    b = randF32(r, 13 * 5);
  const p: MatmulParams = { batch: 1, m: 7, n: 5, k: 13, transA: false, transB: false };
  const got = new Float32Array(35),
    want = new Float32Array(35),
    fp32 = new Float32Array(35);
  jsKernels.matmul(a, b, got, { ...p, bf16: true });
  jsKernels.matmul(roundedBf16(a), roundedBf16(b), want, p);
  jsKernels.matmul(a, b, fp32, p);
  assertClose(got, want, { rtol: 0, atol: 0 }, "bf16 reference");
  assert.ok(
    got.some((x, i) => x !== fp32[i]),
    "bf16 rounding changes the product",
  );
});

interface Shape {
  batch: number;
  m: number;
  n: number;
  k: number;
  strideA?: number;
  strideB?: number;
  accumulate?: boolean;
}

const SHAPES: Shape[] = [
  { batch: 1, m: 1, n: 1, k: 300 },
  { batch: 1, m: 3, n: 37, k: 19 }, // fewer rows than a tile
  { batch: 1, m: 150, n: 33, k: 257 }, // past mc = 144 and kc = 256: threaded
  { batch: 1, m: 13, n: 530, k: 70 }, // past nc = 512
  { batch: 1, m: 61, n: 67, k: 513, accumulate: true }, // three k blocks into an existing C
  { batch: 1, m: 9, n: 7, k: 0 },
  { batch: 1, m: 9, n: 7, k: 0, accumulate: true },
  { batch: 5, m: 17, n: 18, k: 33 }, // a batch split over threads
  { batch: 3, m: 100, n: 90, k: 64, accumulate: true },
  { batch: 4, m: 7, n: 9, k: 11, strideA: 0 }, // one A for every item
  { batch: 4, m: 70, n: 40, k: 50, strideB: 0 }, // one B for every item, threaded
];

function check(level: string, s: Shape, transA: boolean, transB: boolean, seed: number): void {
  const r = new Rng(seed);
  const sA = s.strideA ?? s.m * s.k,
    sB = s.strideB ?? s.k * s.n;
  const a = randF32(r, Math.max(1, (s.batch - 1) * sA + s.m * s.k));
  const b = randF32(r, Math.max(1, (s.batch - 1) * sB + s.k * s.n));
  const c0 = randF32(r, s.batch * s.m * s.n);
  const p: MatmulParams = { ...s, transA, transB, bf16: true };
  const got = c0.slice(),
    want = c0.slice();
  native!.matmul(a, b, got, p);
  jsKernels.matmul(a, b, want, p);
  // products of bf16 values are exact in fp32, so only the order of the k fp32 additions differs: k·eps at worst
  // (missing the rounding would be off by ~√k·2⁻⁹, far outside this)
  assertClose(
    got,
    want,
    { rtol: 1e-4, atol: 2e-6 * (s.k + 1) },
    `${level} ${JSON.stringify(s)} transA=${transA} transB=${transB}`,
  );
}

for (const level of simdLevels()) {
  test(`bf16 matmul agrees with the reference across blocks, transposes and batches (${level})`, {
    skip: skipNative,
  }, () => {
    atLevel(level, () => {
      let seed = 100;
      for (const s of SHAPES)
        for (const transA of [false, true]) for (const transB of [false, true]) check(level, s, transA, transB, seed++);
    });
  });
}

test("the addon names the bf16 kernel of each level", { skip: skipNative }, () => {
  for (const level of simdLevels()) {
    const name = atLevel(level, () =>
      String((native as unknown as { info(): Record<string, unknown> }).info().gemmBf16),
    );
    assert.match(name, level === "portable" ? /^bf16 portable \d+x\d+$/ : /^bf16 avx2 \d+x\d+$/);
  }
  assert.ok(addon);
});
