/**
 * Token classification (named-entity recognition) on CoNLL files: a tag per word. Words are split into sub-word
 * tokens; the first sub-token of each word carries its tag (the others are IGNORE_INDEX in the loss) and predicts
 * it. Logits [B, T, C]. Metrics are seqeval's entity precision / recall / F1; the Predictor returns entities with
 * the character offsets of new text.
 */
import { Rng } from "../../../util/rng.js";
import { ArgumentError, DataError } from "../../../util/errors.js";
import { reshape, softmax, type Tensor } from "../../../tensor/index.js";
import { readConll, sortLabels, type TaggedSentence } from "../../../data/index.js";
import { AutoModelForTokenClassification } from "../../../models/index.js";
import { getEntities } from "../../../metrics/sequence-labelling/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import { classificationLoss } from "../../losses.js";
import { labelIndex } from "../../labels.js";
import { encodeWords, type EncodedTokens } from "../../encode.js";
import { MeanLoss, forEachBatch } from "../../evaluate.js";
import { plainSettings } from "../sequence.js";
import { inputText, type EntitiesPrediction, type Split, type TaskSpec } from "../../spec.js";

/** Gold and predicted tag names per word of each sentence, and the mean token loss. */
export interface NerOutput {
  goldTags: string[][];
  predTags: string[][];
  meanLoss: number;
}

function discoverTags(train: readonly TaggedSentence[], file: string): string[] {
  const all = new Set<string>();
  for (const s of train) for (const t of s.tags) all.add(t);
  if (all.size === 0) throw new DataError("the training data has no tagged tokens", { file });
  return sortLabels(all);
}

function encodeTags(labels: readonly string[], s: TaggedSentence, file: string): number[] {
  const index = labelIndex(labels);
  return s.tags.map((t, i) => {
    const id = index.get(t);
    if (id === undefined)
      throw new DataError(
        `tag ${JSON.stringify(t)} (token ${i + 1}, "${s.tokens[i]}") was not seen in the training data`,
        { file, line: s.line + i, field: "tag" },
      );
    return id;
  });
}

async function encodeSentences(
  tok: Parameters<typeof encodeWords>[0],
  sentences: readonly TaggedSentence[],
  labels: readonly string[],
  file: string,
  maxLength: number,
): Promise<Split<number[]>> {
  const targets = sentences.map((s) => encodeTags(labels, s, file));
  const words = sentences.map((s) => s.tokens);
  return { rows: await encodeWords(tok, words, targets, maxLength), targets, inputs: words };
}

/** For each word of row `i` of logits [B, T, C] (values row-major): the best tag id and its softmax probability. */
function wordTags(
  values: readonly number[],
  probs: readonly number[] | null,
  t: number,
  c: number,
  i: number,
  row: EncodedTokens,
) {
  return row.wordStarts.map((pos) => {
    if (pos < 0) return { id: -1, p: 1 }; // truncated away: predicted outside any entity
    const o = (i * t + pos) * c;
    let best = 0;
    for (let k = 1; k < c; k++) if (values[o + k] > values[o + best]) best = k;
    return { id: best, p: probs ? probs[o + best] : 1 };
  });
}

/** Mean cross-entropy terms over labelled positions (first sub-tokens), in double precision. */
function tokenLossSum(values: readonly number[], labels: readonly number[], c: number): { sum: number; count: number } {
  let sum = 0,
    count = 0;
  for (let r = 0; r < labels.length; r++) {
    const y = labels[r];
    if (y < 0) continue;
    const o = r * c;
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, values[o + k]);
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.exp(values[o + k] - max);
    sum += max + Math.log(s) - values[o + y];
    count++;
  }
  return { sum, count };
}

/** Whitespace-separated words of a text with their character offsets. */
function wordsOf(text: string): { word: string; start: number; end: number }[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0], start: m.index, end: m.index + m[0].length }));
}

