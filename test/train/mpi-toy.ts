/**
 * A tiny BERT classifier without dropout and a deterministic task, shared by the data-parallel tests and their
 * worker (test/train/mpi-worker.ts): the same examples give the same gradients in one process or across ranks.
 */
import { Rng } from "../../src/util/rng.js";
import assert from "node:assert/strict";
import { Tensor, affine } from "../../src/tensor/index.js";
import { Trainer } from "../../src/train/index.js";
import { MPI_ARGS, PER_RANK } from "./mpi-args.js";
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

/** The global batches of the gradient check: a full one, then a short one that leaves rank 1 without examples. */
export const GRAD_BATCHES = [Int32Array.from([5, 1, 9, 3, 7, 0, 2, 8]), Int32Array.from([4, 6, 11])];

/** One process's gradients of each combined batch of GRAD_BATCHES. */
export function referenceGrads(): Record<string, number[] | null>[] {
  const t = toyTask();
  const model = toyBert();
  return GRAD_BATCHES.map((batch) => {
    for (const p of model.parameters()) p.grad = null;
    affine(t.loss(model, t.collate(batch)), 1).backward();
    return gradsOf(model);
  });
}

/** One process's weights after MPI_ARGS's steps with the global batch of two ranks. */
export async function referenceWeights(): Promise<Record<string, number[]>> {
  const model = toyBert();
  await new Trainer({
    model,
    args: { ...MPI_ARGS, batchSize: 2 * PER_RANK, saveEvery: "none" },
    ...toyTask(),
    distributed: null,
  }).train();
  return weightsOf(model);
}

/** Every value within `tol` (relative to 1 + |one process's|) of one process's. */
export function assertClose(
  got: Record<string, number[] | null>,
  want: Record<string, number[] | null>,
  tol: number,
  what: string,
): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, x] of Object.entries(got)) {
    const y = want[name];
    assert.equal(x === null, y === null, `${what} ${name}: present in one only`);
    if (!x || !y) continue;
    for (let i = 0; i < x.length; i++)
      assert.ok(
        Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])),
        `${what} ${name}[${i}]: ${x[i]} vs ${y[i]} (one process)`,
      );
  }
}
