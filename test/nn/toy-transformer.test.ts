/**
 * End to end: a 2-layer transformer classifier learns whether token 1 occurs in a sequence, deterministically.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, manualSeed } from "../../src/util/rng.js";
import { Tensor, add, argmax, arange, crossEntropy, linear, mean, noGrad, embedding } from "../../src/tensor/index.js";
import { Embedding, Linear, Module, TransformerBlock } from "../../src/nn/index.js";
import { AdamW, LRScheduler, clipGradNorm, linearWarmupDecay } from "../../src/optim/index.js";

const VOCAB = 8,
  SEQ = 6,
  DIM = 16;

class ToyClassifier extends Module {
  tokens = new Embedding(VOCAB, DIM);
  positions = new Embedding(SEQ, DIM);
  layer = [0, 1].map(() => new TransformerBlock({ dim: DIM, heads: 2, ffDim: 32, dropout: 0.1 }));
  head = new Linear(DIM, 2);

  forward(ids: Tensor): Tensor {
    const t = ids.shape[1];
    let h = add(this.tokens.forward(ids), embedding(arange(t), this.positions.weight)); // [B, T, D]
    for (const block of this.layer) h = block.forward(h);
    return linear(mean(h, 1), this.head.weight, this.head.bias); // [B, 2]
  }
}

/** Random sequences over tokens 1..7, half of them containing token 1. */
function batch(rng: Rng, size: number): { ids: Tensor; labels: Tensor } {
  const ids = new Int32Array(size * SEQ);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const positive = rng.uniform() < 0.5;
    for (let j = 0; j < SEQ; j++) ids[i * SEQ + j] = 2 + rng.int(VOCAB - 2);
    if (positive) ids[i * SEQ + rng.int(SEQ)] = 1;
    labels[i] = positive ? 1 : 0;
  }
  return { ids: new Tensor(ids, [size, SEQ]), labels: new Tensor(labels, [size]) };
}

function train(seed: number, steps: number): { model: ToyClassifier; losses: number[] } {
  manualSeed(seed);
  const model = new ToyClassifier();
  const data = new Rng(seed + 1);
  const opt = new AdamW(model.parameters(), { lr: 5e-3, weightDecay: 0.01 });
  const sched = new LRScheduler(opt, linearWarmupDecay({ warmupSteps: Math.min(20, steps), totalSteps: steps }));
  const losses: number[] = [];
  model.train();
  for (let s = 0; s < steps; s++) {
    const { ids, labels } = batch(data, 32);
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(ids), labels);
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    opt.step();
    sched.step();
    losses.push(loss.item());
  }
  return { model, losses };
}

test("a 2-layer transformer learns 'does token 1 occur?' to > 95% accuracy", () => {
  const { model, losses } = train(11, 250);
  model.eval();
  const { ids, labels } = batch(new Rng(999), 500);
  const pred = noGrad(() => argmax(model.forward(ids), -1));
  let correct = 0;
  const p = pred.toArray(),
    y = labels.toArray();
  for (let i = 0; i < 500; i++) if (p[i] === y[i]) correct++;
  const acc = correct / 500;
  assert.ok(acc > 0.95, `accuracy ${acc} (last losses ${losses.slice(-5).map((l) => l.toFixed(3))})`);
});

test("training is deterministic for a fixed seed (dropout included)", () => {
  const a = train(5, 15);
  const b = train(5, 15);
  assert.deepEqual(a.losses, b.losses);
  const pa = a.model.parameters(),
    pb = b.model.parameters();
  pa.forEach((p, i) => assert.deepEqual(p.toArray(), pb[i].toArray()));
  const c = train(6, 15);
  assert.notDeepEqual(a.losses, c.losses);
});
