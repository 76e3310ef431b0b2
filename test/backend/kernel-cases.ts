/**
 * The kernel table: parity cases for every kernel, listed once. The mapped type makes a method without
 * cases a compile error. Shapes are the awkward ones (1, 7, 33, 127, 257, empty, broadcast, strided) plus a few
 * large enough to run on several threads; special values (NaN, ±inf, -inf rows) appear where kernels must
 * handle them. parity.test.ts runs every case on the native backend at every SIMD level and on the TypeScript
 * reference, and compares what each kernel wrote.
 */
import {
  ACTIVATIONS,
  BINARY_OPS,
  UNARY_OPS,
  type HostKernels,
  type KernelMethod,
  type UnaryOp,
  int8PackedLength,
} from "../../src/backend/backend.js";
import { jsKernels } from "../../src/backend/js/index.js";
import type { Rng } from "../../src/util/rng.js";
import { EXACT, randF32, randI32, type Tolerance } from "./helpers.js";

// ---- fused attention: odd shapes (blocks of 32 queries and 64 keys cut mid-way, dim 1 and odd), masks, a cache
interface FlashShape {
  batch: number;
  heads: number;
  queries: number;
  keys: number;
  dim: number;
  kvRows: number;
  /** Heads of k and v (grouped-query attention when fewer than heads). */
  kvHeads?: number;
  causal: boolean;
  mask: "none" | "padding" | "segments";
}
const FLASH_SHAPES: FlashShape[] = [
  { batch: 1, heads: 1, queries: 1, keys: 1, dim: 1, kvRows: 1, causal: false, mask: "none" },
  { batch: 2, heads: 3, queries: 7, keys: 7, dim: 5, kvRows: 7, causal: true, mask: "padding" },
  { batch: 2, heads: 2, queries: 5, keys: 33, dim: 1, kvRows: 40, causal: true, mask: "none" },
  { batch: 1, heads: 2, queries: 70, keys: 130, dim: 17, kvRows: 130, causal: false, mask: "padding" },
  { batch: 2, heads: 1, queries: 97, keys: 97, dim: 8, kvRows: 97, causal: true, mask: "segments" },
  { batch: 1, heads: 3, queries: 1, keys: 77, dim: 64, kvRows: 128, causal: true, mask: "padding" },
  { batch: 2, heads: 4, queries: 150, keys: 150, dim: 32, kvRows: 150, causal: false, mask: "none" },
  { batch: 2, heads: 6, queries: 37, keys: 41, dim: 8, kvRows: 45, kvHeads: 2, causal: true, mask: "padding" },
  { batch: 1, heads: 3, queries: 1, keys: 70, dim: 64, kvRows: 96, kvHeads: 1, causal: true, mask: "none" },
];
/** Summation in blocks with an online softmax (native) vs one row in double precision (reference). */
const FLASH_TOL: Tolerance = { rtol: 1e-4, atol: 2e-5 };
const flashLabel = (s: FlashShape): string =>
  `B${s.batch} H${s.heads}${s.kvHeads ? `/${s.kvHeads}` : ""} Tq${s.queries} Tk${s.keys}/${s.kvRows} D${s.dim}${s.causal ? " causal" : ""} ${s.mask}`;
function flashArgs(s: FlashShape, r: Rng): { forward: unknown[]; backward: unknown[] } {
  const nq = s.batch * s.heads * s.queries * s.dim;
  const nk = s.batch * (s.kvHeads ?? s.heads) * s.kvRows * s.dim;
  const q = randF32(r, nq, -2, 2);
  const k = randF32(r, nk, -2, 2);
  const v = randF32(r, nk, -2, 2);
  let keep: Float32Array | null = null;
  let segments: Int32Array | null = null;
  if (s.mask !== "none") {
    keep = randF32(r, s.batch * s.keys).map((x) => (x > -0.6 ? 1 : 0));
    if (s.batch > 1) keep.fill(0, s.keys, 2 * s.keys); // a batch item with every key hidden
  }
  if (s.mask === "segments") {
    segments = new Int32Array(s.batch * s.keys);
    for (let b = 0; b < s.batch; b++) {
      let id = 1;
      for (let j = 0; j < s.keys; j++) {
        if (j > 0 && r.uniform() < 0.1) id++;
        segments[b * s.keys + j] = id;
      }
    }
  }
  const p = { ...s, scale: 0.41 };
  const out = new Float32Array(nq);
  const lse = new Float32Array(s.batch * s.heads * s.queries);
  jsKernels.flashAttention(q, k, v, keep, segments, out, lse, p);
  return {
    forward: [q, k, v, keep, segments, new Float32Array(nq), new Float32Array(lse.length), p],
    backward: [
      q,
      k,
      v,
      keep,
      segments,
      out,
      lse,
      randF32(r, nq),
      new Float32Array(nq),
      new Float32Array(nk).fill(7),
      new Float32Array(nk).fill(7),
      p,
    ],
  };
}

