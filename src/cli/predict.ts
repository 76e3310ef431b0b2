/**
 * `graft predict`: predictions for new texts from a saved model directory, through the library's Predictor
 * (tasks/predictor.ts: a classical baseline, a fine-tuned classifier or tagger, or a causal language model that
 * generates). A classifier prints labels and scores, a regression model numbers, a tagger its entities (with
 * character offsets; the text with each entity marked in TSV), a language model the text it generates.
 * Input: a file (CSV/TSV/JSONL/plain text, read with the usual flags and validation), --text, or stdin;
 * output: JSONL (label and scores per input) or TSV, streamed in batches. A tabular model reads records instead:
 * a CSV/TSV with a header, or JSONL objects of column → value (predictRecords below).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import type { Example, ReadReport } from "../data/types.js";
import { streamExamples } from "../data/readers/examples.js";
import { exampleText } from "../data/classical/pipeline.js";
import { readOptionsFrom, readSchema, reportSkipped } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";
import { opt, type Resolved, switchesOnly } from "../util/options.js";
import { evaluate } from "./baseline.js";
import { readTable } from "../data/tabular/index.js";
import { recordInput, type RecordInput } from "../tasks/kinds/tabular/index.js";
import type { Predictor } from "../tasks/predictor.js";
import { Rng } from "../util/rng.js";
import { computeMetrics } from "../metrics/index.js";
import type { GenerateOptions } from "../models/index.js";
import {
  loadPredictor,
  type ClassPrediction,
  type Entity,
  type MultiLabelPrediction,
  type TaskPrediction,
  type ValuePrediction,
} from "../tasks/predictor.js";

// the command module still answers for the Predictor it prints (tests and scripts import it from here)
export { loadPredictor };

/** `graft predict`'s flags (no config file): the model, the input and output, generation, and how to read a file. */
export const PREDICT_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "model directory (graft baseline --out, graft finetune, or config.json + model.safetensors + tokenizer)",
  }),
  input: opt.string({
    flag: "--input <file>",
    help: 'texts to label: CSV, TSV, JSONL or plain text (one per line); "-" for stdin',
  }),
  text: opt.list("string", { flag: "--text <text...>", help: "label these texts" }),
  output: opt.string({ flag: "--output <file>", help: "write predictions here", defaultHelp: "stdout" }),
  outputFormat: opt.enum(["jsonl", "tsv"], {
    default: "jsonl",
    flag: "--output-format <fmt>",
    help: "jsonl (label and scores) or tsv (label<TAB>text; a tagger: tags<TAB>text with [entity](TYPE) marked)",
  }),
  batchSize: opt.integer({ default: 1024, gt: 0, help: "texts per batch" }),
  maxNewTokens: opt.integer({
    min: 0,
    help: "language models: tokens to generate",
    defaultHelp: "20; a seq2seq model: its --max-target-length",
  }),
  doSample: opt.boolean({ help: "language models: sample instead of greedy decoding" }),
  temperature: opt.number({
    gt: 0,
    flag: "--temperature <t>",
    help: "language models: sampling temperature",
    defaultHelp: "1",
  }),
  topK: opt.integer({
    min: 0,
    flag: "--top-k <k>",
    help: "language models: sample among the k most likely tokens, 0 = all",
    defaultHelp: "50",
  }),
  topP: opt.number({
    gt: 0,
    max: 1,
    flag: "--top-p <p>",
    help: "language models: nucleus sampling mass",
    defaultHelp: "1",
  }),
  seed: opt.integer({ default: 0, help: "language models: seed of the sampling generator" }),
  task: opt.string({
    flag: "--task <name>",
    help: "a multi-task model (graft multitask): the task whose head predicts",
  }),
  allowNonfinite: opt.boolean({
    flag: "--allow-nonfinite",
    help: "load a model whose weights hold NaN or Infinity (refused otherwise), to inspect it",
  }),

  ...readSchema("fail"),
});

type PredictFlags = Resolved<typeof PREDICT_SWITCHES>;

/** Generation flags → options (sampling draws from --seed). */
function generateOptions(o: PredictFlags): GenerateOptions {
  return {
    maxNewTokens: o.maxNewTokens,
    doSample: o.doSample ?? false,
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    rng: new Rng(o.seed),
  };
}

/** A prediction printed as a label with scores (classification, multi-label). */
function isLabelled(p: TaskPrediction): p is ClassPrediction | MultiLabelPrediction {
  return p.task !== "regression" && "label" in p && typeof p.label === "string" && "scores" in p;
}

