/**
 * fp32 GEMM throughput: graft's matmul next to numpy's (OpenBLAS) in the same run, for the shapes of a BERT-base
 * layer and the transposed forms their backward pass uses.
 *
 *   npm run bench -- gemm [--rounds 3] [--samples 5] [--min-time 0.05] [--shape MxKxN ...]
 *
 * For each forward shape C[M,N] = A[M,K]·B[K,N] it times the three products of a training step: forward (NN),
 * the input gradient dA = dC·Bᵀ (M×N×K, B transposed) and the weight gradient dB = Aᵀ·dC (K×M×N, A transposed).
 * numpy runs in a child process (bench/gemm.py) answering one request per sample; samples alternate numpy, graft,
 * numpy, graft... over several rounds, so both see the same load on a shared machine. Each figure is the median
 * over all samples (a sample: enough back-to-back calls to last --min-time seconds, after a warm-up); "best" is
 * the fastest sample, what each engine reaches when the machine leaves it alone.
 *
 * The same products also run through graft's bf16 GEMM (matmul with bf16: operands rounded to bfloat16, fp32
 * accumulation), timed in the same alternation, next to the machine's theoretical peak: threads × clock × FLOP
 * per cycle per core (2 FMA units: 32 fp32 FLOP with AVX2, 64 with AVX-512; bf16 twice the AVX-512 rate with
 * AVX512-BF16, 1024 with AMX-BF16, else fp32's: AVX2 has no bf16 arithmetic). The clock is --ghz, else the
 * highest of cpufreq's maximum and the clock the OS reports (/proc/cpuinfo's "cpu MHz": a floor when the CPU boosts).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { backend } from "../src/backend/index.js";
import type { MatmulParams } from "../src/backend/backend.js";

interface Product {
  label: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    samples: { type: "string", default: "5" },
    "min-time": { type: "string", default: "0.05" },
    shape: { type: "string", multiple: true },
    ghz: { type: "string" },
  },
});
const rounds = Number(values.rounds),
  samples = Number(values.samples),
  minTime = Number(values["min-time"]);
const forward = (values.shape ?? ["2048x768x768", "2048x768x3072", "2048x3072x768", "512x128x128"]).map((s) => {
  const dims = s.split("x").map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0))
    throw new Error(`--shape must be MxKxN, got "${s}"`);
  return dims as [number, number, number];
});

const products: Product[] = forward.flatMap(([m, k, n]) => [
  { label: `${m}x${k}x${n} fwd`, m, k, n, transA: false, transB: false },
  { label: `${m}x${n}x${k} dA = dC·Bᵀ`, m, k: n, n: k, transA: false, transB: true },
  { label: `${k}x${m}x${n} dB = Aᵀ·dC`, m: k, k: m, n, transA: true, transB: false },
]);

// ---- numpy, in a child process answering one request per line
const py = spawn("python3", [join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "gemm.py")], {
  stdio: ["pipe", "pipe", "inherit"],
});
const replies = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function nextReply(): Promise<Record<string, unknown>> {
  const r = await replies.next();
  if (r.done) throw new Error("python3 bench/gemm.py exited (is numpy installed?)");
  return JSON.parse(r.value) as Record<string, unknown>;
}
const numpyInfo = await nextReply();

async function timeNumpy(p: Product): Promise<number[]> {
  py.stdin.write(
    JSON.stringify({ m: p.m, k: p.k, n: p.n, transA: p.transA, transB: p.transB, samples: 1, minTime }) + "\n",
  );
  return (await nextReply()).times as number[];
}

// ---- graft
const b = backend();
interface GraftCase {
  call: () => void;
  calls: number;
}
/** Operands for one product, warmed up, with the number of calls that make a sample last --min-time. */
function prepareGraft(p: Product, bf16 = false): GraftCase {
  const a = b.upload(
    "f32",
    new Float32Array(p.m * p.k).map(() => Math.random() - 0.5),
  );
  const w = b.upload(
    "f32",
    new Float32Array(p.k * p.n).map(() => Math.random() - 0.5),
  );
  const c = b.allocate("f32", p.m * p.n);
  const params: MatmulParams = { batch: 1, m: p.m, n: p.n, k: p.k, transA: p.transA, transB: p.transB, bf16 };
  const call = () => b.matmul(a, w, c, params);
  call(); // warm-up: touches the buffers and grows the packing workspaces
  const t0 = process.hrtime.bigint();
  call();
  const one = Math.max(Number(process.hrtime.bigint() - t0) / 1e9, 1e-7);
  return { call, calls: Math.max(1, Math.floor(minTime / one)) };
}
function sampleGraft(g: GraftCase): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < g.calls; i++) g.call();
  return Number(process.hrtime.bigint() - start) / 1e9 / g.calls;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// OpenBLAS's threads keep spinning (yielding) for 2^28 cycles (~0.1 s) after a call and would compete with graft's
