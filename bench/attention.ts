/**
 * Fused (flash-style) attention against the unfused path (scores, attention softmax, product) and PyTorch's scaled_dot_product_attention on the CPU: forward and forward+backward time and peak memory per sequence length.
 *
 * `npm run bench -- attention [--lengths 128,512,2048] [--batch 1] [--heads 8] [--dim 64] [--causal] [--reps 3]`.
 * q, k, v are [batch, heads, T, dim] f32; forward runs without gradients (inference), forward+backward records
 * the graph and back-propagates a random output gradient to q, k and v. Each (engine, T) runs in a fresh process,
 * so its peak RSS (resource maxRSS minus the RSS after the inputs were made) is that engine's alone: the extra
 * memory attention needed. Times are medians of `reps` rounds after one warm-up. The peer is bench/attention.py
 * under $GRAFT_BENCH_PYTHON (default /work/venv/bin/python, then python3) with as many torch threads as graft uses;
 * without torch graft is shown alone.
 *
 * `npm run bench -- attention --crossover` instead measures what useFusedAttention's rule rests on: both paths
 * interleaved in one process on a list of shapes (decoding, inference, training; causal or not; head sizes), each
 * timed in CPU time (process.cpuUsage: time slices lost to other jobs do not count), best of up to 40 rounds. Run it
 * with GRAFT_THREADS=1 for per-core work.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad, randn } from "../src/tensor/index.js";
import { scaledDotProductAttention, type AttentionImpl } from "../src/nn/index.js";
import { backend } from "../src/backend/index.js";
import { Rng } from "../src/util/rng.js";
import { median } from "./lib/common.js";

interface Options {
  lengths: number[];
  batch: number;
  heads: number;
  dim: number;
  causal: boolean;
  reps: number;
}

/** [batch·heads, queries, keys, head size, causal] */
const CROSSOVER: [number, number, number, number, boolean][] = [
  [8, 1, 16, 64, true],
  [8, 1, 128, 64, true],
  [8, 1, 1024, 64, true],
  [8, 128, 128, 64, false],
  [8, 512, 512, 64, false],
  [8, 1024, 1024, 64, false],
  [8, 1024, 1024, 64, true],
  [8, 2048, 2048, 64, false],
  [24, 128, 128, 32, false],
];

function crossover(): void {
  const rng = new Rng(0);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  process.stdout.write(
    `attention crossover (CPU time, best of up to 40 rounds; ${backend().name} ${backend().info?.().simd ?? ""}, ${backend().info?.().threads ?? ""} threads)\n| batch·heads | queries | keys | head size | causal | pass | unfused ms | fused ms | fused speed-up |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n`,
  );
  for (const train of [false, true]) {
    for (const [bh, tq, tk, d, causal] of CROSSOVER) {
      if (train && tq !== tk) continue;
      const q = randn([1, bh, tq, d], rng);
      const k = randn([1, bh, tk, d], rng);
      const v = randn([1, bh, tk, d], rng);
      const g = randn([1, bh, tq, d], rng);
      const run = (impl: AttentionImpl) => {
        if (!train) return noGrad(() => scaledDotProductAttention(q, k, v, { impl, causal }));
        const [a, b, c] = [q, k, v].map((x) => new Tensor(x.storage, x.shape, true));
        scaledDotProductAttention(a, b, c, { impl, causal }).backward(g);
      };
      const best = { fused: Infinity, unfused: Infinity };
      const rounds = Math.max(3, Math.min(40, Math.round(2e8 / (bh * tq * tk * d))));
      for (let r = 0; r < rounds; r++)
        for (const impl of ["unfused", "fused"] as const) {
          const t0 = cpu();
          run(impl);
          best[impl] = Math.min(best[impl], cpu() - t0);
        }
      process.stdout.write(
        `| ${bh} | ${tq} | ${tk} | ${d} | ${causal} | ${train ? "forward + backward" : "forward"} | ${best.unfused.toFixed(3)} | ${best.fused.toFixed(3)} | ${(best.unfused / best.fused).toFixed(2)}× |\n`,
      );
    }
  }
}

interface Result {
  engine: string;
  T: number;
  forward_ms: number;
  train_ms: number;
  peak_mb: number;
}

const here = dirname(fileURLToPath(import.meta.url));

