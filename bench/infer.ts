/**
 * Inference tokens/s of a BERT-style classifier at tiny, mini and base, batch 1 (latency) and batch 32: graft fp32 and int8 next to PyTorch fp32 / quantize_dynamic int8 and ONNX Runtime fp32 / quantize_dynamic int8, plus int8 GEMM GOP/s against the machine's peak.
 *
 * `npm run bench -- infer [tiny,mini,base] [reps]`. Sequence 128, vocabulary 30522, random weights; graft int8 is
 * quantizeLinears() over the encoder's Linear layers (what `graft quantize` does). For each size and batch, graft
 * (one process: fp32, then int8) and the peers (bench/infer.py under /work/venv-peers, or PEERS_PYTHON) run one
 * after the other, so the engines of a row are measured under the same conditions. Medians of `reps` runs after
 * a warm-up. ONNX Runtime runs from Python (onnxruntime-node downloads binaries in its install script); it is the
 * same engine Transformers.js uses. First the int8 GEMM (qlinear) at BERT-base shapes: GOP/s and the ratio to the
 * peak cores × GHz × 64 int8 ops per cycle (AVX2: two vpmaddwd per cycle × 16 multiply-adds), and the GEMV
 * (one row) in GB/s of weights read.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { AutoModelForSequenceClassification, makeConfig } from "../src/models/index.js";
import { quantizeLinears } from "../src/nn/index.js";
import { backend, int8PackedLength } from "../src/backend/index.js";
import { cpuLine, median } from "./lib/common.js";

const SIZES: Record<string, [number, number, number, number]> = {
  tiny: [2, 128, 2, 512],
  mini: [6, 384, 12, 1536],
  base: [12, 768, 12, 3072],
};
const VOCAB = 30522;
const SEQ = 128;
const BATCHES = [1, 32];
const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  engine: string;
  tokens_per_s?: number;
  ms?: number;
  error?: string;
}

function timed(fn: () => void, reps: number): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function measureGraft(size: string, batch: number, reps: number): Row[] {
  const [layers, hidden, heads, ffn] = SIZES[size];
  manualSeed(0);
  const model = AutoModelForSequenceClassification.fromConfig(
    makeConfig("bert", {
      vocab_size: VOCAB,
      hidden_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      intermediate_size: ffn,
      num_labels: 2,
    }),
  ).eval();
  const r = new Rng(1);
  const ids = new Tensor(
    Int32Array.from({ length: batch * SEQ }, () => r.int(VOCAB)),
    [batch, SEQ],
  );
  const run = () => void noGrad(() => model.forward({ inputIds: ids }));
  const out: Row[] = [];
  const fp32 = timed(run, reps);
  out.push({ engine: `graft ${backend().name} fp32`, ms: fp32, tokens_per_s: (batch * SEQ * 1000) / fp32 });
  quantizeLinears(model, { filter: (name) => model.isCoreWeight(`${name}.weight`) });
  const int8 = timed(run, reps);
  out.push({ engine: `graft ${backend().name} int8`, ms: int8, tokens_per_s: (batch * SEQ * 1000) / int8 });
  return out;
}

function gemmFigures(reps: number): string[] {
  const b = backend();
  const lines: string[] = [];
  const ghz = cpuGhz();
  const cores = cpus().length;
  const peak = cores * ghz * 64; // GOP/s
  lines.push(
    `int8 GEMM (qlinear, activations quantized per call): peak ${peak.toFixed(0)} GOP/s = ${cores} cores × ${ghz.toFixed(2)} GHz × 64 ops/cycle (AVX2 vpmaddwd ×2)`,
  );
  lines.push("m | n | k | fp32 GFLOP/s | int8 GOP/s | int8/fp32 | int8/peak");
  const r = new Rng(3);
  for (const [m, n, k] of [
    [4096, 768, 768],
    [4096, 3072, 768],
    [4096, 768, 3072],
    [1, 3072, 768],
    [4, 768, 3072],
  ]) {
    const x = b.upload(
      "f32",
      Float32Array.from({ length: m * k }, () => r.range(-1, 1)),
    );
    const w = b.upload(
      "f32",
      Float32Array.from({ length: n * k }, () => r.range(-1, 1)),
    );
    const q = b.allocate("i8", n * k);
    const s = b.allocate("f32", n);
    const packed = b.allocate("i8", int8PackedLength(n, k));
    b.quantizeRows(w, q, s, n, k);
    b.packInt8(q, packed, n, k);
    const out = b.allocate("f32", m * n);
    const tf = timed(() => b.matmul(x, w, out, { batch: 1, m, n, k, transA: false, transB: true }), reps * 3);
    const tq = timed(() => b.qlinear(x, packed, s, null, out, { rows: m, n, k }), reps * 3);
    const ops = (2 * m * n * k) / 1e6; // per ms = GOP/s
    const gemv = m <= 4 ? `  (weights read at ${((n * k) / 1e6 / tq).toFixed(1)} GB/s)` : "";
    lines.push(
      `${m} | ${n} | ${k} | ${(ops / tf).toFixed(1)} | ${(ops / tq).toFixed(1)} | ${(tf / tq).toFixed(2)}× | ${peak > 0 ? (ops / tq / peak).toFixed(2) : "unknown (set GRAFT_CPU_GHZ)"}${gemv}`,
    );
  }
  return lines;
}

/** The clock for the peak: GRAFT_CPU_GHZ, else the highest "cpu MHz" of /proc/cpuinfo, else what Node reports. */
function cpuGhz(): number {
  const given = Number(process.env.GRAFT_CPU_GHZ);
  if (given > 0) return given;
  if (existsSync("/proc/cpuinfo")) {
    const mhz = [...readFileSync("/proc/cpuinfo", "utf8").matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) =>
      Number(m[1]),
    );
    if (mhz.length) return Math.max(...mhz) / 1000;
  }
  const mhz = cpus()
    .map((c) => c.speed)
    .filter((s) => s > 0);
  return mhz.length ? Math.max(...mhz) / 1000 : 0;
}

