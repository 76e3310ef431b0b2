/**
 * Seq2seq training tokens/s: a T5 training step (teacher forcing, backward, AdamW) at the Multi30k recipe's sizes, next to transformers' T5ForConditionalGeneration in the same run.
 *
 * `npm run bench -- seq2seq-train [tiny,mini] [steps]`: T5 v1.1 (gated GELU, untied head) with random
 * weights at pre-training's tiny (2 layers, d_model 128, d_ff 512) and mini (4 layers, 256, 1024) presets,
 * vocabulary 8000, batch 64 of 24 source and 24 target tokens (about a Multi30k sentence pair), dropout 0.1.
 * tokens/s counts source + target tokens. Median step after 2 warm-up steps, each engine with graft's thread count
 * (GRAFT_THREADS, default the CPU count). The peer runs bench/seq2seq_train.py under the first Python that imports torch and transformers
 * ($GRAFT_PEER_PYTHON, /tmp/peers/bin/python, python3); without one graft is shown alone.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { T5ForConditionalGeneration, makeConfig } from "../src/models/index.js";
import { AdamW } from "../src/optim/index.js";
import { backend } from "../src/backend/index.js";
import { threadCount } from "../src/util/env.js";
import { cpuLine, median, peerPython, runPeer, today } from "./lib/common.js";

/** layers, d_model, heads, d_ff: pre-training's presets (src/tasks/pretrain.ts). */
const SIZES: Record<string, [number, number, number, number]> = { tiny: [2, 128, 2, 512], mini: [4, 256, 4, 1024] };
const VOCAB = 8000;
const BATCH = 64;
const SRC = 24;
const TGT = 24;
const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  size: string;
  step_ms: number;
  tokens_per_s: number;
}

function measureGraft(size: string, steps: number): Row {
  const [layers, d, heads, ff] = SIZES[size];
  manualSeed(0);
  const model = new T5ForConditionalGeneration(
    makeConfig("t5", {
      vocab_size: VOCAB,
      d_model: d,
      num_layers: layers,
      num_heads: heads,
      d_kv: d / heads,
      d_ff: ff,
      feed_forward_proj: "gated-gelu",
      tie_word_embeddings: false,
      pad_token_id: 0,
      eos_token_id: 1,
      decoder_start_token_id: 0,
    }),
  );
  model.train();
  const opt = new AdamW(model.parameters(), { lr: 1e-4 });
  const r = new Rng(1);
  const ids = (n: number) =>
    new Tensor(
      Int32Array.from({ length: BATCH * n }, () => 2 + r.int(VOCAB - 2)),
      [BATCH, n],
    );
  const inputIds = ids(SRC);
  const labels = ids(TGT);
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    model.forward({ inputIds, labels }).loss!.backward();
    opt.step();
    if (i >= 2) times.push(performance.now() - t0);
  }
  const step = median(times);
  return { size, step_ms: step, tokens_per_s: (BATCH * (SRC + TGT) * 1000) / step };
}

const args = process.argv.slice(2);
const sizes = (args[0] ?? "tiny,mini").split(",");
const steps = Number(args[1] ?? 5);
const threads = threadCount();
for (const s of sizes) if (!(s in SIZES)) throw new Error(`unknown size ${s} (tiny, mini)`);
const py = peerPython();
process.stdout.write(`${cpuLine()}\n`);
process.stdout.write(
  `date ${today()}, ${backend().name} backend, ${threads} threads, T5 v1.1, vocab ${VOCAB}, batch ${BATCH} × (${SRC} + ${TGT}) tokens\n`,
);
if (!py) process.stdout.write("note: no Python imports torch and transformers (set GRAFT_PEER_PYTHON); graft alone\n");
process.stdout.write("size | graft ms/step | torch ms/step | graft tokens/s | torch tokens/s | ratio\n");
for (const size of sizes) {
  const g = measureGraft(size, steps);
  const p = py
    ? runPeer<Row>(py, join(here, "..", "..", "bench", "seq2seq_train.py"), [size, String(steps), String(threads)])
    : null;
  const peer = p && typeof p !== "string" ? p : null;
  process.stdout.write(
    `${size} | ${g.step_ms.toFixed(0)} | ${peer ? peer.step_ms.toFixed(0) : (p ?? "-")} | ${g.tokens_per_s.toFixed(0)} | ${
      peer ? peer.tokens_per_s.toFixed(0) : "-"
    } | ${peer ? (g.tokens_per_s / peer.tokens_per_s).toFixed(2) : "-"}\n`,
  );
}