/** The text with each entity's characters marked as `[text](TYPE)`. */
export function highlightEntities(text: string, entities: readonly Pick<Entity, "type" | "start" | "end">[]): string {
  let out = "",
    at = 0;
  for (const e of [...entities].sort((a, b) => a.start - b.start)) {
    if (e.start < at) continue;
    out += `${text.slice(at, e.start)}[${text.slice(e.start, e.end)}](${e.type})`;
    at = e.end;
  }
  return out + text.slice(at);
}

const flatten = (s: string) => s.replace(/[\t\n]/g, " ");

/** Records of a CSV/TSV with a header (fields as strings) or of a JSONL file (one object a line), with their lines. */
async function* readRecords(file: string, o: PredictFlags): AsyncGenerator<RecordInput> {
  if (/\.(jsonl|ndjson)$/i.test(file)) {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      line++;
      if (text.trim() === "") continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (e) {
        throw new GraftError(`${file}, line ${line}: not JSON (${(e as Error).message})`);
      }
      if (record === null || typeof record !== "object" || Array.isArray(record))
        throw new GraftError(`${file}, line ${line}: a record must be a JSON object of column → value`);
      yield recordInput(record as Record<string, unknown>, { file, line });
    }
    return;
  }
  const table = await readTable(file, { delimiter: o.delimiter, quote: o.quote === "none" ? null : o.quote });
  for (const [k, fields] of table.rows.entries())
    yield recordInput(Object.fromEntries(table.header.map((h, c) => [h, fields[c]])), { file, line: table.lines[k] });
}

/** A tabular model's predictions for the records of --input: JSONL (line, label, probabilities) or TSV. */
async function predictRecords(predictor: Predictor, o: PredictFlags, out: NodeJS.WritableStream): Promise<void> {
  if (o.input === undefined || o.input === "-")
    throw new GraftError(
      `--model ${o.model} is a tabular model: give its records as --input FILE (CSV/TSV with a header, or JSONL objects)`,
    );
  let batch: RecordInput[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const preds = (await predictor.predict(batch)) as ClassPrediction[];
    const chunk = batch
      .map((r, i) =>
        o.outputFormat === "tsv"
          ? `${preds[i].label}\t${flatten(r.text)}\n`
          : `${JSON.stringify({ line: r.line, label: preds[i].label, probabilities: preds[i].scores })}\n`,
      )
      .join("");
    if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
    batch = [];
  };
  for await (const r of readRecords(o.input, o)) {
    batch.push(r);
    if (batch.length >= o.batchSize) await flush();
  }
  await flush();
}

async function* stdinExamples(): AsyncGenerator<Example> {
  let line = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    line++;
    if (text.trim() !== "") yield { text: text.trim(), line };
  }
}

