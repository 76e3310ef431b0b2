/**
 * Training step (forward, backward, AdamW) and inference of a BERT-style classifier at the tiny, mini and base sizes, next to the same model in plain torch.nn.
 *
 * `npm run bench -- train-step [tiny,mini,base] [steps] [fp32,bf16]`. Each measurement runs in a fresh process (so
 * peak RSS is the model's own); vocabulary 30522, sequence 128, batch 16 (base: 8), dropout 0.1; inference batch 32
 * without gradients. Medians after warm-up. PyTorch runs as bench/train_step.py under Debian's /usr/bin/python3
 * (or the interpreter in GRAFT_BENCH_PYTHON) with the tuned settings of BENCHMARKS.md; the comparison is skipped
 * with a note when torch is absent. Precision bf16 is graft's `--precision bf16` (matrix products in bf16) next to
 * `torch.autocast('cpu', dtype=torch.bfloat16)`; the engines alternate (graft, torch) per size and precision.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad, withPrecision, type Precision } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { AutoModelForSequenceClassification, type ClassifierOutput, makeConfig } from "../src/models/index.js";
import { AdamW } from "../src/optim/index.js";
import { backend } from "../src/backend/index.js";
import { cpuLine, median } from "./lib/common.js";

const SIZES: Record<string, [number, number, number, number, number]> = {
  tiny: [2, 128, 2, 512, 16],
  mini: [6, 384, 12, 1536, 16],
  base: [12, 768, 12, 3072, 8],
};
const VOCAB = 30522,
  SEQ = 128,
  INFER_BATCH = 32;
const here = dirname(fileURLToPath(import.meta.url));

interface Result {
  engine: string;
  size: string;
  batch: number;
  step_ms: number;
  train_tokens_per_s: number;
  infer_tokens_per_s: number;
  peak_rss_mb: number;
}

function measureGraft(size: string, steps: number, precision: Precision): Result {
  return withPrecision(precision, () => measureGraftAt(size, steps, precision));
}

function measureGraftAt(size: string, steps: number, precision: Precision): Result {
  const [layers, hidden, heads, ffn, batch] = SIZES[size];
  manualSeed(0);
  const config = makeConfig("bert", {
    vocab_size: VOCAB,
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: ffn,
    num_labels: 2,
  });
  const model = AutoModelForSequenceClassification.fromConfig(config);
  model.train();
  const opt = new AdamW(model.parameters(), { lr: 1e-4 });
  const r = new Rng(1);
  const ids = new Tensor(
    Int32Array.from({ length: batch * SEQ }, () => r.int(VOCAB)),
    [batch, SEQ],
  );
  const labels = new Tensor(
    Int32Array.from({ length: batch }, () => r.int(2)),
    [batch],
  );
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    (model.forward({ inputIds: ids, labels }) as ClassifierOutput).loss!.backward();
    opt.step();
    if (i >= 2) times.push(performance.now() - t0);
  }
  model.eval();
  const infIds = new Tensor(
    Int32Array.from({ length: INFER_BATCH * SEQ }, () => r.int(VOCAB)),
    [INFER_BATCH, SEQ],
  );
  const inf: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const t0 = performance.now();
    noGrad(() => model.forward({ inputIds: infIds }));
    if (i >= 1) inf.push(performance.now() - t0);
  }
  const step = median(times);
  return {
    engine: `graft ${backend().name} ${precision}`,
    size,
    batch,
    step_ms: step,
    train_tokens_per_s: (batch * SEQ * 1000) / step,
    infer_tokens_per_s: (INFER_BATCH * SEQ * 1000) / median(inf),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Result | string {
  const p = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  if (p.status !== 0) return (p.stderr || p.error?.message || "failed").trim().split("\n").slice(-1)[0];
  return JSON.parse(p.stdout.trim().split("\n").slice(-1)[0]) as Result;
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  process.stdout.write(JSON.stringify(measureGraft(args[1], Number(args[2]), (args[3] ?? "fp32") as Precision)) + "\n");
} else {
  const sizes = (args[0] ?? "tiny,mini,base").split(",");
  const steps = Number(args[1] ?? 5);
  const precisions = (args[2] ?? "fp32,bf16").split(",") as Precision[];
  for (const p of precisions) if (p !== "fp32" && p !== "bf16") throw new Error(`unknown precision ${p} (fp32, bf16)`);
  const python = process.env.GRAFT_BENCH_PYTHON ?? "/usr/bin/python3";
  const torchOk = spawnSync(python, ["-c", "import torch"]).status === 0;
  if (!torchOk)
    process.stdout.write(
      `note: PyTorch is not importable by ${python} (apt-get install python3-torch, or set GRAFT_BENCH_PYTHON); showing graft alone\n`,
    );
  process.stdout.write(`${cpuLine()}\n`);
  const fmt = (r: Result | string | null, k: keyof Result) =>
    r === null ? "-" : typeof r === "string" ? "err" : (r[k] as number).toFixed(k === "step_ms" ? 0 : 0);
  process.stdout.write(
    `date ${new Date().toISOString().slice(0, 10)}, ${backend().name} backend, seq ${SEQ}, vocab ${VOCAB}, inference batch ${INFER_BATCH}\n`,
  );
  process.stdout.write(
    "size | precision | batch | graft ms/step | torch ms/step | graft train tok/s | torch train tok/s | ratio | graft infer tok/s | torch infer tok/s | ratio | graft RSS MB | torch RSS MB | RSS ratio\n",
  );
  for (const size of sizes) {
    if (!(size in SIZES)) throw new Error(`unknown size ${size} (tiny, mini, base)`);
    for (const precision of precisions) {
      const g = runChild(
        process.execPath,
        [fileURLToPath(import.meta.url), "--worker", size, String(steps), precision],
        {},
      );
      const t = torchOk
        ? runChild(python, [join(here, "..", "..", "bench", "train_step.py"), size, String(steps), precision], {
            OPENBLAS_CORETYPE: "SkylakeX",
            OMP_WAIT_POLICY: "passive",
          })
        : null;
      const ratio = (k: keyof Result) =>
        typeof g === "object" && t && typeof t === "object"
          ? ((g[k] as number) / (t[k] as number)).toFixed(2) + "×"
          : "-";
      const batch = SIZES[size][4];
      process.stdout.write(
        `${size} | ${precision} | ${batch} | ${fmt(g, "step_ms")} | ${fmt(t, "step_ms")} | ${fmt(g, "train_tokens_per_s")} | ${fmt(t, "train_tokens_per_s")} | ${ratio("train_tokens_per_s")} | ${fmt(g, "infer_tokens_per_s")} | ${fmt(t, "infer_tokens_per_s")} | ${ratio("infer_tokens_per_s")} | ${fmt(g, "peak_rss_mb")} | ${fmt(t, "peak_rss_mb")} | ${ratio("peak_rss_mb")}\n`,
      );
      if (typeof g === "string") process.stdout.write(`  graft failed: ${g}\n`);
      if (typeof t === "string") process.stdout.write(`  torch failed: ${t}\n`);
    }
  }
}
