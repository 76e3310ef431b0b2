/** Shared helpers for the backend tests: the native addon (or why it is absent), random buffers, closeness. */
import assert from "node:assert/strict";
import { loadNativeBackend, type NativeAddon, type SimdLevel } from "../../src/backend/native.js";
import type { HostKernels } from "../../src/backend/backend.js";
import type { Rng } from "../../src/util/rng.js";

const loaded = loadNativeBackend();
export const native: HostKernels | null = loaded.kernels;
export const addon: NativeAddon | null = loaded.addon;
/** node:test's skip option: false when the addon loaded, else the reason (it must build on the CI machine). */
export const skipNative: string | false = native ? false : `native addon unavailable: ${loaded.reason}`;

/** Every SIMD level this machine can run, best first: each native test runs at all of them. */
export function simdLevels(): SimdLevel[] {
  const all: SimdLevel[] = ["avx512", "avx2", "portable"];
  if (!addon) return [];
  return all.slice(all.indexOf(addon.supportedSimdLevel));
}

/** Runs fn with the native kernels capped at `level`, restoring the best level afterwards. */
export function atLevel<T>(level: SimdLevel, fn: () => T): T {
  if (!addon) throw new Error("no addon");
  const got = addon.setSimdLevel(level);
  assert.equal(got, level, `setSimdLevel(${level})`);
  try {
    return fn();
  } finally {
    addon.setSimdLevel("avx512");
  }
}

export function randF32(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(lo, hi);
  return a;
}

export function randI32(rng: Rng, n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + rng.int(hi - lo);
  return a;
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const EXACT: Tolerance = { rtol: 0, atol: 0 };

/**
 * Fails on the first element where |actual - expected| > atol + rtol·|expected|. NaN must meet NaN and infinities
 * must match exactly; with EXACT, 0 and -0 must match too (bit-for-bit kernels).
 */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  tol: Tolerance,
  label: string,
): void {
  const a = typeof actual === "number" ? [actual] : actual;
  const e = typeof expected === "number" ? [expected] : expected;
  assert.equal(a.length, e.length, `${label}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    const x = a[i],
      y = e[i];
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      assert.fail(`${label}: element ${i} is ${x}, expected ${y}`);
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y) assert.fail(`${label}: element ${i} is ${x}, expected ${y}`);
      continue;
    }
    if (tol.rtol === 0 && tol.atol === 0) {
      if (!Object.is(x, y)) assert.fail(`${label}: element ${i} is ${x}, expected exactly ${y}`);
      continue;
    }
    const err = Math.abs(x - y);
    if (err > tol.atol + tol.rtol * Math.abs(y))
      assert.fail(`${label}: element ${i} is ${x}, expected ${y} (error ${err.toExponential(2)})`);
  }
}