export interface KernelCase {
  label: string;
  /** Fresh arguments for the call; typed arrays are copied for each backend. */
  args: (rng: Rng) => unknown[];
  /** Indices of the arguments the kernel writes; each is compared after the call, as is a returned number. */
  outputs: number[];
  tol?: Tolerance;
}

/** Float kernels that round differently from the reference only in the last bits. */
const TIGHT: Tolerance = { rtol: 2e-6, atol: 1e-6 };
/** Reductions and transcendental functions: different summation order and polynomial approximations. */
const LOOSE: Tolerance = { rtol: 2e-5, atol: 2e-6 };

const SIZES = [0, 1, 7, 33, 257, 70001];

const dense = (shape: number[]): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
};
/** Strides of `from` broadcast to `to` (0 on broadcast axes), numpy-style right alignment. */
const bcast = (from: number[], to: number[]): number[] => {
  const ds = dense(from);
  return to.map((_, i) => {
    const j = i - (to.length - from.length);
    return j < 0 || from[j] === 1 ? 0 : ds[j];
  });
};
const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Values salted with special values the kernels must pass through. */
function withSpecials(x: Float32Array, rng: Rng): Float32Array {
  const specials = [NaN, Infinity, -Infinity, 0, -0];
  for (let i = 0; i < Math.min(specials.length, x.length >> 3); i++) x[rng.int(x.length)] = specials[i];
  return x;
}

/** Inputs in each unary op's domain (logs and roots of positives, moderate arguments for exp). */
function unaryInput(op: UnaryOp, rng: Rng, n: number): Float32Array {
  switch (op) {
    case "log":
    case "sqrt":
    case "rsqrt":
    case "pow":
      return randF32(rng, n, 0.05, 5);
    case "reciprocal":
      return randF32(rng, n, 0.2, 3).map((v, i) => (i % 2 ? -v : v));
    case "exp":
      return randF32(rng, n, -20, 20);
    default:
      return randF32(rng, n, -6, 6);
  }
}

const unaryParam = (op: UnaryOp, i: number): number => (op === "pow" ? [2, 3, 0.5, -1.5, 1, 0][i % 6] : 0);

function ceArgs(
  rng: Rng,
  rows: number,
  classes: number,
  weighted: boolean,
  smoothing: number,
  ignore: boolean,
): unknown[] {
  const targets = randI32(rng, rows, 0, classes);
  if (ignore) for (let r = 0; r < rows; r += 3) targets[r] = -100;
  const weights = weighted ? randF32(rng, classes, 0.2, 2) : null;
  return [randF32(rng, rows * classes, -8, 8), targets, weights, { rows, classes, ignoreIndex: -100, smoothing }];
}

/** Random int8 weights in [-127, 127] (what quantizeRows produces). */
function randI8(rng: Rng, n: number): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(255) - 127;
  return a;
}

/** Activations for the int8 kernels: random rows, a zero row, and rows whose scaled values are exact ties (k + 0.5). */
function quantInput(rng: Rng, rows: number, cols: number): Float32Array {
  const x = randF32(rng, rows * cols, -3, 3);
  if (rows > 1) x.fill(0, cols, 2 * cols);
  if (rows > 2 && cols > 1) {
    for (let c = 0; c < cols; c++) x[2 * cols + c] = rng.int(253) - 126 + 0.5;
    x[2 * cols] = 127; // amax 127: the inverse scale is exactly 1
  }
  return x;
}

/** (rows, n, k) of the int8 products: edges of the 6 × 16 tiles and depth pairs, GEMV rows, threaded sizes. */
const QSHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 33, 7],
  [3, 17, 1],
  [4, 300, 513],
  [5, 31, 33],
  [7, 16, 2],
  [13, 257, 127],
  [64, 70, 255],
  [2, 5, 0],
  [0, 9, 4],
];

