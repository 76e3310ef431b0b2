/**
 * The model active learning and self-training retrain every round. `HeadLearner` is the frozen-encoder learner: the
 * checkpoint (a pre-trained model or a fine-tuned one, the warm start) runs once over the pool and the test data,
 * and every round trains only a small head on its features — a hidden layer with dropout before and after it, so
 * MC dropout (BALD) and the consistency term of self-training have dropout to draw on. A round then costs
 * milliseconds instead of a fine-tuning run, which is what makes curves over strategies and seeds affordable.
 *
 * Items are examples (classification) or sentences (NER); an item has units, one for classification, one per word
 * for NER, each with its feature vector and (when labelled) its class or tag id.
 */
import { Tensor, add, crossEntropy, logSoftmax, mul, noGrad, softmax, sub, sum } from "../../tensor/index.js";
import { Dropout, Linear, Module } from "../../nn/index.js";
import { Adam } from "../../optim/index.js";
import { Rng } from "../../util/rng.js";
import { ArgumentError } from "../../util/errors.js";
import { checkpointFeatures, type LabelledData } from "../features.js";
import type { UnitProbs } from "./strategies.js";

/** Items of a pool or test set as the learner sees them. */
export interface Items {
  /** Feature vector of each unit of each item: [item][unit][d]. */
  units: number[][][];
  /** One vector per item (its mean unit vector): what core-set and the diversity batch measure distances on. */
  embeddings: number[][];
}

/** A class id per unit of an item (one for classification, one per word for NER). */
export type ItemTarget = number[];

export interface HeadOptions {
  /** Hidden units of the head (default 128). */
  hidden?: number;
  /** Dropout before and after the hidden layer (default 0.2). */
  dropout?: number;
  /** Passes over the labelled items per round (default 30; at least `minSteps` steps). */
  epochs?: number;
  /** The fewest optimizer steps per round, however few the labels (default 100). */
  minSteps?: number;
  lr?: number;
  batchSize?: number;
  /** Weight of the consistency term on unlabelled items (self-training; default 0: off). */
  consistency?: number;
}

class MlpHead extends Module {
  inDrop: Dropout;
  hidden: Linear;
  drop: Dropout;
  out: Linear;
  constructor(d: number, h: number, c: number, p: number, rng: Rng) {
    super();
    this.inDrop = new Dropout(p, rng);
    this.hidden = new Linear(d, h, { rng });
    this.drop = new Dropout(p, rng);
    this.out = new Linear(h, c, { rng });
  }
  forward(x: Tensor): Tensor {
    return this.out.forward(this.drop.forward(this.hidden.forward(this.inDrop.forward(x), "relu")));
  }
}

/** ½ · (KL(p‖q) + KL(q‖p)) = ½ · Σ (p − q)(log p − log q), mean over rows: two dropout passes should agree. */
export function symmetricKl(a: Tensor, b: Tensor): Tensor {
  const la = logSoftmax(a);
  const lb = logSoftmax(b);
  return mul(sum(mul(sub(softmax(a), softmax(b)), sub(la, lb))), 0.5 / a.shape[0]);
}

const rowsTensor = (rows: readonly (readonly number[])[], d: number) =>
  new Tensor(Float32Array.from(rows.flat()), [rows.length, d]);

/**
 * What the loops retrain every round: the head learner below, or the fine-tuning learner (finetune-learner.ts).
 * Ids index the pool; the test set is the learner's own (given when it was made).
 */
export interface Learner {
  /** A fresh model on the labelled items; `unlabelled` feeds a consistency term where the learner has one. */
  fit(
    ids: readonly number[],
    targets: readonly ItemTarget[],
    seed: number,
    unlabelled?: readonly number[],
  ): void | Promise<void>;
  /** Each item's probabilities [units][classes]; `dropout` keeps dropout on (one MC pass). */
  predict(ids: readonly number[], dropout?: boolean): UnitProbs[] | Promise<UnitProbs[]>;
  /** T passes with dropout on: id → [T][units][classes]. */
  passes(ids: readonly number[], t: number): Map<number, UnitProbs[]> | Promise<Map<number, UnitProbs[]>>;
  /** Probabilities on the test set. */
  predictTest(): UnitProbs[] | Promise<UnitProbs[]>;
  /** One vector per pool item (core-set, diversity batch). */
  embeddings(): number[][] | Promise<number[][]>;
}

/** Trains a fresh head per `fit` on the frozen features of `items`. */
export class HeadLearner implements Learner {
  private head: MlpHead | null = null;
  readonly d: number;
  constructor(
    readonly numClasses: number,
    readonly items: Items,
    readonly opts: HeadOptions = {},
    readonly test?: Items,
  ) {
    if (numClasses < 2) throw new ArgumentError(`active learning needs at least two classes, got ${numClasses}`);
    this.d = items.units.find((u) => u.length > 0)?.[0].length ?? 0;
  }

