/**
 * Meta-features of a labelled dataset, what a warm-started study (tune/warm.ts) compares datasets by: its size, the
 * number of labels, the mean text length in words, the entropy of its label mix (nats), and optionally the LogME
 * score of a candidate model's frozen features on (a sample of) it. Plain numbers, so tune/ (below this layer)
 * never reads data or models itself.
 */
import type { ExampleReadOptions } from "../data/index.js";
import { resolveModelDir } from "../io/hub.js";
import { checkpointFeatures, readLabelledData, type SelectTask } from "./features.js";
import { logme } from "./transferability.js";

export interface MetaFeatureOptions {
  task?: SelectTask;
  read?: ExampleReadOptions;
  /** Also score this model's frozen features with LogME, on at most `logmeLimit` examples (default 500). */
  logmeModel?: string;
  logmeLimit?: number;
}

/** size, classes, meanLength, labelEntropy (and logme) of a labelled file. */
export async function datasetMetaFeatures(
  file: string,
  opts: MetaFeatureOptions = {},
): Promise<Record<string, number>> {
  const task = opts.task ?? "classification";
  const data = await readLabelledData(file, task, { read: opts.read });
  const lengths =
    task === "ner"
      ? (data.sentences ?? []).map((s) => s.length)
      : (data.texts ?? []).map((t) => `${t.text} ${t.textPair ?? ""}`.trim().split(/\s+/).filter(Boolean).length);
  const size = lengths.length;
  const counts = new Array<number>(data.labels.length).fill(0);
  for (const y of data.y) counts[y]!++;
  const total = data.y.length;
  const labelEntropy = -counts.reduce((h, c) => (c > 0 ? h + (c / total) * Math.log(c / total) : h), 0);
  const out: Record<string, number> = {
    size,
    classes: data.labels.length,
    meanLength: lengths.reduce((a, b) => a + b, 0) / Math.max(1, size),
    labelEntropy,
  };
  if (opts.logmeModel) {
    const sample = await readLabelledData(file, task, { read: opts.read, limit: opts.logmeLimit ?? 500 });
    const dir = await resolveModelDir(opts.logmeModel, { want: ["config", "weights", "tokenizer"] });
    const f = await checkpointFeatures(dir, sample);
    out.logme = logme({ x: f.x, n: f.n, d: f.d, y: sample.y, classes: sample.labels.length }).score;
  }
  return out;
}