export function register(program: Command): void {
  const cmd = program
    .command("predict")
    .description(
      "label texts with a saved model (a graft baseline, or a classifier directory), or continue them with a language model",
    );
  addOptions(cmd, PREDICT_SWITCHES)
    .addHelpText(
      "after",
      '\nExamples:\n  graft predict --model runs/sst2-logreg --text "a gorgeous, witty film" "dull and overlong"\n  graft predict --model runs/sst2-logreg --input reviews.csv --text-column review --output preds.jsonl\n  graft predict --model runs/sst2-bert/best --text "a gorgeous, witty film"\n  graft predict --model models/gpt2 --text "Once upon a time" --max-new-tokens 30 --do-sample --top-p 0.9 --seed 1\n',
    )
    .action(async (_: unknown, command: Command) => {
      const o = resolveFlags(PREDICT_SWITCHES, command);
      const batchSize = o.batchSize;
      if ((o.input === undefined) === (o.text === undefined))
        throw new GraftError("give either --input FILE (or - for stdin) or --text TEXT...");
      const predictor = loadPredictor(o.model, {
        generation: generateOptions(o),
        name: `--model ${o.model}`,
        allowNonFinite: o.allowNonfinite,
        task: o.task,
      });
      if (predictor.task === "tabular") {
        const file = o.output ? createWriteStream(o.output) : undefined;
        await predictRecords(predictor, o, file ?? process.stdout);
        if (file) await new Promise<void>((resolve, reject) => file.once("error", reject).end(() => resolve()));
        return;
      }
      const report: ReadReport = {
        file: o.input ?? "--text",
        format: "",
        columns: [],
        rows: 0,
        kept: 0,
        blankLines: 0,
        skipped: [],
      };
      const source: AsyncIterable<Example> =
        o.text !== undefined
          ? (async function* () {
              for (const [i, t] of o.text!.entries()) yield { text: t, line: i + 1 };
            })()
          : o.input === "-"
            ? stdinExamples()
            : streamExamples(o.input!, readOptionsFrom(o), report);
      const file = o.output ? createWriteStream(o.output) : undefined;
      const out: NodeJS.WritableStream = file ?? process.stdout;
      const gold: string[] = [];
      const predicted: string[] = [];
      const goldValues: number[] = [];
      const predictedValues: number[] = [];
      let unlabelled = false;
      let batch: Example[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        let chunk = "";
        if (predictor.generate) {
          const texts = await predictor.generate(batch.map(exampleText));
          batch.forEach((e, i) => {
            chunk +=
              o.outputFormat === "tsv"
                ? `${texts[i]!.replace(/[\t\n]/g, " ")}\t${e.text.replace(/[\t\n]/g, " ")}\n`
                : JSON.stringify({
                    line: e.line,
                    text: e.text,
                    generated: texts[i],
                    generated_text: e.text + texts[i],
                  }) + "\n";
          });
          unlabelled = true;
          if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
          batch = [];
          return;
        }
        const preds = await predictor.predict(batch.map((e) => ({ text: e.text, textPair: e.textPair })));
        batch.forEach((e, i) => {
          const p = preds[i]!;
          const flat = flatten(e.text);
          if (p.task === "regression") {
            // a number per input; labelled input is scored with regression metrics
            const { value } = p as ValuePrediction;
            const goldValue = e.label === undefined || e.label === "" ? NaN : Number(e.label);
            if (Number.isFinite(goldValue)) {
              goldValues.push(goldValue);
              predictedValues.push(value);
            } else unlabelled = true;
            chunk +=
              o.outputFormat === "tsv"
                ? `${value}\t${flat}\n`
                : JSON.stringify({ line: e.line, text: e.text, value }) + "\n";
            return;
          }
          if (!isLabelled(p)) {
            // a tagger (entities, and a tag per word for TSV), or another kind's own fields
            const { task: _task, ...fields } = p as Record<string, unknown>;
            unlabelled = true;
            const entities = Array.isArray(fields.entities) ? (fields.entities as Entity[]) : null;
            chunk +=
              o.outputFormat === "tsv"
                ? Array.isArray(fields.tags)
                  ? `${fields.tags.join(" ")}\t${flatten(entities ? highlightEntities(e.text, entities) : e.text)}\n`
                  : typeof fields.generated === "string"
                    ? `${flatten(fields.generated)}\t${flat}\n`
                    : `${JSON.stringify(fields)}\t${flat}\n`
                : JSON.stringify({ line: e.line, text: e.text, ...fields }) + "\n";
            return;
          }
          if (e.label === undefined) unlabelled = true;
          else {
            gold.push(String(e.label));
            predicted.push(p.label);
          }
          chunk +=
            o.outputFormat === "tsv"
              ? `${p.label}\t${flat}\n`
              : JSON.stringify({
                  line: e.line,
                  text: e.text,
                  label: p.label,
                  [p.kind === "probability" ? "probabilities" : "scores"]: p.scores,
                }) + "\n";
        });
        if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
        batch = [];
      };
      for await (const e of source) {
        batch.push(e);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      if (file) {
        await new Promise<void>((resolve, reject) => {
          file.once("error", reject);
          file.end(() => resolve());
        });
      }
      reportSkipped(report.skipped);
      if (!unlabelled && goldValues.length > 0) {
        const m = computeMetrics({ rmse: "rmse", mae: "mae", r2: "r2" }, { number: predictedValues }, goldValues);
        process.stderr.write(
          `the input has labels: RMSE ${m.rmse.toFixed(4)}  MAE ${m.mae.toFixed(4)}  R² ${m.r2.toFixed(4)}  (${goldValues.length} rows)\n`,
        );
      }
      if (!unlabelled && gold.length > 0) {
        const ev = evaluate(gold, predicted, predictor.labels);
        process.stderr.write(
          `the input has labels: accuracy ${(ev.accuracy * 100).toFixed(2)}%  macro-F1 ${(ev.macroF1 * 100).toFixed(2)}%  (${ev.rows} rows)\n`,
        );
      }
    });
}
