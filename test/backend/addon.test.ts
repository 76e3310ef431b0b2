/**
 * The addon as a whole: it implements exactly the Backend interface, reports what it runs on, is the default
 * backend when it loads (GRAFT_BACKEND=js opts out), honours GRAFT_THREADS, and stays correct when several
 * threads (Node workers) call kernels at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { KERNEL_METHODS } from "../../src/backend/backend.js";
import { native, skipNative } from "./helpers.js";

const distRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const backendIndex = join(distRoot, "src", "backend", "index.js");

test("the addon exports exactly the Backend's methods, plus name and info", { skip: skipNative }, () => {
  const b = native as unknown as Record<string, unknown>;
  const functions = Object.keys(b)
    .filter((k) => typeof b[k] === "function" && k !== "info")
    .sort();
  assert.deepEqual(functions, [...KERNEL_METHODS].sort());
  assert.equal(b.name, "native");
});

test("info() reports the SIMD level, GEMM kernel, threads and CPU features", { skip: skipNative }, () => {
  const info = (native as unknown as { info(): Record<string, string | number> }).info();
  assert.match(String(info.simd), /^(avx512|avx2|portable)$/);
  assert.match(String(info.gemm), /^(avx512|avx2|portable) \d+x\d+$/);
  assert.ok(Number.isInteger(info.threads) && Number(info.threads) >= 1);
  assert.equal(typeof info.cpu, "string");
});

function childEval(code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", code], {
    env: { ...process.env, GRAFT_BACKEND: "", GRAFT_THREADS: "", ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

test("native is the default backend; GRAFT_BACKEND=js selects the reference; GRAFT_THREADS sets the pool", {
  skip: skipNative,
}, () => {
  const code = `const m = await import(${JSON.stringify(backendIndex)}); const b = m.backend(); console.log(b.name + " " + (b.info ? b.info().threads : "-"));`;
  assert.equal(childEval(code, {}).split(" ")[0], "native");
  assert.equal(childEval(code, { GRAFT_BACKEND: "js" }), "js -");
  assert.equal(childEval(code, { GRAFT_THREADS: "1" }), "native 1");
  assert.equal(childEval(code, { GRAFT_THREADS: "3" }), "native 3");
});

test("hundreds of back-to-back threaded kernels each run every share exactly once", { skip: skipNative }, () => {
  // large enough for the pool; an element skipped or done twice would change the sums
  const b = native!;
  const n = 200_003;
  const x = new Float32Array(n),
    y = new Float32Array(n);
  for (let i = 1; i <= 300; i++) {
    b.fill(x, i % 7);
    b.axpy(x, y, 1);
  }
  let expect = 0;
  for (let i = 1; i <= 300; i++) expect += i % 7;
  assert.ok(
    y.every((v) => v === expect),
    "every element summed once per call",
  );
  assert.equal(b.sumSquares([y]), n * expect * expect);
});

test("running on the TypeScript backend is said once on stderr", () => {
  const code = `const m = await import(${JSON.stringify(backendIndex)}); m.backend(); m.backend(); console.log(m.backend().name);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    env: { ...process.env, GRAFT_BACKEND: "js" },
    encoding: "utf8",
  });
  assert.equal(r.stdout.trim(), "js");
  assert.equal(r.stderr.match(/running on the TypeScript backend/g)?.length, 1, r.stderr);
});

test("kernels called from several Node worker threads at once stay correct", { skip: skipNative }, async () => {
  // Each worker multiplies matrices big enough to want the pool and checks them against a scalar product;
  // a pool busy with one caller must run the others on their own threads, never mix their work up.
  const src = `
    const { parentPort, workerData } = require("node:worker_threads");
    import(workerData).then(({ loadNativeBackend }) => {
      const b = loadNativeBackend().kernels;
      const m = 96, n = 80, k = 200;
      let bad = 0;
      for (let it = 0; it < 20; it++) {
        const a = new Float32Array(m * k).map((_, i) => ((i * 7 + it) % 13) - 6);
        const w = new Float32Array(k * n).map((_, i) => ((i * 5 + it) % 11) - 5);
        const c = new Float32Array(m * n);
        b.matmul(a, w, c, { batch: 1, m, n, k, transA: false, transB: false });
        for (let i = 0; i < m; i += 7) for (let j = 0; j < n; j += 5) {
          let s = 0;
          for (let q = 0; q < k; q++) s += a[i * k + q] * w[q * n + j];
          if (s !== c[i * n + j]) bad++;
        }
      }
      parentPort.postMessage(bad);
    });`;
  const nativeJs = join(distRoot, "src", "backend", "native.js");
  const runs = Array.from(
    { length: 3 },
    () =>
      new Promise<number>((resolve, reject) => {
        const w = new Worker(src, { eval: true, workerData: nativeJs });
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  // integers: every partial sum is exact in f32, so results must match exactly
  assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
});
