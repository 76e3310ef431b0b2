/** A tiny classifier with Hugging Face-style names, and synthetic data, for trainer tests. */
import { Rng, manualSeed } from "../../src/util/rng.js";
import { Tensor, add, crossEntropy, mean, relu, argmax, noGrad } from "../../src/tensor/index.js";
import { Dropout, Embedding, Linear, Module } from "../../src/nn/index.js";

class Block extends Module {
  dense: Linear;
  constructor(d: number) {
    super();
    this.dense = new Linear(d, d);
  }
}

class Encoder extends Module {
  layer = [new Block(12), new Block(12)];
}

class Embeddings extends Module {
  word_embeddings = new Embedding(10, 12);
}

export class ToyModel extends Module {
  embeddings = new Embeddings();
  encoder = new Encoder();
  dropout = new Dropout(0.1);
  classifier = new Linear(12, 2);

  forward(ids: Tensor): Tensor {
    let h = mean(this.embeddings.word_embeddings.forward(ids), 1); // [B, 12]
    for (const b of this.encoder.layer) h = add(h, relu(b.dense.forward(this.dropout.forward(h))));
    return this.classifier.forward(h);
  }
}

export function makeModel(seed: number): ToyModel {
  manualSeed(seed);
  return new ToyModel();
}

/** Sequences of 4 tokens from 0..9; label 1 when token 3 occurs. */
export function makeData(n: number, seed: number): { ids: Int32Array; labels: Int32Array } {
  const r = new Rng(seed);
  const ids = new Int32Array(n * 4),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) ids[i * 4 + j] = r.int(10);
    labels[i] = ids.subarray(i * 4, i * 4 + 4).includes(3) ? 1 : 0;
  }
  return { ids, labels };
}

export function task(data: { ids: Int32Array; labels: Int32Array }) {
  const collate = (idx: Int32Array) => {
    const ids = new Int32Array(idx.length * 4),
      labels = new Int32Array(idx.length);
    idx.forEach((e, i) => {
      ids.set(data.ids.subarray(e * 4, e * 4 + 4), i * 4);
      labels[i] = data.labels[e];
    });
    return { ids: new Tensor(ids, [idx.length, 4]), labels: new Tensor(labels, [idx.length]) };
  };
  const loss = (m: Module, b: { ids: Tensor; labels: Tensor }) =>
    crossEntropy((m as ToyModel).forward(b.ids), b.labels);
  const evaluate = (m: Module) => {
    const all = collate(Int32Array.from({ length: data.labels.length }, (_, i) => i));
    const logits = (m as ToyModel).forward(all.ids);
    const pred = argmax(logits, -1);
    let ok = 0;
    const p = pred.toArray(),
      y = all.labels.toArray();
    for (let i = 0; i < pred.size; i++) if (p[i] === y[i]) ok++;
    return { loss: noGrad(() => crossEntropy(logits, all.labels)).item(), accuracy: ok / pred.size };
  };
  return { collate, loss, evaluate };
}
