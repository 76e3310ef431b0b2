/**
 * HostKernels parity: every kernel of the native backend agrees with the TypeScript reference on the cases of the
 * kernel table, at every SIMD level this machine supports (AVX-512, AVX2, portable), forward and backward; and
 * both reject bad indices with the same error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KERNEL_METHODS, type HostKernels } from "../../src/backend/backend.js";
import { jsKernels } from "../../src/backend/js/index.js";
import { Rng } from "../../src/util/rng.js";
import { ERROR_CASES, KERNEL_CASES, callKernel } from "./kernel-cases.js";
import { assertClose, atLevel, native, simdLevels, skipNative } from "./helpers.js";

/** Deep copy of kernel arguments: typed arrays (alone or in arrays) are copied, everything else shared. */
function cloneArgs(args: unknown[]): unknown[] {
  const copy = (v: unknown): unknown =>
    v instanceof Float32Array || v instanceof Int32Array || v instanceof Int8Array
      ? v.slice()
      : Array.isArray(v)
        ? v.map(copy)
        : v;
  return args.map(copy);
}

function compare(out: unknown, ref: unknown, tol: Parameters<typeof assertClose>[2], label: string): void {
  if (out instanceof Float32Array || out instanceof Int32Array || out instanceof Int8Array)
    assertClose(out, ref as ArrayLike<number>, tol, label);
  else if (Array.isArray(out)) out.forEach((o, i) => compare(o, (ref as unknown[])[i], tol, `${label}[${i}]`));
  else if (typeof out === "number") assertClose(out, ref as number, tol, label);
  else assert.deepEqual(out, ref, label);
}

for (const level of simdLevels().length > 0 ? simdLevels() : ["avx512" as const]) {
  for (const method of KERNEL_METHODS) {
    test(`${method} matches the reference (${level})`, { skip: skipNative }, () => {
      atLevel(level, () => {
        let seed = 1;
        for (const c of KERNEL_CASES[method]) {
          const args = c.args(new Rng(seed++));
          const mine = cloneArgs(args),
            ref = cloneArgs(args);
          const got = callKernel(native as HostKernels, method, mine);
          const want = callKernel(jsKernels, method, ref);
          const tol = c.tol ?? { rtol: 1e-5, atol: 1e-6 };
          const label = `${method} ${c.label}`;
          for (const i of c.outputs) compare(mine[i], ref[i], tol, `${label}: argument ${i}`);
          if (typeof want === "number") compare(got, want, tol, `${label}: result`);
        }
      });
    });
  }
}

test("native and reference reject out-of-range indices with the same error", { skip: skipNative }, () => {
  for (const c of ERROR_CASES) {
    let expected: Error | null = null;
    try {
      callKernel(jsKernels, c.method, c.args());
    } catch (e) {
      expected = e as Error;
    }
    assert.ok(expected, `${c.method} ${c.label}: the reference should throw`);
    assert.throws(
      () => callKernel(native as HostKernels, c.method, c.args()),
      (e: Error) => e.constructor === expected.constructor && e.message === expected.message,
      `${c.method} ${c.label}: expected ${expected.name}: ${expected.message}`,
    );
  }
});

test("native kernels reject buffers shorter than their sizes instead of writing past them", {
  skip: skipNative,
}, () => {
  const b = native as HostKernels;
  const p = { batch: 1, m: 4, n: 4, k: 4, transA: false, transB: false };
  assert.throws(
    () => b.matmul(new Float32Array(16), new Float32Array(16), new Float32Array(15), p),
    /matmul: out has 15 elements but the sizes need 16/,
  );
  assert.throws(() => b.softmax(new Float32Array(6), new Float32Array(6), 2, 4, false), RangeError);
  assert.throws(
    () =>
      b.stridedCopy(
        new Float32Array(4),
        { offset: 1, strides: [1] },
        new Float32Array(4),
        { offset: 0, strides: [1] },
        [4],
        false,
      ),
    /src view reaches/,
  );
  assert.throws(
    () => b.binary("add", new Float32Array(3), new Float32Array(4), new Float32Array(4), [4], [1], [1]),
    RangeError,
  );
  assert.throws(() => b.unary("nope" as "exp", new Float32Array(1), new Float32Array(1), 0), /unknown unary op "nope"/);
  assert.throws(() => b.fill(new Float64Array(3) as unknown as Float32Array, 1), /out must be a Float32Array/);
});
