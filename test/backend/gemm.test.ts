/**
 * GEMM against the reference on shapes that cross every block boundary of the native kernel (k past kc = 256,
 * m past mc, n past the register tile and nc), with every transpose flag, batched and broadcast operands
 * (stride 0), accumulation, and sizes large enough for the multi-threaded paths (grid split and batch split), and
 * the matrix-vector path that products of at most 4 rows take.
 */
import { test } from "node:test";
import type { MatmulParams } from "../../src/backend/backend.js";
import { jsKernels } from "../../src/backend/js/index.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose, atLevel, native, randF32, simdLevels, skipNative } from "./helpers.js";

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
  { batch: 1, m: 1, n: 1, k: 600 },
  { batch: 1, m: 1, n: 300, k: 64 }, // a row vector times a matrix
  { batch: 1, m: 300, n: 1, k: 64 },
  { batch: 1, m: 15, n: 33, k: 257 }, // one past kc, one past the 14-row and 32-column tiles
  { batch: 1, m: 350, n: 70, k: 513 }, // past mc = 336 and two k blocks: threaded
  { batch: 1, m: 3, n: 4100, k: 5 }, // past nc = 4096
  { batch: 1, m: 128, n: 128, k: 0, accumulate: true },
  { batch: 1, m: 5, n: 6, k: 0 },
  { batch: 4, m: 33, n: 17, k: 65 }, // batch split over threads
  { batch: 3, m: 70, n: 90, k: 100, accumulate: true }, // batch not divisible by the thread count: grid per item
  { batch: 5, m: 7, n: 9, k: 11, strideA: 0 }, // one A for every item
  { batch: 5, m: 7, n: 9, k: 11, strideB: 0 },
  { batch: 6, m: 64, n: 64, k: 32, strideB: 0, accumulate: true },
  // the matrix-vector path (m <= 4): odd widths past its 64-row and 512-column blocks, batches, accumulation
  { batch: 1, m: 1, n: 1037, k: 33 },
  { batch: 1, m: 2, n: 129, k: 7 },
  { batch: 1, m: 3, n: 515, k: 17, accumulate: true },
  { batch: 1, m: 4, n: 67, k: 257 },
  { batch: 3, m: 1, n: 131, k: 19, strideB: 0 },
  { batch: 5, m: 2, n: 5, k: 3, strideA: 0, accumulate: true },
  { batch: 7, m: 1, n: 33, k: 64 },
];

function check(level: string, s: Shape, transA: boolean, transB: boolean, seed: number): void {
  const r = new Rng(seed);
  const sA = s.strideA ?? s.m * s.k,
    sB = s.strideB ?? s.k * s.n;
  const a = randF32(r, Math.max(1, (s.batch - 1) * sA + s.m * s.k));
  const b = randF32(r, Math.max(1, (s.batch - 1) * sB + s.k * s.n));
  const c0 = randF32(r, s.batch * s.m * s.n);
  const p: MatmulParams = { ...s, transA, transB };
  const got = c0.slice(),
    want = c0.slice();
  native!.matmul(a, b, got, p);
  jsKernels.matmul(a, b, want, p);
  // products of k terms in [-1, 1): f32 rounding grows like k·eps at worst
  assertClose(
    got,
    want,
    { rtol: 1e-4, atol: 2e-6 * (s.k + 1) },
    `${level} ${JSON.stringify(s)} transA=${transA} transB=${transB}`,
  );
}

for (const level of simdLevels()) {
  test(`matmul agrees with the reference across block edges, transposes and batches (${level})`, {
    skip: skipNative,
  }, () => {
    atLevel(level, () => {
      let seed = 0;
      for (const s of SHAPES)
        for (const transA of [false, true]) for (const transB of [false, true]) check(level, s, transA, transB, seed++);
    });
  });
}

/** Products too large for the reference: a few hundred entries of C checked against float64 dot products. */
function checkSampled(s: Shape, transA: boolean, transB: boolean, seed: number): void {
  const r = new Rng(seed);
  const a = randF32(r, s.m * s.k),
    b = randF32(r, s.k * s.n),
    c = randF32(r, s.m * s.n);
  const before = c.slice();
  native!.matmul(a, b, c, { ...s, transA, transB });
  for (let t = 0; t < 400; t++) {
    const i = r.int(s.m),
      j = r.int(s.n);
    let want = s.accumulate ? before[i * s.n + j] : 0;
    for (let q = 0; q < s.k; q++)
      want += (transA ? a[q * s.m + i] : a[i * s.k + q]) * (transB ? b[j * s.k + q] : b[q * s.n + j]);
    assertClose(
      [c[i * s.n + j]],
      [want],
      { rtol: 1e-4, atol: 2e-6 * s.k },
      `${JSON.stringify(s)} transA=${transA} transB=${transB} C[${i}, ${j}]`,
    );
  }
}

test("large products: several shared blocks of B (rows mode) and a wide one split by columns", {
  skip: skipNative,
}, () => {
  let seed = 500;
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      // k = 9000: the shared packed B holds 448 columns, so n = 600 takes two blocks
      checkSampled({ batch: 1, m: 120, n: 600, k: 9000, accumulate: true }, transA, transB, seed++);
      // 20 rows are too few to share out: columns mode
      checkSampled({ batch: 1, m: 20, n: 3000, k: 300 }, transA, transB, seed++);
    }
});

test("matmul at the native default level", { skip: skipNative }, () => {
  check("default", { batch: 2, m: 129, n: 65, k: 300 }, true, true, 99);
});
