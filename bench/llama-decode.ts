/**
 * Decode tokens/s at batch 1 (what a chat user feels) and prompt-processing tokens/s of a Llama-shaped decoder with random weights (SmolLM2-135M's shape), next to transformers' LlamaForCausalLM in the same run.
 *
 * `npm run bench -- llama-decode [smollm2-135m|tiny] [prompt tokens] [new tokens]` (defaults smollm2-135m, 128, 32).
 * SmolLM2-135M: hidden 576, 30 layers, 9 heads, 3 key/value heads, intermediate 1536, vocabulary 49152, tied
 * embeddings, f32. Prompt processing is one forward over the prompt with the cache on; decoding is `new` forwards of
 * one token each on that cache with greedy picks (what `generate` does per step). Medians of 3 rounds; each engine runs in a fresh
 * process. The peer is bench/llama_decode.py under the Python named by GRAFT_BENCH_PYTHON (default `python3`), with
 * as many torch threads as graft's GRAFT_THREADS (default the CPU count); without torch + transformers there, graft
 * is shown alone. graft decodes with its cache grown in place (growCache, what `generate` does);
 * GRAFT_BENCH_CACHE=concat measures the concatenating cache instead (with GRAFT_ATTENTION=unfused: the path before
 * the fused decode kernel).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad, reshape, slice } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { LlamaForCausalLM, makeConfig } from "../src/models/index.js";
import { backend } from "../src/backend/index.js";
import { median } from "./lib/common.js";

const SIZES: Record<string, Record<string, number>> = {
  "smollm2-135m": {
    hidden_size: 576,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    intermediate_size: 1536,
    vocab_size: 49152,
  },
  tiny: {
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 128,
    vocab_size: 1000,
  },
};
const here = dirname(fileURLToPath(import.meta.url));

interface Result {
  engine: string;
  prompt_tokens_per_s: number;
  decode_tokens_per_s: number;
  peak_rss_mb: number;
  parameters?: number;
}

function argmaxLast(logits: Tensor): number {
  const [, t, v] = logits.shape;
  const row = reshape(slice(logits, 1, t - 1, t), [v]).toArray();
  let best = 0;
  for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
  return best;
}

function measureGraft(size: string, prompt: number, fresh: number): Result {
  manualSeed(0);
  const config = makeConfig("llama", {
    ...SIZES[size],
    max_position_embeddings: 2048,
    tie_word_embeddings: true,
    rope_parameters: { rope_type: "default", rope_theta: 100000 },
  });
  const model = new LlamaForCausalLM(config, { rng: new Rng(0) });
  model.eval();
  const r = new Rng(1);
  const ids = new Tensor(
    Int32Array.from({ length: prompt }, () => r.int(config.vocab_size)),
    [1, prompt],
  );
  const prefill: number[] = [];
  const decode: number[] = [];
  const growCache = process.env.GRAFT_BENCH_CACHE !== "concat";
  noGrad(() => {
    for (let round = 0; round < 3; round++) {
      let t0 = performance.now();
      let out = model.forward({ inputIds: ids, useCache: true, growCache });
      prefill.push(performance.now() - t0);
      let next = argmaxLast(out.logits);
      t0 = performance.now();
      for (let step = 0; step < fresh; step++) {
        out = model.forward({
          inputIds: new Tensor(Int32Array.of(next), [1, 1]),
          positionIds: new Tensor(Int32Array.of(prompt + step), [1, 1]),
          pastKeyValues: out.pastKeyValues,
          useCache: true,
          growCache,
        });
        next = argmaxLast(out.logits);
      }
      decode.push(performance.now() - t0);
    }
  });
  return {
    engine: `graft ${backend().name}`,
    prompt_tokens_per_s: (prompt * 1000) / median(prefill),
    decode_tokens_per_s: (fresh * 1000) / median(decode),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    parameters: model.numParameters(),
  };
}

function runChild(cmd: string, args: string[]): Result | string {
  const p = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 22 });
  if (p.status !== 0) return (p.stderr || p.error?.message || "failed").trim().split("\n").slice(-1)[0];
  return JSON.parse(p.stdout.trim().split("\n").slice(-1)[0]) as Result;
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  process.stdout.write(`${JSON.stringify(measureGraft(args[1], Number(args[2]), Number(args[3])))}\n`);
} else {
  const size = args[0] ?? "smollm2-135m";
  if (!(size in SIZES)) throw new Error(`unknown size ${size} (${Object.keys(SIZES).join(", ")})`);
  const prompt = Number(args[1] ?? 128);
  const fresh = Number(args[2] ?? 32);
  const threads = Number(process.env.GRAFT_THREADS ?? availableParallelism());
  const python = process.env.GRAFT_BENCH_PYTHON ?? "python3";
  const peerOk = spawnSync(python, ["-c", "import torch, transformers"]).status === 0;
  if (!peerOk)
    process.stdout.write(`note: ${python} has no torch + transformers (set GRAFT_BENCH_PYTHON); showing graft alone\n`);
  process.stdout.write(
    `date ${new Date().toISOString().slice(0, 10)}, ${backend().name} backend, ${threads} threads, ${size}, batch 1, prompt ${prompt}, ${fresh} new tokens\n`,
  );
  const g = runChild(process.execPath, [
    fileURLToPath(import.meta.url),
    "--worker",
    size,
    String(prompt),
    String(fresh),
  ]);
  const t = peerOk
    ? runChild(python, [
        join(here, "..", "..", "bench", "llama_decode.py"),
        size,
        String(prompt),
        String(fresh),
        String(threads),
      ])
    : null;
  const fmt = (x: Result | string | null, k: keyof Result) =>
    x === null ? "-" : typeof x === "string" ? "err" : (x[k] as number).toFixed(k === "peak_rss_mb" ? 0 : 1);
  const ratio = (k: keyof Result) =>
    typeof g === "object" && t && typeof t === "object" ? `${((g[k] as number) / (t[k] as number)).toFixed(2)}×` : "-";
  if (typeof g === "object") process.stdout.write(`parameters ${(g.parameters! / 1e6).toFixed(1)}M\n`);
  process.stdout.write(
    "measure | graft | torch | graft/torch\n" +
      `prompt tokens/s | ${fmt(g, "prompt_tokens_per_s")} | ${fmt(t, "prompt_tokens_per_s")} | ${ratio("prompt_tokens_per_s")}\n` +
      `decode tokens/s (batch 1) | ${fmt(g, "decode_tokens_per_s")} | ${fmt(t, "decode_tokens_per_s")} | ${ratio("decode_tokens_per_s")}\n` +
      `peak RSS MB | ${fmt(g, "peak_rss_mb")} | ${fmt(t, "peak_rss_mb")} | -\n`,
  );
  if (typeof g === "string") process.stdout.write(`  graft failed: ${g}\n`);
  if (typeof t === "string") process.stdout.write(`  torch failed: ${t}\n`);
  if (typeof t === "object" && t) process.stdout.write(`peer: ${t.engine} (${python})\n`);
}
