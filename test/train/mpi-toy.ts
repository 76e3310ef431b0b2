/**
 * A tiny BERT classifier without dropout and a deterministic task, shared by the data-parallel tests and their
 * worker (test/train/mpi-worker.ts): the same examples give the same gradients in one process or across ranks.
 */
import { Rng } from "../../src/util/rng.js";
import { Tensor } from "../../src/tensor/index.js";
import type { Module } from "../../src/nn/index.js";
import { BertForSequenceClassification, makeConfig } from "../../src/models/index.js";

export const TOY_SIZE = 40;
export const TOY_T = 6;

export function toyBert(seed = 3): BertForSequenceClassification {
  const cfg = makeConfig("bert", {
    vocab_size: 17,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 12,
    max_position_embeddings: 8,
    initializer_range: 0.3,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    num_labels: 3,
  });
  return new BertForSequenceClassification(cfg, { rng: new Rng(seed) });
}

/** TOY_SIZE sequences of TOY_T tokens (some padded), label = first token mod 3. */
export function toyData(): { ids: Int32Array; mask: Int32Array; labels: Int32Array } {
  const r = new Rng(11);
  const ids = new Int32Array(TOY_SIZE * TOY_T);
  const mask = new Int32Array(TOY_SIZE * TOY_T);
  const labels = new Int32Array(TOY_SIZE);
  for (let i = 0; i < TOY_SIZE; i++) {
    const len = 3 + r.int(TOY_T - 2);
    for (let j = 0; j < len; j++) {
      ids[i * TOY_T + j] = 1 + r.int(16);
      mask[i * TOY_T + j] = 1;
    }
    labels[i] = ids[i * TOY_T] % 3;
  }
  return { ids, mask, labels };
}

type Batch = { inputIds: Tensor; attentionMask: Tensor; labels: Tensor };

export function toyTask() {
  const d = toyData();
  const collate = (idx: Int32Array): Batch => {
    const ids = new Int32Array(idx.length * TOY_T);
    const mask = new Int32Array(idx.length * TOY_T);
    const labels = new Int32Array(idx.length);
    idx.forEach((e, i) => {
      ids.set(d.ids.subarray(e * TOY_T, (e + 1) * TOY_T), i * TOY_T);
      mask.set(d.mask.subarray(e * TOY_T, (e + 1) * TOY_T), i * TOY_T);
      labels[i] = d.labels[e];
    });
    return {
      inputIds: new Tensor(ids, [idx.length, TOY_T]),
      attentionMask: new Tensor(mask, [idx.length, TOY_T]),
      labels: new Tensor(labels, [idx.length]),
    };
  };
  const loss = (m: Module, b: Batch) => (m as BertForSequenceClassification).forward(b).loss!;
  return { collate, loss, trainSize: TOY_SIZE };
}

/** Every parameter's values, by name (plain numbers, for JSON). */
export function weightsOf(m: Module): Record<string, number[]> {
  return Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.toArray()]));
}

/** Every parameter's gradient, by name (null: none). */
export function gradsOf(m: Module): Record<string, number[] | null> {
  return Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.grad ? p.grad.toArray() : null]));
}
