/**
 * The sft task kind (alias causal-lm): supervised fine-tuning of a causal language model on JSONL of {text},
 * {prompt, completion} or {messages} records (./data.ts: shapes, the loss's tokens, the over-length rule, packing).
 * The model is the checkpoint's own LM head (nothing is re-initialized); the loss is the next-token cross-entropy
 * over the learned tokens; evaluation is the loss per learned token and its perplexity on held-out records.
 */
import { resolveModelDir } from "../../../io/hub.js";
import { ArgumentError } from "../../../util/errors.js";
import { Rng } from "../../../util/rng.js";
import { type Tensor, noGrad, slice } from "../../../tensor/index.js";
import { AutoModelForCausalLM, causalLmLoss } from "../../../models/index.js";
import type { Tokenizer } from "../../../tokenizers/index.js";
import { type ChatTemplate, loadChatTemplate } from "../../../chat/index.js";
import { IGNORE_INDEX } from "../../../train/index.js";
import { forEachBatch } from "../../evaluate.js";
import { padRows } from "../../encode.js";
import {
  type HeadBuilder,
  type PrepareContext,
  type Split,
  type TaskData,
  type TaskSpec,
  inputText,
} from "../../spec.js";
import {
  type SftEncodeReport,
  type SftRecord,
  type SftRow,
  encodeSftRecords,
  encodeWarnings,
  learnedTokens,
  packRows,
  readSftFile,
} from "./data.js";
import { type ReplyCase, replyCase, scoreReplies } from "./generation.js";

export { encodeSftRecords, packRows, readSftFile, type SftRecord, type SftRow } from "./data.js";

export interface SftOutput {
  /** Summed negative log-likelihood of the learned tokens (nats) and their number. */
  lossSum: number;
  tokens: number;
  /** Mean loss per learned token of each row. */
  rowLoss: number[];
}

export interface SftSummary {
  shapes: Record<string, number>;
  packing: boolean;
  rows: { train: number; validation: number; test: number };
  files: SftEncodeReport[];
  warnings: string[];
  chatTemplate: string | null;
}

function templateFor(modelDir: string, override?: string): ChatTemplate | null {
  try {
    return loadChatTemplate(modelDir, override);
  } catch (e) {
    if (override || !(e instanceof ArgumentError)) throw e;
    return null; // a {messages} record will say it needs --chat-template
  }
}

function holdout(n: number, fraction: number, rng: Rng): { keep: number[]; out: number[] } {
  const perm = Array.from(rng.permutation(n));
  const k = Math.round(n * fraction);
  return { out: perm.slice(0, k).sort((a, b) => a - b), keep: perm.slice(k).sort((a, b) => a - b) };
}

async function prepare({ config: c, tokenizer, seed }: PrepareContext): Promise<TaskData<number>> {
  const modelDir = await resolveModelDir(c.model);
  const template = templateFor(modelDir, c.chatTemplate);
  // the template a run trains with is saved with the model's tokenizer (best/ then renders as it was trained)
  if (template) tokenizer.settings.raw.chat_template = template.text;
  const opts = { tokenizer, template, maxLength: c.maxLength, trainOn: c.trainOn, overLength: c.overLength };
  const rng = new Rng(seed);
  let train = readSftFile(c.data);
  let validation: SftRecord[];
  let test: SftRecord[] | null = null;
  const files = { train: c.data, validation: c.validation ?? c.data, test: c.test ?? c.data };
  if (c.validation) validation = readSftFile(c.validation);
  else {
    if (!(c.validationFraction > 0))
      throw new ArgumentError("no validation data: give --validation FILE or a validation fraction > 0");
    const h = holdout(train.length, c.validationFraction, rng);
    validation = h.out.map((i) => train[i]);
    train = h.keep.map((i) => train[i]);
  }
  if (c.test) test = readSftFile(c.test);
  else if (c.testFraction > 0) {
    const h = holdout(train.length, c.testFraction, rng);
    test = h.out.map((i) => train[i]);
    train = h.keep.map((i) => train[i]);
  }
  if (train.length === 0 || validation.length === 0)
    throw new ArgumentError(`${c.data} has too few records to hold out validation data: give --validation FILE`);
  const tr = await encodeSftRecords(train, files.train, opts);
  const va = await encodeSftRecords(validation, files.validation, opts);
  const te = test ? await encodeSftRecords(test, files.test, opts) : va;
  const split = (e: { rows: SftRow[]; inputs: SftRecord[] }): Split<number> => ({
    rows: e.rows,
    targets: e.rows.map(learnedTokens),
    inputs: e.inputs,
  });
  const trainSplit = split(tr);
  if (c.packing) {
    const packed = packRows(tr.rows, c.maxLength, rng);
    trainSplit.rows = packed;
    trainSplit.targets = packed.map(learnedTokens);
    trainSplit.inputs = packed.map((r) => ({ packedSamples: Math.max(...(r.segmentIds ?? [1])) }));
  }
  if (trainSplit.rows.length === 0) throw new ArgumentError(`${c.data}: no record has a token to learn`);
  const shapes: Record<string, number> = {};
  for (const r of [...train, ...validation, ...(test ?? [])]) shapes[r.shape] = (shapes[r.shape] ?? 0) + 1;
  const reports = test ? [tr.report, va.report, te.report] : [tr.report, va.report];
  const summary: SftSummary = {
    shapes,
    packing: c.packing,
    rows: { train: trainSplit.rows.length, validation: va.rows.length, test: te.rows.length },
    files: reports,
    warnings: reports.flatMap((r) => encodeWarnings(r, c.maxLength)),
    chatTemplate: template?.source ?? null,
  };
  return {
    labels: [],
    train: trainSplit,
    validation: split(va),
    test: split(te),
    testSplit: test ? "test" : "validation",
    summary,
  };
}

