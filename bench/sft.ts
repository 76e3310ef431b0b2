/**
 * SFT training step (forward, backward, AdamW) of a Llama-shaped causal LM on packed rows, all weights or LoRA, next to the same model in PyTorch (transformers' LlamaForCausalLM).
 *
 * `npm run bench -- sft [small,base] [steps]`. Each measurement runs in a fresh process. Rows are packed: graft gets
 * segment ids (4 samples a row, block-diagonal attention inside the fused softmax); PyTorch gets the same rows with
 * its plain causal mask (transformers' packed-sequence masks need flash attention, absent on the CPU), so graft does
 * the (cheap) extra masking. LoRA: rank 8 on q/k/v/o and the MLP projections (graft's injectLora; a plain
 * LoRA wrapper in PyTorch), base weights frozen. Labels on every token. Medians after 2 warm-up steps.
 * PyTorch runs as bench/sft_step.py under $GRAFT_BENCH_PYTHON (default python3) with as many torch threads as
 * graft's GRAFT_THREADS (default the CPU count); without torch and transformers the comparison is skipped with a note.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { AutoModelForCausalLM, makeConfig } from "../src/models/index.js";
import { AdamW } from "../src/optim/index.js";
import { injectLora } from "../src/train/index.js";
import { backend } from "../src/backend/index.js";

/** layers, hidden, heads, kv heads, ffn, batch, seq */
const SIZES: Record<string, [number, number, number, number, number, number, number]> = {
  small: [4, 256, 8, 4, 688, 4, 256],
  base: [12, 576, 9, 3, 1536, 2, 512], // SmolLM2-135M's shape
};
const VOCAB = 8192;
const TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
const here = dirname(fileURLToPath(import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Result {
  step_ms: number;
  tokens_per_s: number;
  trainable: number;
}

function measureGraft(size: string, lora: boolean, steps: number): Result {
  const [layers, hidden, heads, kv, ffn, batch, seq] = SIZES[size];
  manualSeed(0);
  const model = AutoModelForCausalLM.fromConfig(
    makeConfig("llama", {
      vocab_size: VOCAB,
      hidden_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      num_key_value_heads: kv,
      intermediate_size: ffn,
      max_position_embeddings: seq,
      tie_word_embeddings: true,
    }) as never,
  );
  if (lora) injectLora(model, { r: 8, alpha: 16, dropout: 0, targetModules: TARGETS, modulesToSave: [] }, new Rng(1));
  model.train();
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr: 1e-4 });
  const r = new Rng(1);
  const ids = new Tensor(
    Int32Array.from({ length: batch * seq }, () => r.int(VOCAB)),
    [batch, seq],
  );
  // 4 samples of seq/4 tokens a row
  const segmentIds = new Tensor(
    Int32Array.from({ length: batch * seq }, (_, i) => 1 + Math.floor((i % seq) / (seq / 4))),
    [batch, seq],
  );
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    model.forward({ inputIds: ids, segmentIds, labels: ids }).loss!.backward();
    opt.step();
    if (i >= 2) times.push(performance.now() - t0);
  }
  const step = median(times);
  return {
    step_ms: step,
    tokens_per_s: (batch * seq * 1000) / step,
    trainable: params.reduce((n, p) => n + p.size, 0),
  };
}

function runChild(cmd: string, args: string[]): Result | string {
  const p = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (p.status !== 0) return (p.stderr || p.error?.message || "failed").trim().split("\n").slice(-1)[0];
  return JSON.parse(p.stdout.trim().split("\n").slice(-1)[0]) as Result;
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  process.stdout.write(JSON.stringify(measureGraft(args[1], args[2] === "lora", Number(args[3]))) + "\n");
} else {
  const sizes = (args[0] ?? "small").split(",");
  const steps = Number(args[1] ?? 5);
  const python = process.env.GRAFT_BENCH_PYTHON ?? "python3";
  const threads = Number(process.env.GRAFT_THREADS ?? availableParallelism());
  const torchOk = spawnSync(python, ["-c", "import torch, transformers"]).status === 0;
  if (!torchOk)
    process.stdout.write(`note: ${python} lacks torch or transformers (set GRAFT_BENCH_PYTHON); showing graft alone\n`);
  process.stdout.write(
    `date ${new Date().toISOString().slice(0, 10)}, ${backend().name} backend, ${threads} threads, vocab ${VOCAB}, packed rows of 4 samples\n`,
  );
  process.stdout.write(
    "size | mode | batch x seq | graft ms/step | torch ms/step | graft tok/s | torch tok/s | ratio | trainable (graft / torch)\n",
  );
  for (const size of sizes) {
    if (!(size in SIZES)) throw new Error(`unknown size ${size} (${Object.keys(SIZES).join(", ")})`);
    for (const mode of ["full", "lora"]) {
      const g = runChild(process.execPath, [fileURLToPath(import.meta.url), "--worker", size, mode, String(steps)]);
      const t = torchOk
        ? runChild(python, [join(here, "..", "..", "bench", "sft_step.py"), size, mode, String(steps), String(threads)])
        : null;
      const fmt = (x: Result | string | null, k: keyof Result) =>
        x === null ? "-" : typeof x === "string" ? "err" : x[k].toFixed(0);
      const ratio =
        typeof g === "object" && t && typeof t === "object" ? `${(g.tokens_per_s / t.tokens_per_s).toFixed(2)}×` : "-";
      const [, , , , , batch, seq] = SIZES[size];
      process.stdout.write(
        `${size} | ${mode} | ${batch} x ${seq} | ${fmt(g, "step_ms")} | ${fmt(t, "step_ms")} | ${fmt(g, "tokens_per_s")} | ${fmt(t, "tokens_per_s")} | ${ratio} | ${fmt(g, "trainable")} / ${fmt(t, "trainable")}\n`,
      );
      if (typeof g === "string") process.stdout.write(`  graft failed: ${g}\n`);
      if (typeof t === "string") process.stdout.write(`  torch failed: ${t}\n`);
    }
  }
}