export const ner: TaskSpec<number[], NerOutput> = {
  name: "ner",
  auto: AutoModelForTokenClassification,
  peftTaskType: "TOKEN_CLS",
  defaultMetric: "f1",

  recognizes: (_config, architecture) => architecture.endsWith("ForTokenClassification"),

  async prepare({ config: c, tokenizer, seed }) {
    const csvOnly = [
      c.format !== undefined && c.format !== "conll" ? `--format ${c.format}` : "",
      c.delimiter !== undefined ? "--delimiter" : "",
      c.quote !== undefined ? "--quote" : "",
      c.header === false ? "--no-header" : "",
    ].filter(Boolean);
    if (csvOnly.length)
      throw new ArgumentError(
        `--task ner reads CoNLL files (a token and its tag per line, blank lines between sentences); ${csvOnly.join(", ")} apply to CSV/TSV/JSONL files`,
      );
    const read = async (f: string) => (await readConll(f, { onBadRow: c.onBadRow })).sentences;
    let train = await read(c.data);
    let validation: TaggedSentence[] = c.validation ? await read(c.validation) : [];
    const test: TaggedSentence[] = c.test ? await read(c.test) : [];
    if (!c.validation) {
      // hold out a seeded fraction of sentences
      const perm = new Rng(seed).permutation(train.length);
      const k = Math.max(1, Math.round(train.length * c.validationFraction));
      const held = new Set(perm.subarray(0, k));
      validation = train.filter((_, i) => held.has(i));
      train = train.filter((_, i) => !held.has(i));
    }
    const labels = discoverTags(train, c.data);
    const testSplit = test.length ? "test" : "validation";
    return {
      labels,
      train: await encodeSentences(tokenizer, train, labels, c.data, c.maxLength),
      validation: await encodeSentences(tokenizer, validation, labels, c.validation ?? c.data, c.maxLength),
      test: await encodeSentences(
        tokenizer,
        test.length ? test : validation,
        labels,
        c.test ?? c.validation ?? c.data,
        c.maxLength,
      ),
      testSplit,
      summary: {
        sizes: { train: train.length, validation: validation.length, test: test.length },
        files: [c.data, c.validation, c.test].filter(Boolean),
      },
    };
  },

  async readLabelled(file, ctx) {
    const { sentences } = await readConll(file, { onBadRow: ctx.read?.onBadRow });
    return encodeSentences(ctx.tokenizer, sentences, ctx.labels, file, ctx.maxLength);
  },

  headOptions: (labels) => ({ labels }),
  settings: (c) => plainSettings(c, "ner"),

  loss(logits, batch, _targets, s) {
    const classes = logits.shape[2]; // [B, T, C] scored at first sub-tokens only (the rest are IGNORE_INDEX)
    return classificationLoss(
      reshape(logits, [logits.size / classes, classes]),
      reshape(batch.tokenLabels!, [batch.tokenLabels!.size]),
      { labelSmoothing: s.labelSmoothing },
    );
  },

  predict(ctx, rows, targets) {
    const out: NerOutput = { goldTags: [], predTags: [], meanLoss: NaN };
    const loss = new MeanLoss();
    forEachBatch(ctx, rows, ({ logits, batch, start, n }) => {
      const [, t, c] = logits.shape;
      const values = logits.toArray();
      if (batch.tokenLabels && targets) {
        const l = tokenLossSum(values, batch.tokenLabels.toArray(), c);
        if (l.count) loss.add(l.sum, l.count);
      }
      for (let i = 0; i < n; i++) {
        const tags = wordTags(values, null, t, c, i, rows[start + i] as EncodedTokens);
        out.predTags.push(tags.map(({ id }) => (id < 0 ? "O" : ctx.labels[id])));
        if (targets) out.goldTags.push(targets[start + i].map((id) => ctx.labels[id]));
      }
    });
    out.meanLoss = loss.value;
    return out;
  },

  // seqeval's entity-level scores (IOB2, default mode) and the token accuracy
  metrics(p) {
    const entity = (value?: string) => ({ metric: "entity-f1", options: { zeroDivision: 0 }, ...(value && { value }) });
    const names = {
      precision: entity("precision"),
      recall: entity("recall"),
      f1: entity(),
      token_accuracy: "token-accuracy",
    };
    return { loss: p.meanLoss, ...computeMetrics(names, { tags: p.predTags }, p.goldTags) };
  },

  predictionRecords: (p, inputs) => p.predTags.map((preds, i) => ({ tokens: inputs[i], labels: p.goldTags[i], preds })),

  encodeInputs: (tok, inputs, maxLength) =>
    encodeWords(
      tok,
      inputs.map((x) => wordsOf(inputText(x).text).map((w) => w.word)),
      null,
      maxLength,
    ),

  decode(logits: Tensor, rows, inputs, { labels }) {
    const [, t, c] = logits.shape;
    const values = logits.toArray();
    const probs = softmax(logits).toArray();
    return inputs.map((input, i): EntitiesPrediction => {
      const text = inputText(input).text;
      const words = wordsOf(text);
      const tags = wordTags(values, probs, t, c, i, rows[i] as EncodedTokens);
      const names = tags.map(({ id }) => (id < 0 ? "O" : labels[id]));
      const entities = getEntities(names).map(([type, first, last]) => {
        const span = tags.slice(first, last + 1);
        const [start, end] = [words[first].start, words[last].end];
        return {
          type,
          text: text.slice(start, end),
          start,
          end,
          score: span.reduce((s, w) => s + w.p, 0) / span.length,
        };
      });
      return { task: "ner", entities, tags: names };
    });
  },
};