function runChild(cmd: string, args: string[]): Row[] {
  const p = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 22 });
  if (p.status !== 0)
    return [{ engine: cmd, error: (p.stderr || p.error?.message || "failed").trim().split("\n").slice(-1)[0] }];
  return p.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Row);
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  for (const row of measureGraft(args[1], Number(args[2]), Number(args[3])))
    process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const sizes = (args[0] ?? "tiny,mini,base").split(",");
  const reps = Number(args[1] ?? 5);
  const python = process.env.PEERS_PYTHON ?? "/work/venv-peers/bin/python";
  const peers = existsSync(python);
  process.stdout.write(`date ${new Date().toISOString()}, seq ${SEQ}, vocab ${VOCAB}, median of ${reps}\n`);
  process.stdout.write(`cpu: ${cpuLine()}\n`);
  if (!peers) process.stdout.write(`note: ${python} not found (set PEERS_PYTHON); graft alone\n`);
  for (const line of gemmFigures(reps)) process.stdout.write(`${line}\n`);
  process.stdout.write("size | batch | engine | ms | tokens/s | vs graft int8\n");
  for (const size of sizes) {
    if (!(size in SIZES)) throw new Error(`unknown size ${size} (tiny, mini, base)`);
    for (const batch of BATCHES) {
      const rows = runChild(process.execPath, [
        fileURLToPath(import.meta.url),
        "--worker",
        size,
        String(batch),
        String(reps),
      ]);
      if (peers)
        rows.push(
          ...runChild(python, [join(here, "..", "..", "bench", "infer.py"), size, String(batch), String(reps)]),
        );
      const mine = rows.find((r) => r.engine.endsWith("int8") && r.engine.startsWith("graft"))?.tokens_per_s;
      for (const r of rows) {
        if (r.error !== undefined || r.tokens_per_s === undefined) {
          process.stdout.write(`${size} | ${batch} | ${r.engine} | failed: ${r.error} |\n`);
          continue;
        }
        const ratio = mine ? `${(mine / r.tokens_per_s).toFixed(2)}×` : "-";
        process.stdout.write(
          `${size} | ${batch} | ${r.engine} | ${r.ms!.toFixed(1)} | ${r.tokens_per_s.toFixed(0)} | ${ratio}\n`,
        );
      }
    }
  }
}
