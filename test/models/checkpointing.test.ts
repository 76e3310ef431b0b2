/**
 * Activation checkpointing (runLayers with gradientCheckpointingEnable): the gradients equal those of the plain
 * forward with dropout on (the recomputed layers replay their dropout masks), the random stream advances the same,
 * and the graph kept between forward and backward is smaller.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { type Tensor, tensor } from "../../src/tensor/index.js";
import {
  BertForSequenceClassification,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  T5ForConditionalGeneration,
  makeConfig,
  padBatch,
} from "../../src/models/index.js";
import type { Module } from "../../src/nn/index.js";
import { Trainer } from "../../src/train/index.js";

const i32 = (v: number[], shape: number[]) => tensor(v, shape, { dtype: "i32" });

/** Bytes of the activations the recorded graph keeps alive (every non-leaf tensor reachable from the loss). */
function graphBytes(root: Tensor): number {
  const seen = new Set<Tensor>();
  const stack = [root];
  let bytes = 0;
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (!t.node) continue;
    bytes += 4 * t.size;
    stack.push(...t.node.inputs);
  }
  return bytes;
}

interface Run {
  loss: number;
  grads: Map<string, number[]>;
  graphBytes: number;
  rngAfter: string;
}

function step(model: Module, rng: Rng, loss: () => Tensor): Run {
  for (const p of model.parameters()) p.grad = null;
  const l = loss();
  const bytes = graphBytes(l);
  l.backward();
  const grads = new Map<string, number[]>();
  for (const [name, p] of model.namedParameters()) if (p.grad) grads.set(name, p.grad.toArray());
  return { loss: l.item(), grads, graphBytes: bytes, rngAfter: JSON.stringify(rng.getState()) };
}

/** Runs loss() without and then with checkpointing from the same random state and compares. */
function compare(name: string, model: Module, rng: Rng, loss: () => Tensor): { plain: Run; ckpt: Run } {
  model.train();
  const start = rng.getState();
  const plain = step(model, rng, loss);
  rng.setState(start);
  model.gradientCheckpointingEnable();
  const ckpt = step(model, rng, loss);
  model.gradientCheckpointingEnable(false);
  assert.equal(ckpt.loss, plain.loss, `${name}: loss`);
  assert.equal(ckpt.rngAfter, plain.rngAfter, `${name}: the random stream advances as without checkpointing`);
  assert.deepEqual([...ckpt.grads.keys()], [...plain.grads.keys()], `${name}: the same parameters get gradients`);
  let worst = 0;
  for (const [k, g] of plain.grads) {
    const h = ckpt.grads.get(k)!;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - h[i]) / Math.max(1, Math.abs(g[i])));
  }
  assert.ok(worst <= 1e-6, `${name}: gradients with checkpointing differ by ${worst}`);
  assert.ok(
    ckpt.graphBytes < 0.6 * plain.graphBytes,
    `${name}: the graph keeps ${ckpt.graphBytes} bytes with checkpointing, ${plain.graphBytes} without`,
  );
  return { plain, ckpt };
}

test("checkpointing: BERT's gradients with dropout equal those without, and the graph keeps less", () => {
  const rng = new Rng(1);
  const model = new BertForSequenceClassification(
    makeConfig("bert", {
      vocab_size: 30,
      hidden_size: 16,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
      hidden_dropout_prob: 0.2,
      attention_probs_dropout_prob: 0.2,
      num_labels: 3,
    }),
    { rng },
  );
  const batch = padBatch(
    [
      [2, 5, 7, 3, 9, 11, 4, 8, 12, 6, 1, 14, 15, 17, 3, 2],
      [4, 9, 22, 7, 5],
    ],
    0,
  );
  const r = compare("bert", model, rng, () => model.forward({ ...batch, labels: i32([2, 0], [2]) }).loss!);
  assert.ok(r.plain.grads.size > 10);
});

test("checkpointing: GPT-2's and Llama's gradients with dropout equal those without", () => {
  const rng = new Rng(2);
  const gpt = new GPT2LMHeadModel(
    makeConfig("gpt2", {
      vocab_size: 20,
      n_positions: 32,
      n_embd: 16,
      n_layer: 3,
      n_head: 2,
      attn_pdrop: 0.2,
      resid_pdrop: 0.2,
      embd_pdrop: 0.1,
    }),
    { rng },
  );
  const g = padBatch(
    [
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      [5, 6, 7],
    ],
    0,
  );
  const labels = g.inputIds;
  compare("gpt2", gpt, rng, () => gpt.forward({ ...g, labels }).loss!);

  const lrng = new Rng(3);
  const llama = new LlamaForCausalLM(
    makeConfig("llama", {
      vocab_size: 20,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      max_position_embeddings: 32,
      attention_dropout: 0.2,
    }),
    { rng: lrng },
  );
  compare("llama", llama, lrng, () => llama.forward({ ...g, labels }).loss!);
});

test("checkpointing: T5 (a position bias shared by the layers, cross-attention) gets the same gradients", () => {
  const rng = new Rng(4);
  const t5 = new T5ForConditionalGeneration(
    makeConfig("t5", {
      vocab_size: 20,
      d_model: 16,
      d_kv: 8,
      d_ff: 24,
      num_layers: 2,
      num_heads: 2,
      dropout_rate: 0.2,
      decoder_start_token_id: 0,
      pad_token_id: 0,
    }),
    { rng },
  );
  const src = padBatch(
    [
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1],
      [5, 6, 1],
    ],
    0,
  );
  const labels = i32([4, 5, 6, 1, 7, 8, 1, -100], [2, 4]);
  const r = compare("t5", t5, rng, () => t5.forward({ ...src, labels }).loss!);
  assert.ok(r.ckpt.grads.has("shared.weight"));
});

test("checkpointing: the Trainer's gradientCheckpointing argument (--gradient-checkpointing) trains the same weights", async () => {
  const cfg = makeConfig("gpt2", { vocab_size: 20, n_positions: 16, n_embd: 8, n_layer: 2, n_head: 2 });
  const rows = [
    [1, 2, 3, 4, 5, 6],
    [7, 8, 9, 10, 11, 12],
    [3, 5, 7, 9, 11, 13],
  ];
  const train = async (gradientCheckpointing: boolean) => {
    const rng = new Rng(5);
    const model = new GPT2LMHeadModel(cfg, { rng });
    const init = model.transformer.h[1].mlp.c_fc.weight.toArray();
    const trainer = new Trainer({
      model,
      args: { maxSteps: 3, batchSize: 2, lr: 1e-2, seed: 1, gradientCheckpointing, saveEvery: "none" },
      trainSize: rows.length,
      collate: (idx) =>
        padBatch(
          Array.from(idx, (i) => rows[i]),
          0,
        ),
      loss: (m, b) => (m as GPT2LMHeadModel).forward({ ...b, labels: b.inputIds }).loss!,
    });
    const summary = await trainer.train();
    assert.equal(summary.globalStep, 3);
    const weights = model.transformer.h[1].mlp.c_fc.weight.toArray();
    assert.ok(
      weights.some((w, i) => Math.abs(w - init[i]) > 1e-4),
      "the weights moved",
    );
    return { on: model.gradientCheckpointing, weights };
  };
  const plain = await train(false);
  const ckpt = await train(true);
  assert.equal(plain.on, false);
  assert.equal(ckpt.on, true);
  for (let i = 0; i < plain.weights.length; i++) assert.ok(Math.abs(plain.weights[i] - ckpt.weights[i]) <= 1e-6);
});
