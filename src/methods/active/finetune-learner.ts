/**
 * The fine-tuning learner: each round is an ordinary `graft finetune` run of the task kind (classification or NER,
 * through the TaskSpec registry) from the same starting model — a pre-trained checkpoint, or a fine-tuned one as the
 * warm start — on the examples labelled so far, written to a file in the kind's format (JSONL text/label, or CoNLL).
 * Its best model then gives the probabilities on the pool (with dropout on for BALD's passes) and the pooled
 * embeddings for core-set and the diversity batch. Slower than the head learner by a fine-tuning run per round,
 * it adapts the whole encoder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { noGrad, softmax } from "../../tensor/index.js";
import { ArgumentError } from "../../util/errors.js";
import {
  encodeTexts,
  encodeWords,
  finetune,
  loadFinetuned,
  padRows,
  type EncodedRow,
  type EncodedTokens,
  type FinetuneConfig,
  type SavedModel,
} from "../../tasks/index.js";
import { checkpointFeatures, type SelectTask } from "../features.js";
import type { ItemTarget } from "./learner.js";
import type { UnitProbs } from "./strategies.js";

/** What a person sees of an example: its text (classification) or its words (NER). */
export type PoolInput = string | string[];

export interface FinetuneLearnerOptions {
  /** The model every round starts from. */
  model: string;
  task: SelectTask;
  /** Class or tag names in the loop's order (a round whose labels lack one gives it probability 0). */
  labels: string[];
  /** The pool's inputs; ids index them. */
  inputs: readonly PoolInput[];
  /** Test inputs, for `predictTest`. */
  testInputs?: readonly PoolInput[];
  /** Where each round's data file and run go (the run is overwritten every round). */
  workDir: string;
  /** Other fine-tuning settings (training.epochs, training.lr, ...), as `graft finetune --config` takes them. */
  config?: Partial<FinetuneConfig>;
  /** A validation file; default the labelled examples themselves (nothing of the few labels is held out). */
  validation?: string;
  maxLength?: number;
  log?: (line: string) => void;
}

export class FinetuneLearner {
  private saved: SavedModel | null = null;
  private bestDir = "";
  constructor(readonly o: FinetuneLearnerOptions) {}

  /** Fine-tunes `model` on the labelled items (and pseudo-labelled ones: they are just more labelled rows). */
  async fit(ids: readonly number[], targets: readonly ItemTarget[], seed: number): Promise<void> {
    const o = this.o;
    mkdirSync(o.workDir, { recursive: true });
    const file = join(o.workDir, o.task === "ner" ? "labelled.conll" : "labelled.jsonl");
    const lines =
      o.task === "ner"
        ? ids.map(
            (id, i) => (o.inputs[id] as string[]).map((w, u) => `${w} ${o.labels[targets[i][u]]}`).join("\n") + "\n",
          )
        : ids.map((id, i) => JSON.stringify({ text: o.inputs[id], label: o.labels[targets[i][0]] }));
    writeFileSync(file, lines.join("\n") + "\n");
    const c = o.config ?? {};
    const result = await finetune(
      {
        ...c,
        task: o.task,
        model: o.model,
        data: file,
        validation: o.validation ?? file,
        output: join(o.workDir, "run"),
        baseline: false,
        training: { ...(c.training ?? {}), seed } as FinetuneConfig["training"],
      },
      { overwrite: true, log: o.log },
    );
    this.bestDir = result.bestDir;
    this.saved = await loadFinetuned(result.bestDir);
  }

  private async rows(inputs: readonly PoolInput[]): Promise<EncodedRow[]> {
    const s = this.saved!;
    return this.o.task === "ner"
      ? encodeWords(s.tokenizer, inputs as string[][], null, this.o.maxLength ?? s.info.maxLength)
      : encodeTexts(s.tokenizer, inputs as string[], undefined, this.o.maxLength ?? s.info.maxLength);
  }

  /** Probabilities of inputs over the loop's labels: [item][units][classes]; `dropout` keeps dropout on. */
  async predictInputs(inputs: readonly PoolInput[], dropout = false): Promise<UnitProbs[]> {
    const s = this.saved;
    if (!s) throw new ArgumentError("the learner has not been fitted");
    const rows = await this.rows(inputs);
    // the run's labels are those its data had: map them onto the loop's (a missing one gets probability 0)
    const at = this.o.labels.map((l) => s.info.labels.indexOf(l));
    const project = (p: readonly number[]) => at.map((j) => (j < 0 ? 0 : p[j]));
    const out: UnitProbs[] = [];
    s.model.train(dropout);
    noGrad(() => {
      for (let start = 0; start < rows.length; start += 32) {
        const idx = Int32Array.from({ length: Math.min(32, rows.length - start) }, (_, i) => start + i);
        const probs = softmax(s.forward(s.model, padRows(rows, idx, s.padId)), -1);
        if (this.o.task !== "ner") {
          for (const p of probs.toRows()) out.push([project(p)]);
          continue;
        }
        const [, t, c] = probs.shape;
        const flat = probs.toArray();
        idx.forEach((r, b) => {
          const row = rows[r] as EncodedTokens;
          // a word cut off by truncation (-1) gets its sentence's last kept token's distribution
          out.push(
            row.wordStarts.map((pos) => {
              const q = pos >= 0 ? pos : row.ids.length - 1;
              return project(Array.from(flat.slice((b * t + q) * c, (b * t + q + 1) * c)));
            }),
          );
        });
      }
    });
    s.model.eval();
    return out;
  }

  predict(ids: readonly number[], dropout = false): Promise<UnitProbs[]> {
    return this.predictInputs(
      ids.map((i) => this.o.inputs[i]),
      dropout,
    );
  }

  async passes(ids: readonly number[], t: number): Promise<Map<number, UnitProbs[]>> {
    const out = new Map<number, UnitProbs[]>(ids.map((id) => [id, []]));
    for (let k = 0; k < t; k++) (await this.predict(ids, true)).forEach((p, i) => out.get(ids[i])!.push(p));
    return out;
  }

  predictTest(): Promise<UnitProbs[]> {
    return this.predictInputs(this.o.testInputs ?? []);
  }

  /** The fine-tuned encoder's mean-pooled embedding of every pool item (NER: the mean of its words' vectors). */
  async embeddings(): Promise<number[][]> {
    const o = this.o;
    const data =
      o.task === "ner"
        ? {
            task: "ner" as const,
            labels: o.labels,
            sentences: o.inputs as string[][],
            y: new Int32Array((o.inputs as string[][]).flat().length),
          }
        : {
            task: "classification" as const,
            labels: o.labels,
            texts: (o.inputs as string[]).map((text) => ({ text })),
            y: new Int32Array(o.inputs.length),
          };
    const f = await checkpointFeatures(this.bestDir, data, { maxLength: o.maxLength });
    const rows = Array.from({ length: f.n }, (_, i) => Array.from(f.x.subarray(i * f.d, (i + 1) * f.d)));
    if (o.task !== "ner") return rows;
    let at = 0;
    return (o.inputs as string[][]).map((s) => {
      const u = rows.slice(at, (at += s.length));
      return u[0].map((_, j) => u.reduce((acc, v) => acc + v[j], 0) / u.length);
    });
  }
}