/** Learned tokens of a batch: labels not IGNORE_INDEX after the shift (the first column is never a target). */
function targetCount(labels: Tensor): number {
  const t = labels.shape[1];
  let n = 0;
  for (const [i, v] of labels.toArray().entries()) if (i % t > 0 && v !== IGNORE_INDEX) n++;
  return n;
}

function rowLosses(logits: Tensor, labels: Tensor): number[] {
  const out: number[] = [];
  for (let i = 0; i < logits.shape[0]; i++) {
    const l = slice(labels, 0, i, i + 1);
    out.push(targetCount(l) > 0 ? causalLmLoss(slice(logits, 0, i, i + 1), l).item() : NaN);
  }
  return out;
}

function describe(r: SftRecord | { packedSamples: number }): unknown {
  if ("packedSamples" in r) return r;
  if (r.shape === "text") return { text: r.text };
  if (r.shape === "prompt") return { prompt: r.prompt, completion: r.completion };
  return { messages: r.messages };
}

async function encodeInputs(tok: Tokenizer, inputs: readonly unknown[], maxLength?: number): Promise<SftRow[]> {
  const rows: SftRow[] = [];
  for (const x of inputs) {
    let ids = (await tok.encode(inputText(x as string).text, null, { addSpecialTokens: true })).ids;
    if (maxLength !== undefined && ids.length > maxLength) ids = ids.slice(ids.length - maxLength);
    rows.push({ ids, typeIds: ids.map(() => 0), labels: ids.map((id, i) => (i > 0 ? id : IGNORE_INDEX)) });
  }
  return rows;
}

export const sft: TaskSpec<number, SftOutput> = {
  name: "sft",
  auto: AutoModelForCausalLM as unknown as HeadBuilder,
  peftTaskType: "CAUSAL_LM",
  defaultMetric: "loss",
  generative: true,
  // a causal LM directory without graft_task.json is a generator (the Predictor's generation path), not this kind
  recognizes: () => false,

  prepare,
  async readLabelled(file, ctx) {
    const records = readSftFile(file);
    const e = await encodeSftRecords(records, file, {
      tokenizer: ctx.tokenizer,
      template: ctx.modelDir ? templateFor(ctx.modelDir) : null,
      maxLength: ctx.maxLength,
      trainOn: "auto",
      overLength: "truncate",
    });
    return { rows: e.rows, targets: e.rows.map(learnedTokens), inputs: e.inputs };
  },
  headOptions: () => ({}),
  settings: () => ({ weights: null, labelSmoothing: 0, focalGamma: 0, threshold: null }),
  dataWarnings: (data) => (data.summary as SftSummary).warnings,

  async finalMetrics({ model, tokenizer, config: c, data, batchSize }) {
    if (!c.generationMetrics) return { metrics: {} };
    const template = templateFor(await resolveModelDir(c.model), c.chatTemplate);
    const cases: ReplyCase[] = [];
    for (const rec of data.test.inputs as SftRecord[]) {
      const r = await replyCase(rec, tokenizer, template);
      if (r) cases.push(r);
    }
    if (cases.length === 0)
      return { metrics: {}, notes: ["generation metrics: no test record has a reference answer to compare with"] };
    // a turn ends with the eos token or with the template's end-of-turn token when the tokenizer knows it
    const stopIds = [
      tokenizer.specialTokenId("eos"),
      template ? tokenizer.tokenToId(template.specialTokens.eos_token ?? "") : null,
    ].filter((x): x is number => x !== null);
    const wasTraining = model.training;
    model.eval();
    const s = await scoreReplies(model, tokenizer, cases, { maxNewTokens: c.generationMaxTokens, batchSize, stopIds });
    model.train(wasTraining);
    const samples = s.replies
      .slice(0, 3)
      .map((r) => `sample reply: ${JSON.stringify(r.reply)} (reference ${JSON.stringify(r.reference)})`);
    return { metrics: s.metrics, notes: [`generation metrics on ${cases.length} test replies (greedy)`, ...samples] };
  },

  loss: (logits, batch) => causalLmLoss(logits, batch.tokenLabels!),

  predict(ctx, rows, targets) {
    const rowLoss: number[] = [];
    let lossSum = 0;
    let tokens = 0;
    forEachBatch(ctx, rows, ({ logits, batch }) => {
      const labels = batch.tokenLabels!;
      const n = targetCount(labels);
      if (n > 0) lossSum += causalLmLoss(logits, labels).item() * n;
      tokens += n;
      if (targets) rowLoss.push(...rowLosses(logits, labels));
    });
    return { lossSum, tokens, rowLoss };
  },

  metrics: (p) => {
    const loss = p.tokens > 0 ? p.lossSum / p.tokens : NaN;
    return { loss, perplexity: Math.exp(loss) };
  },

  predictionRecords: (p, inputs) =>
    inputs.map((x, i) => ({
      ...(describe(x as SftRecord) as object),
      loss: p.rowLoss[i] ?? null,
      perplexity: p.rowLoss[i] === undefined ? null : Math.exp(p.rowLoss[i]),
    })),

  encodeInputs: (tok, inputs, maxLength) => encodeInputs(tok, inputs, maxLength),

  decode(logits, rows) {
    const batch = padRows(
      rows as SftRow[],
      Int32Array.from(rows, (_, i) => i),
      0,
    );
    const losses = noGrad(() => rowLosses(logits, batch.tokenLabels!));
    return losses.map((l) => ({ task: "sft", loss: l, perplexity: Math.exp(l) }));
  },
};

/** The same kind under the name transformers users know for the head. */
export const causalLm: TaskSpec<number, SftOutput> = { ...sft, name: "causal-lm" };