function parse(argv: string[]): { opts: Options; child: string | null } {
  const opts: Options = { lengths: [128, 512, 2048], batch: 1, heads: 8, dim: 64, causal: false, reps: 3 };
  let child: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`attention bench: ${a} needs a value`);
      return v;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`attention bench: ${a} must be a positive integer, got ${v}`);
      return n;
    };
    if (a === "--lengths") opts.lengths = next().split(",").map(int);
    else if (a === "--batch") opts.batch = int(next());
    else if (a === "--heads") opts.heads = int(next());
    else if (a === "--dim") opts.dim = int(next());
    else if (a === "--reps") opts.reps = int(next());
    else if (a === "--causal") opts.causal = true;
    else if (a === "--child") child = next();
    else if (a === "--crossover") child = "crossover";
    else throw new Error(`attention bench: unknown argument ${a}`);
  }
  return { opts, child };
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** One engine at one length, in this process: prints a JSON line. */
function runChild(impl: AttentionImpl, t: number, o: Options): void {
  const rng = new Rng(0);
  const shape = [o.batch, o.heads, t, o.dim];
  const q = randn(shape, rng);
  const k = randn(shape, rng);
  const v = randn(shape, rng);
  const dout = randn(shape, rng);
  const opts = { causal: o.causal, impl };
  const base = rssMb();
  const forward = () => noGrad(() => scaledDotProductAttention(q, k, v, opts));
  const train = () => {
    const [qq, kk, vv] = [q, k, v].map((x) => new Tensor(x.storage, x.shape, true));
    scaledDotProductAttention(qq, kk, vv, opts).backward(dout);
    return qq.grad;
  };
  const time = (fn: () => unknown) => {
    fn();
    const ms: number[] = [];
    for (let r = 0; r < o.reps; r++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const forward_ms = time(forward);
  const train_ms = time(train);
  const peak = process.resourceUsage().maxRSS / 1024;
  const r: Result = { engine: `graft ${impl}`, T: t, forward_ms, train_ms, peak_mb: Math.max(0, peak - base) };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function lastJson(out: string): Result | null {
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Result;
  } catch {
    return null;
  }
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1];
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

function main(): void {
  const { opts, child } = parse(process.argv.slice(2));
  if (child === "crossover") {
    crossover();
    return;
  }
  if (child) {
    const [impl, t] = child.split(":");
    runChild(impl as AttentionImpl, Number(t), opts);
    return;
  }
  const info = backend().info?.() ?? {};
  const threads = Number(info.threads ?? cpus().length);
  const python = [process.env.GRAFT_BENCH_PYTHON, "/work/venv/bin/python", "python3"].find(
    (p) => p && (!p.startsWith("/") || existsSync(p)) && spawnSync(p, ["-c", "import torch"]).status === 0,
  );
  process.stdout.write(
    `attention: batch ${opts.batch}, ${opts.heads} heads, dim ${opts.dim}${opts.causal ? ", causal" : ""}; ${opts.reps} reps (median)\n` +
      `cpu: ${cpuModel()}; graft backend ${backend().name} ${info.simd ?? ""}, ${threads} threads\n` +
      (python ? `peer: torch.nn.functional.scaled_dot_product_attention (${python})\n` : "peer: none (no torch)\n"),
  );
  const argsFor = (): string[] => [
    "--batch",
    String(opts.batch),
    "--heads",
    String(opts.heads),
    "--dim",
    String(opts.dim),
    "--reps",
    String(opts.reps),
    ...(opts.causal ? ["--causal"] : []),
  ];
  const rows: string[] = [];
  const head =
    "| T | engine | forward ms | fwd+bwd ms | peak MB | forward vs unfused | fwd+bwd vs unfused | fwd+bwd vs torch |";
  rows.push(head, "| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const t of opts.lengths) {
    const results: Result[] = [];
    for (const impl of ["unfused", "fused"] as const) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", `${impl}:${t}`, ...argsFor()], {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      });
      const res = lastJson(r.stdout);
      if (!res) throw new Error(`attention bench: graft ${impl} at T=${t} failed:\n${r.stderr}`);
      results.push(res);
    }
    if (python) {
      const r = spawnSync(
        python,
        [
          join(here, "..", "..", "bench", "attention.py"),
          String(t),
          String(opts.batch),
          String(opts.heads),
          String(opts.dim),
          String(opts.causal ? 1 : 0),
          String(opts.reps),
          String(threads),
        ],
        { encoding: "utf8" },
      );
      const res = lastJson(r.stdout);
      if (res) results.push(res);
      else process.stdout.write(`note: torch at T=${t} failed: ${r.stderr.trim().split("\n").pop()}\n`);
    }
    const unfused = results[0];
    const torch = results.find((r) => r.engine.startsWith("torch"));
    for (const r of results) {
      const ratio = (a: number, b: number | undefined) => (b === undefined ? "" : `${(b / a).toFixed(2)}×`);
      rows.push(
        `| ${t} | ${r.engine} | ${r.forward_ms.toFixed(2)} | ${r.train_ms.toFixed(2)} | ${r.peak_mb.toFixed(1)} | ${ratio(r.forward_ms, unfused.forward_ms)} | ${ratio(r.train_ms, unfused.train_ms)} | ${ratio(r.train_ms, torch?.train_ms)} |`,
      );
    }
  }
  process.stdout.write(`${rows.join("\n")}\n(ratios > 1: faster than the named engine)\n`);
}

main();