type Cases = { [M in KernelMethod]: KernelCase[] };

export const KERNEL_CASES: Cases = {
  fill: SIZES.map((n) => ({
    label: `n=${n}`,
    args: (r) => [new Float32Array(n), r.range(-3, 3)],
    outputs: [0],
    tol: EXACT,
  })),
  axpy: SIZES.map((n) => ({
    label: `n=${n}`,
    args: (r) => [randF32(r, n), randF32(r, n), r.range(-2, 2)],
    outputs: [1],
    tol: TIGHT,
  })),
  affine: SIZES.map((n) => ({
    label: `n=${n}`,
    args: (r) => [randF32(r, n), new Float32Array(n), r.range(-2, 2), r.range(-2, 2)],
    outputs: [1],
    tol: TIGHT,
  })),
  sumSquares: [[], [0], [7], [1, 33, 257], [70001, 3]].map((ns) => ({
    label: `lengths ${JSON.stringify(ns)}`,
    args: (r) => [ns.map((n) => randF32(r, n, -3, 3))],
    outputs: [],
    tol: { rtol: 1e-12, atol: 0 },
  })),
  // GEMM gets its own, longer sweep in gemm.test.ts; these cover the parameter forms.
  matmul: [
    [1, 1, 1],
    [7, 33, 1],
    [1, 257, 7],
    [33, 7, 127],
    [127, 33, 257],
  ].flatMap(([m, n, k]) =>
    [false, true].flatMap((transA) =>
      [false, true].map((transB) => ({
        label: `${m}x${k}x${n} transA=${transA} transB=${transB}`,
        args: (r: Rng) => [
          randF32(r, m * k),
          randF32(r, k * n),
          randF32(r, m * n),
          { batch: 1, m, n, k, transA, transB, accumulate: m % 2 === 1 },
        ],
        outputs: [2],
        tol: { rtol: 1e-4, atol: 2e-5 * k },
      })),
    ),
  ),
  unary: UNARY_OPS.flatMap((op) =>
    [1, 33, 257, 70001].map((n, i) => ({
      label: `${op} n=${n}${op === "pow" ? ` ** ${unaryParam(op, i)}` : ""}`,
      args: (r: Rng) => [
        op,
        n > 33 ? withSpecials(unaryInput(op, r, n), r) : unaryInput(op, r, n),
        new Float32Array(n),
        unaryParam(op, i),
      ],
      outputs: [2],
      tol: LOOSE,
    })),
  ),
  unaryBackward: UNARY_OPS.flatMap((op) =>
    [7, 257, 70001].map((n, i) => ({
      label: `${op} n=${n}`,
      args: (r: Rng) => {
        const x = unaryInput(op, r, n);
        const y = new Float32Array(n);
        jsKernels.unary(op, x, y, unaryParam(op, i));
        return [op, x, y, randF32(r, n), new Float32Array(n), unaryParam(op, i)];
      },
      outputs: [4],
      tol: LOOSE,
    })),
  ),
  binary: BINARY_OPS.flatMap((op) => {
    const shapes: [number[], number[], number[]][] = [
      [[7], [7], [7]],
      [[3, 5], [5], [3, 5]],
      [
        [3, 1],
        [1, 5],
        [3, 5],
      ],
      [
        [2, 3, 4],
        [2, 1, 4],
        [2, 3, 4],
      ],
      [[], [4], [4]],
      [[], [], []],
      [[300, 257], [257], [300, 257]],
      [[2, 0, 3], [3], [2, 0, 3]],
    ];
    return shapes.map(([sa, sb, so]) => ({
      label: `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`,
      args: (r: Rng) => {
        const pos = op === "pow";
        // comparisons get small integers, so equal pairs are common
        const a =
          op === "eq" ? Float32Array.from(randI32(r, count(sa), -2, 3)) : randF32(r, count(sa), pos ? 0.1 : -3, 3);
        const b =
          op === "eq" ? Float32Array.from(randI32(r, count(sb), -2, 3)) : randF32(r, count(sb), pos ? -2 : -3, 3);
        return [op, a, b, new Float32Array(count(so)), so, bcast(sa, so), bcast(sb, so)];
      },
      outputs: [3],
      tol: op === "pow" ? LOOSE : EXACT,
    }));
  }),
  where: [
    [[7], [7], [7], [7]],
    [[3, 5], [3, 1], [5], [3, 5]],
    [[257, 300], [300], [257, 1], [257, 300]],
  ].map(([sc, sa, sb, so]) => ({
    label: `${JSON.stringify(sc)} ? ${JSON.stringify(sa)} : ${JSON.stringify(sb)}`,
    args: (r: Rng) => {
      const c = randF32(r, count(sc)).map((v) => (v > 0 ? 1 : 0));
      return [
        c,
        randF32(r, count(sa)),
        randF32(r, count(sb)),
        new Float32Array(count(so)),
        so,
        bcast(sc, so),
        bcast(sa, so),
        bcast(sb, so),
      ];
    },
    outputs: [3],
    tol: EXACT,
  })),
  stridedCopy: [
    {
      label: "transpose [3,4] -> [4,3]",
      src: 12,
      from: { offset: 0, strides: [1, 4] },
      dst: 12,
      to: { offset: 0, strides: [3, 1] },
      shape: [4, 3],
      acc: false,
    },
    {
      label: "permute [2,3,4] (2,0,1)",
      src: 24,
      from: { offset: 0, strides: [1, 12, 4] },
      dst: 24,
      to: { offset: 0, strides: [6, 3, 1] },
      shape: [4, 2, 3],
      acc: false,
    },
    {
      label: "broadcast [5] -> [3,5]",
      src: 5,
      from: { offset: 0, strides: [0, 1] },
      dst: 15,
      to: { offset: 0, strides: [5, 1] },
      shape: [3, 5],
      acc: false,
    },
    {
      label: "sum [3,5] -> [5] (accumulate, dst stride 0)",
      src: 15,
      from: { offset: 0, strides: [5, 1] },
      dst: 5,
      to: { offset: 0, strides: [0, 1] },
      shape: [3, 5],
      acc: true,
    },
    {
      label: "sum rows into one element",
      src: 33,
      from: { offset: 0, strides: [1] },
      dst: 1,
      to: { offset: 0, strides: [0] },
      shape: [33],
      acc: true,
    },
    {
      label: "slice with offsets",
      src: 40,
      from: { offset: 7, strides: [8, 1] },
      dst: 30,
      to: { offset: 2, strides: [9, 2] },
      shape: [3, 4],
      acc: true,
    },
    {
      label: "negative strides (flip)",
      src: 10,
      from: { offset: 9, strides: [-1] },
      dst: 10,
      to: { offset: 0, strides: [1] },
      shape: [10],
      acc: false,
    },
    {
      label: "empty",
      src: 4,
      from: { offset: 0, strides: [1, 1] },
      dst: 4,
      to: { offset: 0, strides: [1, 1] },
      shape: [0, 4],
      acc: false,
    },
    {
      label: "rank 0",
      src: 3,
      from: { offset: 2, strides: [] },
      dst: 2,
      to: { offset: 1, strides: [] },
      shape: [],
      acc: true,
    },
    {
      label: "big transpose [300, 257]",
      src: 77100,
      from: { offset: 0, strides: [1, 257] },
      dst: 77100,
      to: { offset: 0, strides: [300, 1] },
      shape: [257, 300],
      acc: false,
    },
    {
      label: "batched transpose [3, 50, 40] -> [3, 40, 50], accumulate",
      src: 6000,
      from: { offset: 0, strides: [2000, 1, 40] },
      dst: 6000,
      to: { offset: 0, strides: [2000, 50, 1] },
      shape: [3, 40, 50],
      acc: true,
    },
    {
      label: "big accumulate into broadcast",
      src: 77100,
      from: { offset: 0, strides: [257, 1] },
      dst: 257,
      to: { offset: 0, strides: [0, 1] },
      shape: [300, 257],
      acc: true,
    },
  ].flatMap((c) =>
    [false, true].map((ints) => ({
      label: `${c.label}${ints ? " (i32)" : ""}`,
      args: (r: Rng) => {
        const src = ints ? randI32(r, c.src, -1000, 1000) : randF32(r, c.src);
        const dst = ints ? randI32(r, c.dst, -1000, 1000) : randF32(r, c.dst);
        return [src, c.from, dst, c.to, c.shape, c.acc];
      },
      outputs: [2],
      tol: c.acc && !ints ? TIGHT : EXACT,
    })),
  ),
  reduce: (["sum", "max", "min"] as const).flatMap((op) =>
    [
      [1, 7, 1],
      [3, 33, 5],
      [1, 257, 1],
      [2, 0, 3],
      [257, 300, 1],
      [1, 300, 257],
      [3, 1, 7],
      [4, 50000, 1],
    ].map(([outer, dim, inner]) => ({
      label: `${op} [${outer}, ${dim}, ${inner}]`,
      args: (r: Rng) => {
        const x = randF32(r, outer * dim * inner, -5, 5);
        if (op !== "sum" && x.length > 100) x[17] = NaN;
        return [op, x, new Float32Array(outer * inner), { outer, dim, inner }];
      },
      outputs: [2],
      tol: op === "sum" ? { rtol: 1e-6, atol: 1e-6 } : EXACT,
    })),
  ),
  argReduce: (["argmax", "argmin"] as const).flatMap((op) =>
    [
      [1, 7, 1],
      [3, 33, 5],
      [257, 300, 1],
      [2, 40, 300],
    ].map(([outer, dim, inner]) => ({
      label: `${op} [${outer}, ${dim}, ${inner}]`,
      args: (r: Rng) => {
        // few distinct values, so ties are common and the first index must win
        const x = randI32(r, outer * dim * inner, -4, 4);
        const xf = Float32Array.from(x);
        if (xf.length > 100) xf[23] = NaN;
        return [op, xf, new Int32Array(outer * inner), { outer, dim, inner }];
      },
      outputs: [2],
      tol: EXACT,
    })),
  ),
  gatherAxis: [
    [1, 7, 1],
    [3, 33, 5],
    [257, 30, 40],
  ].map(([outer, dim, inner]) => ({
    label: `[${outer}, ${dim}, ${inner}]`,
    args: (r: Rng) => [
      randF32(r, outer * dim * inner),
      randI32(r, outer * inner, 0, dim),
      new Float32Array(outer * inner),
      { outer, dim, inner },
    ],
    outputs: [2],
    tol: EXACT,
  })),
  scatterAddAxis: [
    [1, 7, 1],
    [3, 33, 5],
    [257, 30, 40],
  ].map(([outer, dim, inner]) => ({
    label: `[${outer}, ${dim}, ${inner}]`,
    args: (r: Rng) => [
      randF32(r, outer * inner),
      randI32(r, outer * inner, 0, dim),
      randF32(r, outer * dim * inner),
      { outer, dim, inner },
    ],
    outputs: [2],
    tol: TIGHT,
  })),
  softmax: [
    [1, 1],
    [7, 33],
    [33, 257],
    [3, 1000],
    [300, 257],
  ].flatMap(([rows, cols]) =>
    [false, true].map((log) => ({
      label: `${rows}x${cols}${log ? " log" : ""}`,
      args: (r: Rng) => {
        const x = randF32(r, rows * cols, -10, 10);
        if (rows > 2 && cols > 2) {
          x[1] = -Infinity; // a masked entry
          x.fill(-Infinity, cols, 2 * cols); // a fully masked row
        }
        return [x, new Float32Array(rows * cols), rows, cols, log];
      },
      outputs: [1],
      tol: LOOSE,
    })),
  ),
  softmaxBackward: [
    [1, 1],
    [7, 33],
    [33, 257],
    [300, 257],
  ].flatMap(([rows, cols]) =>
    [false, true].map((log) => ({
      label: `${rows}x${cols}${log ? " log" : ""}`,
      args: (r: Rng) => {
        const y = new Float32Array(rows * cols);
        jsKernels.softmax(randF32(r, rows * cols, -4, 4), y, rows, cols, log);
        return [y, randF32(r, rows * cols), new Float32Array(rows * cols), rows, cols, log];
      },
      outputs: [2],
      tol: LOOSE,
    })),
  ),
  attentionSoftmax: [
    ...[
      { batch: 1, heads: 1, queries: 1, keys: 1 },
      { batch: 2, heads: 3, queries: 7, keys: 7 },
      { batch: 2, heads: 2, queries: 5, keys: 33 },
      { batch: 3, heads: 4, queries: 64, keys: 64 },
    ].flatMap((s) =>
      [false, true].flatMap((causal) =>
        [false, true].map((masked) => ({
          label: `${JSON.stringify(s)} causal=${causal} mask=${masked}`,
          args: (r: Rng): unknown[] => {
            const n = s.batch * s.heads * s.queries * s.keys;
            let keep: Float32Array | null = null;
            if (masked) {
              keep = randF32(r, s.batch * s.keys).map((v) => (v > -0.5 ? 1 : 0));
              if (s.batch > 1) keep.fill(0, s.keys, 2 * s.keys); // a batch item with every key hidden
            }
            return [randF32(r, n, -6, 6), keep, new Float32Array(n), { ...s, scale: 0.37, causal }];
          },
          outputs: [2],
          tol: LOOSE,
        })),
      ),
    ),
    // packed samples: segment ids in runs (with a cache: fewer queries than keys), padding keys, causal or not
    ...[
      { batch: 1, heads: 1, queries: 1, keys: 1 },
      { batch: 2, heads: 3, queries: 7, keys: 7 },
      { batch: 2, heads: 2, queries: 5, keys: 33 },
      { batch: 3, heads: 1, queries: 127, keys: 127 },
    ].flatMap((s) =>
      [false, true].map((causal) => ({
        label: `${JSON.stringify(s)} causal=${causal} segments`,
        args: (r: Rng): unknown[] => {
          const n = s.batch * s.heads * s.queries * s.keys;
          const segments = new Int32Array(s.batch * s.keys);
          for (let b = 0; b < s.batch; b++) {
            let id = 1;
            for (let k = 0; k < s.keys; k++) {
              if (k > 0 && r.uniform() < 0.2) id++;
              segments[b * s.keys + k] = b === 1 && k % 3 === 0 ? 0 : id; // not only runs: ids may come back
            }
          }
          const keep = randF32(r, s.batch * s.keys).map((v) => (v > -0.7 ? 1 : 0));
          return [randF32(r, n, -6, 6), keep, new Float32Array(n), { ...s, scale: 0.37, causal }, segments];
        },
        outputs: [2],
        tol: LOOSE,
      })),
    ),
  ],
  flashAttention: FLASH_SHAPES.map((s) => ({
    label: flashLabel(s),
    args: (r: Rng) => flashArgs(s, r).forward,
    outputs: [5, 6],
    tol: FLASH_TOL,
  })),
  flashAttentionBackward: FLASH_SHAPES.map((s) => ({
    label: flashLabel(s),
    args: (r: Rng) => flashArgs(s, r).backward,
    outputs: [8, 9, 10],
    tol: FLASH_TOL,
  })),
  attentionSoftmaxBackward: [
    [1, 1],
    [7, 33],
    [300, 257],
  ].map(([rows, cols]) => ({
    label: `${rows}x${cols}`,
    args: (r: Rng) => {
      const y = new Float32Array(rows * cols);
      jsKernels.softmax(randF32(r, rows * cols, -4, 4), y, rows, cols, false);
      return [y, randF32(r, rows * cols), new Float32Array(rows * cols), rows, cols, 0.125];
    },
    outputs: [2],
    tol: LOOSE,
  })),
  layerNorm: [
    [1, 1],
    [7, 33],
    [33, 257],
    [300, 768],
  ].map(([rows, cols]) => ({
    label: `${rows}x${cols}`,
    args: (r: Rng) => [
      randF32(r, rows * cols, -3, 5),
      randF32(r, cols),
      randF32(r, cols),
      new Float32Array(rows * cols),
      new Float32Array(rows),
      new Float32Array(rows),
      rows,
      cols,
      1e-5,
    ],
    outputs: [3, 4, 5],
    tol: { rtol: 2e-5, atol: 2e-5 },
  })),
  layerNormBackward: [
    [1, 1],
    [7, 33],
    [33, 257],
    [300, 768],
  ].map(([rows, cols]) => ({
    label: `${rows}x${cols}`,
    args: (r: Rng) => {
      const x = randF32(r, rows * cols, -3, 5),
        gamma = randF32(r, cols),
        beta = randF32(r, cols);
      const mean = new Float32Array(rows),
        rstd = new Float32Array(rows);
      jsKernels.layerNorm(x, gamma, beta, new Float32Array(rows * cols), mean, rstd, rows, cols, 1e-5);
      return [
        randF32(r, rows * cols),
        x,
        gamma,
        mean,
        rstd,
        new Float32Array(rows * cols),
        randF32(r, cols),
        randF32(r, cols),
        rows,
        cols,
      ];
    },
    outputs: [5, 6, 7],
    tol: { rtol: 1e-4, atol: 5e-5 },
  })),
  embedding: [
    [1, 1, 1],
    [7, 33, 5],
    [300, 257, 1000],
  ].map(([rows, dim, vocab]) => ({
    label: `rows=${rows} dim=${dim} vocab=${vocab}`,
    args: (r: Rng) => [
      randF32(r, vocab * dim),
      randI32(r, rows, 0, vocab),
      new Float32Array(rows * dim),
      rows,
      dim,
      vocab,
    ],
    outputs: [2],
    tol: EXACT,
  })),
  embeddingBackward: [
    [1, 1, 1],
    [7, 33, 3],
    [300, 257, 50],
  ].map(([rows, dim, vocab]) => ({
    label: `rows=${rows} dim=${dim} vocab=${vocab} (repeated ids)`,
    args: (r: Rng) => [randF32(r, rows * dim), randI32(r, rows, 0, vocab), randF32(r, vocab * dim), rows, dim],
    outputs: [2],
    tol: TIGHT,
  })),
  // The mask must equal the reference bit for bit: same hash, same threshold, same rounding of x·scale.
  dropout: [0, 0.1, 0.5, 0.9, 1].flatMap((p) =>
    [1, 33, 70001].map((n) => ({
      label: `p=${p} n=${n}`,
      args: (r: Rng) => [randF32(r, n, -5, 5), new Float32Array(n), new Float32Array(n), p, r.int(2 ** 32)],
      outputs: [1, 2],
      tol: EXACT,
    })),
  ),
  crossEntropy: [
    [1, 1],
    [7, 33],
    [33, 257],
    [4, 30522],
  ].flatMap(([rows, classes]) =>
    [false, true].flatMap((weighted) =>
      [0, 0.1].map((smoothing) => ({
        label: `${rows}x${classes} weighted=${weighted} smoothing=${smoothing}`,
        args: (r: Rng) => {
          const [logits, targets, weights, p] = ceArgs(r, rows, classes, weighted, smoothing, rows > 2);
          return [logits, targets, weights, new Float32Array(rows), p];
        },
        outputs: [3],
        tol: { rtol: 2e-5, atol: 2e-5 },
      })),
    ),
  ),
  crossEntropyBackward: [
    [1, 1],
    [7, 33],
    [33, 257],
    [4, 30522],
  ].flatMap(([rows, classes]) =>
    [false, true].flatMap((weighted) =>
      [0, 0.1].map((smoothing) => ({
        label: `${rows}x${classes} weighted=${weighted} smoothing=${smoothing}`,
        args: (r: Rng) => {
          const [logits, targets, weights, p] = ceArgs(r, rows, classes, weighted, smoothing, rows > 2);
          return [logits, targets, weights, randF32(r, rows), new Float32Array(rows * classes), p];
        },
        outputs: [4],
        tol: { rtol: 5e-5, atol: 1e-7 },
      })),
    ),
  ),
  biasActivation: ACTIVATIONS.flatMap((act) =>
    [
      [1, 1],
      [7, 33],
      [300, 257],
    ].map(([rows, cols]) => ({
      label: `${act} ${rows}x${cols}`,
      args: (r: Rng) => [
        act,
        randF32(r, rows * cols, -5, 5),
        randF32(r, cols),
        new Float32Array(rows * cols),
        rows,
        cols,
      ],
      outputs: [3],
      tol: LOOSE,
    })),
  ),
  biasActivationBackward: ACTIVATIONS.flatMap((act) =>
    [
      [1, 1],
      [7, 33],
      [300, 257],
    ].map(([rows, cols]) => ({
      label: `${act} ${rows}x${cols}`,
      args: (r: Rng) => [
        act,
        randF32(r, rows * cols, -5, 5),
        randF32(r, cols),
        randF32(r, rows * cols),
        new Float32Array(rows * cols),
        randF32(r, cols),
        rows,
        cols,
      ],
      outputs: [4, 5],
      tol: { rtol: 5e-5, atol: 1e-5 },
    })),
  ),
  adam: [
    { decoupled: true, weightDecay: 0.01, step: 1 },
    { decoupled: true, weightDecay: 0, step: 7 },
    { decoupled: false, weightDecay: 0.1, step: 100 },
  ].map((h) => ({
    label: JSON.stringify(h),
    args: (r: Rng) => {
      const sizes = [0, 1, 33, 70001, 7];
      return [
        sizes.map((n) => randF32(r, n)),
        sizes.map((n) => randF32(r, n)),
        sizes.map((n) => randF32(r, n, -0.1, 0.1)),
        sizes.map((n) => randF32(r, n, 0, 0.01)),
        { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, ...h },
      ];
    },
    outputs: [0, 2, 3],
    tol: { rtol: 1e-5, atol: 1e-6 },
  })),
  sgd: [
    { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: false },
    { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.01, firstStep: true },
    { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0, firstStep: false },
    { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.001, firstStep: false },
  ].map((h) => ({
    label: JSON.stringify(h),
    args: (r: Rng) => {
      const sizes = [1, 33, 70001, 0];
      return [
        sizes.map((n) => randF32(r, n)),
        sizes.map((n) => randF32(r, n)),
        sizes.map((n, i) => (i === 1 ? null : randF32(r, n))),
        { lr: 0.05, ...h },
      ];
    },
    outputs: [0, 2],
    tol: TIGHT,
  })),
  quantizeRows: [
    [1, 1],
    [3, 7],
    [4, 33],
    [9, 257],
    [300, 301],
    [0, 5],
  ].map(([rows, cols]) => ({
    label: `${rows}x${cols}`,
    args: (r: Rng) => [quantInput(r, rows, cols), new Int8Array(rows * cols), new Float32Array(rows), rows, cols],
    outputs: [1, 2],
    tol: EXACT,
  })),
  packInt8: QSHAPES.map(([, n, k]) => ({
    label: `${n}x${k}`,
    args: (r: Rng) => [randI8(r, n * k), new Int8Array(int8PackedLength(n, k)).fill(99), n, k],
    outputs: [1],
    tol: EXACT,
  })),
  // bit-exact: int32 accumulation is exact and the dequantization rounds the same steps in the same order
  qlinear: QSHAPES.flatMap(([rows, n, k], i) =>
    [true, false].map((withBias) => ({
      label: `${rows}x${n}x${k}${withBias ? " bias" : ""}`,
      args: (r: Rng) => {
        const packed = new Int8Array(int8PackedLength(n, k));
        jsKernels.packInt8(randI8(r, n * k), packed, n, k);
        const scales = randF32(r, n, 0.001, 0.05);
        if (n > 3) scales[i % n] = 0;
        return [
          quantInput(r, rows, k),
          packed,
          scales,
          withBias ? randF32(r, n) : null,
          new Float32Array(rows * n),
          { rows, n, k },
        ];
      },
      outputs: [4],
      tol: EXACT,
    })),
  ),
};

