/** Fixture loading and tolerant comparison for the metric tests. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Reads test/fixtures/metrics/<name>, reviving "NaN"/"Infinity" strings into numbers. */
export function fixture<T = any>(name: string): T {
  const path = fileURLToPath(new URL(`../../../test/fixtures/metrics/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, "utf8"), (_k, v) =>
    v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v,
  ) as T;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/metrics/${name}`, import.meta.url));
}

/** Deep comparison of numbers (and nested arrays/objects of them) within rel/abs tolerance; NaN equals NaN. */
export function close(actual: unknown, expected: unknown, msg = "", tol = 1e-12): void {
  const path = (p: string) => (msg ? `${msg}${p}` : p || "value");
  const walk = (a: unknown, e: unknown, p: string): void => {
    if (typeof e === "number") {
      assert.equal(typeof a, "number", `${path(p)}: expected a number, got ${JSON.stringify(a)}`);
      const x = a as number;
      if (Number.isNaN(e)) return assert.ok(Number.isNaN(x), `${path(p)}: expected NaN, got ${x}`);
      if (!Number.isFinite(e)) return assert.equal(x, e, path(p));
      assert.ok(
        Math.abs(x - e) <= tol * Math.max(1, Math.abs(e)),
        `${path(p)}: expected ${e}, got ${x} (diff ${x - e})`,
      );
      return;
    }
    if (Array.isArray(e)) {
      const arr = ArrayBuffer.isView(a) ? Array.from(a as unknown as ArrayLike<number>) : a;
      assert.ok(Array.isArray(arr), `${path(p)}: expected an array, got ${JSON.stringify(a)}`);
      assert.equal((arr as unknown[]).length, e.length, `${path(p)}: length`);
      e.forEach((v, i) => walk((arr as unknown[])[i], v, `${p}[${i}]`));
      return;
    }
    if (e !== null && typeof e === "object") {
      for (const k of Object.keys(e))
        walk((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k], `${p}.${k}`);
      return;
    }
    assert.deepEqual(a, e, path(p));
  };
  walk(actual, expected, "");
}