  /**
   * A fresh head trained on the labelled items (`targets[i]` for `ids[i]`); `unlabelled` items feed the consistency
   * term when its weight is > 0.
   */
  fit(ids: readonly number[], targets: readonly ItemTarget[], seed: number, unlabelled: readonly number[] = []): void {
    const o = {
      hidden: 128,
      dropout: 0.2,
      epochs: 30,
      minSteps: 100,
      lr: 1e-3,
      batchSize: 32,
      consistency: 0,
      ...this.opts,
    };
    const rng = new Rng(seed);
    const head = new MlpHead(this.d, o.hidden, this.numClasses, o.dropout, rng);
    const x: number[][] = [];
    const y: number[] = [];
    ids.forEach((id, i) =>
      this.items.units[id].forEach((v, u) => {
        x.push(v);
        y.push(targets[i][u]);
      }),
    );
    const unlabelledUnits = unlabelled.flatMap((id) => this.items.units[id]);
    if (x.length === 0) throw new ArgumentError("no labelled examples to train on");
    const opt = new Adam(head.parameters(), { lr: o.lr, weightDecay: 1e-4 });
    const perEpoch = Math.ceil(x.length / o.batchSize);
    const steps = Math.max(o.minSteps, o.epochs * perEpoch);
    head.train();
    let perm = rng.permutation(x.length);
    for (let step = 0; step < steps; step++) {
      const at = step % perEpoch;
      if (at === 0 && step > 0) perm = rng.permutation(x.length);
      const idx = Array.from(perm.slice(at * o.batchSize, (at + 1) * o.batchSize));
      let loss = crossEntropy(
        head.forward(
          rowsTensor(
            idx.map((i) => x[i]),
            this.d,
          ),
        ),
        new Tensor(
          Int32Array.from(idx, (i) => y[i]),
          [idx.length],
        ),
      );
      if (o.consistency > 0 && unlabelledUnits.length > 0) {
        const batch = rowsTensor(
          Array.from({ length: o.batchSize }, () => unlabelledUnits[rng.int(unlabelledUnits.length)]),
          this.d,
        );
        loss = add(loss, mul(symmetricKl(head.forward(batch), head.forward(batch)), o.consistency));
      }
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    head.eval();
    this.head = head;
  }

  /** Each item's probabilities: [units][classes]; `dropout` keeps dropout on (one MC pass). */
  predict(ids: readonly number[], dropout = false): UnitProbs[] {
    return this.predictUnits(
      ids.map((id) => this.items.units[id]),
      dropout,
    );
  }

  /** Probabilities of other items (a test set featurized by the same checkpoint): [item][units][classes]. */
  predictUnits(itemUnits: readonly (readonly number[][])[], dropout = false): UnitProbs[] {
    const head = this.head;
    if (!head) throw new ArgumentError("the learner has not been fitted");
    head.train(dropout);
    const rows = itemUnits.flat();
    const probs = rows.length ? noGrad(() => softmax(head.forward(rowsTensor(rows, this.d))).toRows()) : [];
    head.eval();
    let at = 0;
    return itemUnits.map((u) => probs.slice(at, (at += u.length)));
  }

  predictTest(): UnitProbs[] {
    return this.predictUnits(this.test?.units ?? []);
  }

  embeddings(): number[][] {
    return this.items.embeddings;
  }

  /** T passes with dropout on: id → [T][units][classes]. */
  passes(ids: readonly number[], t: number): Map<number, UnitProbs[]> {
    const out = new Map<number, UnitProbs[]>(ids.map((id) => [id, []]));
    for (let k = 0; k < t; k++) this.predict(ids, true).forEach((p, i) => out.get(ids[i])!.push(p));
    return out;
  }
}

/** Accuracy over units (classification: accuracy; NER: word-level tag accuracy). */
export function unitAccuracy(probs: readonly UnitProbs[], targets: readonly ItemTarget[]): number {
  let right = 0;
  let n = 0;
  probs.forEach((item, i) =>
    item.forEach((p, u) => {
      n++;
      if (argmax(p) === targets[i][u]) right++;
    }),
  );
  return n ? right / n : 0;
}

export function argmax(p: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
  return best;
}

/**
 * Frozen features of the checkpoint in `modelDir` for the items of `data`, standardized with the mean and standard
 * deviation of `reference` (the pool's, so the test set is scaled as the pool is) — or its own when none.
 */
export async function itemFeatures(
  modelDir: string,
  data: LabelledData,
  opts: { maxLength?: number; batchSize?: number; scale?: { mean: number[]; std: number[] } } = {},
): Promise<{ items: Items; scale: { mean: number[]; std: number[] } }> {
  const f = await checkpointFeatures(modelDir, data, { maxLength: opts.maxLength, batchSize: opts.batchSize });
  const rows = Array.from({ length: f.n }, (_, i) => Array.from(f.x.subarray(i * f.d, (i + 1) * f.d)));
  const scale = opts.scale ?? standardization(rows, f.d);
  const z = rows.map((r) => r.map((v, j) => (v - scale.mean[j]) / scale.std[j]));
  const sizes = data.task === "ner" ? data.sentences!.map((s) => s.length) : z.map(() => 1);
  let at = 0;
  const units = sizes.map((s) => z.slice(at, (at += s)));
  const embeddings = units.map((u) => u[0].map((_, j) => u.reduce((s, v) => s + v[j], 0) / u.length));
  return { items: { units, embeddings }, scale };
}

function standardization(rows: readonly number[][], d: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) std[j] += (r[j] - mean[j]) ** 2 / rows.length;
  return { mean, std: std.map((v) => Math.sqrt(v) || 1) };
}