// threads; let them go to sleep before timing graft.
const settle = () => new Promise((r) => setTimeout(r, 300));

// Samples alternate one numpy, one graft, so that both engines see the same moments of a shared machine's load.
const startLoad = loadavg()
  .map((l) => l.toFixed(1))
  .join(", ");
const graftTimes = products.map(() => [] as number[]);
const bf16Times = products.map(() => [] as number[]);
const numpyTimes = products.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  for (const [i, p] of products.entries()) {
    if (process.stderr.isTTY) process.stderr.write(`\rround ${round + 1}/${rounds}  ${p.label.padEnd(28)}`);
    const g = prepareGraft(p),
      h = prepareGraft(p, true);
    for (let s = 0; s < samples; s++) {
      numpyTimes[i].push(...(await timeNumpy(p)));
      await settle();
      graftTimes[i].push(sampleGraft(g));
      bf16Times[i].push(sampleGraft(h));
    }
  }
}
if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(60) + "\r");
py.stdin.end();

const info = (b as unknown as { info?: () => Record<string, string | number> }).info?.() ?? {};
const model = cpus()[0]?.model ?? "unknown CPU";
console.log(`GEMM fp32, GFLOP/s (2·M·K·N / median time), ${new Date().toISOString().slice(0, 10)}`);
console.log(
  `machine: ${model}, ${cpus().length} CPUs; graft backend ${b.name}${info.simd ? ` (${info.simd}, ${info.gemm}, ${info.threads} threads)` : ""}; numpy ${numpyInfo.numpy} (${numpyInfo.blas})`,
);
console.log(`${rounds} rounds × ${samples} samples per engine, alternating; load average at the start: ${startLoad}\n`);
console.log("| product (M×K×N) | graft | numpy | graft / numpy | graft best | numpy best |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
let worst = Infinity;
for (const [i, p] of products.entries()) {
  const flop = 2 * p.m * p.k * p.n;
  const rate = (t: number) => flop / t / 1e9;
  const g = rate(median(graftTimes[i])),
    np = rate(median(numpyTimes[i]));
  const gBest = rate(Math.min(...graftTimes[i])),
    npBest = rate(Math.min(...numpyTimes[i]));
  worst = Math.min(worst, g / np);
  console.log(
    `| ${p.label} | ${g.toFixed(1)} | ${np.toFixed(1)} | ${(g / np).toFixed(2)} | ${gBest.toFixed(1)} | ${npBest.toFixed(1)} |`,
  );
}

// ---- bf16 next to the machine's peak
function cpuFlags(): Set<string> {
  try {
    return new Set((/^flags\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").split(" "));
  } catch {
    return new Set();
  }
}
function clockGhz(): number {
  if (values.ghz) return Number(values.ghz);
  let mhz = 0;
  const maxFreq = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq";
  if (existsSync(maxFreq)) mhz = Number(readFileSync(maxFreq, "utf8")) / 1000;
  for (const c of cpus()) mhz = Math.max(mhz, c.speed);
  if (mhz === 0 && existsSync("/proc/cpuinfo"))
    for (const m of readFileSync("/proc/cpuinfo", "utf8").matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm))
      mhz = Math.max(mhz, Number(m[1]));
  if (mhz === 0) throw new Error("gemm: the CPU clock is unknown here; pass --ghz");
  return mhz / 1000;
}
const flags = cpuFlags();
const fp32PerCycle = flags.has("avx512f") ? 64 : flags.has("fma") ? 32 : 8;
const bf16PerCycle = flags.has("amx_bf16") ? 1024 : flags.has("avx512_bf16") ? 2 * fp32PerCycle : fp32PerCycle;
const cores = Number(info.threads ?? cpus().length),
  ghz = clockGhz();
const peak = cores * ghz * bf16PerCycle;
console.log(
  `\nbf16 GEMM (${info.gemmBf16 ?? "reference"}): peak ${peak.toFixed(1)} GFLOP/s = ${cores} threads × ${ghz.toFixed(2)} GHz × ${bf16PerCycle} bf16 FLOP/cycle (fp32: ${fp32PerCycle}${bf16PerCycle === fp32PerCycle ? "; no bf16 arithmetic on this CPU, so the same" : ""})\n`,
);
console.log("| product (M×K×N) | graft bf16 | graft fp32 | bf16 / fp32 | bf16 / peak | bf16 best |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [i, p] of products.entries()) {
  const flop = 2 * p.m * p.k * p.n;
  const rate = (t: number) => flop / t / 1e9;
  const h = rate(median(bf16Times[i])),
    g = rate(median(graftTimes[i]));
  console.log(
    `| ${p.label} | ${h.toFixed(1)} | ${g.toFixed(1)} | ${(h / g).toFixed(2)} | ${(h / peak).toFixed(2)} | ${rate(Math.min(...bf16Times[i])).toFixed(1)} |`,
  );
}
console.log(
  `\nlowest median ratio: ${worst.toFixed(2)}; load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(", ")}`,
);