/** Calls that both backends must reject with the same error class and message (ids and targets out of range). */
export const ERROR_CASES: { method: KernelMethod; label: string; args: () => unknown[] }[] = [
  {
    method: "embedding",
    label: "id past the vocabulary",
    args: () => [new Float32Array(12), Int32Array.from([0, 4, 1]), new Float32Array(9), 3, 3, 4],
  },
  {
    method: "embedding",
    label: "negative id",
    args: () => [new Float32Array(12), Int32Array.from([-1]), new Float32Array(3), 1, 3, 4],
  },
  {
    method: "embeddingBackward",
    label: "id past the table",
    args: () => [new Float32Array(6), Int32Array.from([1, 9]), new Float32Array(12), 2, 3],
  },
  {
    method: "gatherAxis",
    label: "index past the axis",
    args: () => [new Float32Array(6), Int32Array.from([0, 3]), new Float32Array(2), { outer: 1, dim: 3, inner: 2 }],
  },
  {
    method: "scatterAddAxis",
    label: "negative index",
    args: () => [new Float32Array(2), Int32Array.from([-2, 0]), new Float32Array(6), { outer: 1, dim: 3, inner: 2 }],
  },
  ...(["crossEntropy", "crossEntropyBackward"] as const).map((method) => ({
    method,
    label: "target past the classes",
    args: () => {
      const p = { rows: 3, classes: 4, ignoreIndex: -100, smoothing: 0 };
      const targets = Int32Array.from([1, -100, 4]);
      return method === "crossEntropy"
        ? [new Float32Array(12), targets, null, new Float32Array(3), p]
        : [new Float32Array(12), targets, null, new Float32Array(3), new Float32Array(12), p];
    },
  })),
];

/** Calls the named kernel of a backend. */
export function callKernel(b: HostKernels, method: KernelMethod, args: unknown[]): unknown {
  return (b[method] as (...a: unknown[]) => unknown)(...args);
}
