/**
 * A toy task kind, written as a new kind would be: does a line of plain text contain a positive word? The labels
 * come from the text itself (no label column), so it has its own data preparation; it trains a sequence
 * classification head with cross-entropy, reports accuracy, adds a report section and predicts
 * `{ task: "toy", positive, probability }`. Registered by the test with one line: registerTaskKind(toy).
 */
import { readFileSync } from "node:fs";
import { DataError } from "../../../src/util/errors.js";
import { Tensor, crossEntropy, softmax } from "../../../src/tensor/index.js";
import { AutoModelForSequenceClassification } from "../../../src/models/index.js";
import { MeanLoss, encodeTexts, forEachBatch, inputText, type Split, type TaskSpec } from "../../../src/tasks/index.js";
import { POSITIVE } from "../fixtures.js";

export interface ToyOutput {
  gold: number[];
  /** P(positive) per line. */
  prob: number[];
  meanLoss: number;
}

const LABELS = ["no", "yes"];

async function readLines(
  file: string,
  tok: Parameters<typeof encodeTexts>[0],
  maxLength: number,
): Promise<Split<number>> {
  const lines = readFileSync(file, "utf8").split("\n");
  const texts: string[] = [];
  lines.forEach((l, i) => {
    if (l.trim() === "") return;
    if (l.length > 200) throw new DataError("line longer than 200 characters", { file, line: i + 1, field: "text" });
    texts.push(l.trim());
  });
  return {
    rows: await encodeTexts(tok, texts, undefined, maxLength),
    targets: texts.map((t) => (t.split(" ").some((w) => POSITIVE.includes(w)) ? 1 : 0)),
    inputs: texts,
  };
}

export const toy: TaskSpec<number, ToyOutput> = {
  name: "toy",
  auto: AutoModelForSequenceClassification,
  peftTaskType: "SEQ_CLS",
  defaultMetric: "accuracy",
  recognizes: () => false,

  async prepare({ config, tokenizer }) {
    const train = await readLines(config.data, tokenizer, config.maxLength);
    const validation = await readLines(config.validation!, tokenizer, config.maxLength);
    return { labels: LABELS, train, validation, test: validation, testSplit: "validation", summary: { toy: true } };
  },
  readLabelled: (file, ctx) => readLines(file, ctx.tokenizer, ctx.maxLength),
  headOptions: (labels) => ({ labels }),
  settings: () => ({ weights: null, labelSmoothing: 0, focalGamma: 0, threshold: null }),

  loss: (logits, _batch, targets) => crossEntropy(logits, new Tensor(Int32Array.from(targets), [targets.length])),

  predict(ctx, rows, targets) {
    const out: ToyOutput = { gold: [], prob: [], meanLoss: NaN };
    const loss = new MeanLoss();
    forEachBatch(ctx, rows, ({ logits, start, n }) => {
      if (targets) {
        const gold = targets.slice(start, start + n);
        loss.add(crossEntropy(logits, new Tensor(Int32Array.from(gold), [n])).item() * n, n);
        out.gold.push(...gold);
      }
      for (const [, p] of softmax(logits).toRows()) out.prob.push(p);
    });
    out.meanLoss = loss.value;
    return out;
  },

  metrics: (p) => ({
    loss: p.meanLoss,
    accuracy: p.gold.filter((g, i) => g === (p.prob[i] >= 0.5 ? 1 : 0)).length / p.gold.length,
  }),

  predictionRecords: (p, inputs) =>
    p.prob.map((prob, i) => ({ text: inputs[i], gold: p.gold[i] ?? null, positive: prob >= 0.5 })),

  reportSections: (p) => [
    {
      id: "toy",
      title: "Toy kind",
      body: `<p>${p.prob.filter((x) => x >= 0.5).length} of ${p.prob.length} lines predicted positive</p>`,
    },
  ],

  encodeInputs: (tok, inputs, maxLength) =>
    encodeTexts(
      tok,
      inputs.map((x) => inputText(x).text),
      undefined,
      maxLength,
    ),

  decode: (logits) =>
    softmax(logits)
      .toRows()
      .map(([, p]) => ({ task: "toy", positive: p >= 0.5, probability: p })),
};
