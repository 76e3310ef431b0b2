/** Labelled pools and test sets for the active-learning simulation and self-training: read, subsampled, featurized. */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import type { ExampleReadOptions } from "../../data/index.js";
import { readLabelledData, type LabelledData, type SelectTask } from "../features.js";
import { itemFeatures, type ItemTarget, type Items } from "./learner.js";

/** A labelled set ready for the learner: its items, their targets, and what they were read from. */
export interface LabelledItems {
  labels: string[];
  items: Items;
  targets: ItemTarget[];
  data: LabelledData;
}

/** The examples `keep` of `data` (ids into it), in that order. */
export function subsetData(data: LabelledData, keep: readonly number[]): LabelledData {
  if (data.task === "ner") {
    const starts: number[] = [];
    let at = 0;
    for (const s of data.sentences!) {
      starts.push(at);
      at += s.length;
    }
    return {
      ...data,
      sentences: keep.map((i) => data.sentences![i]),
      y: Int32Array.from(
        keep.flatMap((i) => Array.from(data.y.subarray(starts[i], starts[i] + data.sentences![i].length))),
      ),
    };
  }
  return { ...data, texts: keep.map((i) => data.texts![i]), y: Int32Array.from(keep, (i) => data.y[i]) };
}

/** The targets of each item: a class id (classification) or a tag id per word (NER). */
export function itemTargets(data: LabelledData): ItemTarget[] {
  if (data.task !== "ner") return Array.from(data.y, (c) => [c]);
  let at = 0;
  return data.sentences!.map((s) => Array.from(data.y.subarray(at, (at += s.length))));
}

/** `data` with its ids re-mapped onto `labels` (a test file's label order differs from the pool's). */
export function remapLabels(data: LabelledData, labels: readonly string[], file: string): LabelledData {
  const id = new Map(labels.map((l, i) => [l, i]));
  const y = Int32Array.from(data.y, (c) => {
    const to = id.get(data.labels[c]);
    if (to === undefined)
      throw new ArgumentError(
        `${file}: label "${data.labels[c]}" is not among the pool's labels ${JSON.stringify(labels)}`,
      );
    return to;
  });
  return { ...data, labels: [...labels], y };
}

export interface ReadPoolOptions {
  model: string;
  data: string;
  test: string;
  task: SelectTask;
  /** Keep a random `poolLimit` examples of the data file (0: all), drawn with `sampleSeed`. */
  poolLimit?: number;
  testLimit?: number;
  sampleSeed?: number;
  maxLength?: number;
  read?: ExampleReadOptions;
  /** Featurize with the checkpoint (the head learner's input; default true). */
  features?: boolean;
  log?: (line: string) => void;
}

function sample(data: LabelledData, limit: number | undefined, rng: Rng): LabelledData {
  const n = data.task === "ner" ? data.sentences!.length : data.texts!.length;
  if (!limit || limit >= n) return data;
  return subsetData(data, Array.from(rng.permutation(n).slice(0, limit)));
}

/** The pool and the test set, featurized by the checkpoint (the test set scaled as the pool). */
export async function readPoolAndTest(
  o: ReadPoolOptions,
): Promise<{ pool: LabelledItems; test: LabelledItems; seconds: number }> {
  const t0 = performance.now();
  const rng = new Rng(o.sampleSeed ?? 0);
  const read = o.task === "ner" ? { onBadRow: o.read?.onBadRow } : o.read;
  const poolData = sample(await readLabelledData(o.data, o.task, { read }), o.poolLimit, rng);
  const testData = remapLabels(
    sample(await readLabelledData(o.test, o.task, { read }), o.testLimit, rng),
    poolData.labels,
    o.test,
  );
  const seconds = () => (performance.now() - t0) / 1000;
  if (o.features === false) {
    const none = { units: [], embeddings: [] };
    return {
      pool: { labels: poolData.labels, items: none, targets: itemTargets(poolData), data: poolData },
      test: { labels: poolData.labels, items: none, targets: itemTargets(testData), data: testData },
      seconds: seconds(),
    };
  }
  o.log?.(
    `features of ${o.model}: pool ${itemTargets(poolData).length}, test ${itemTargets(testData).length} examples`,
  );
  const pf = await itemFeatures(o.model, poolData, { maxLength: o.maxLength });
  const tf = await itemFeatures(o.model, testData, { maxLength: o.maxLength, scale: pf.scale });
  return {
    pool: { labels: poolData.labels, items: pf.items, targets: itemTargets(poolData), data: poolData },
    test: { labels: poolData.labels, items: tf.items, targets: itemTargets(testData), data: testData },
    seconds: seconds(),
  };
}

/** What a person (and the fine-tuning learner) sees of each item: its text, or its words for NER. */
export function itemInputs(data: LabelledData): (string | string[])[] {
  return data.task === "ner" ? data.sentences!.map((s) => [...s]) : data.texts!.map((t) => t.text);
}
