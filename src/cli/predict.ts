/**
 * `graft predict`: labels for new texts from a saved model directory. What the directory contains decides how it
 * is loaded (MODEL_KINDS below); today that is a classical baseline (baseline.json, from `graft baseline`).
 * A fine-tuned transformer directory (config.json + model.safetensors) gets its own entry in MODEL_KINDS
 * when its inference code exists.
 * Input: a file (CSV/TSV/JSONL/plain text, read with the usual flags and validation), --text, or stdin;
 * output: JSONL (label and scores per input) or TSV, streamed in batches.
 */
import { existsSync, statSync, createWriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import type { Example, ReadReport } from "../data/types.js";
import { streamExamples } from "../data/readers/examples.js";
import { TextClassifier, BASELINE_FILE, exampleText, type Prediction } from "../data/classical/pipeline.js";
import { addReadOptions, readOptionsFrom, reportSkipped, type ReadFlags } from "./data.js";
import { evaluate } from "./baseline.js";

/** A loaded model that can label batches of texts. */
export interface Predictor {
  kind: string;
  labels: readonly string[];
  predict(texts: readonly string[]): Promise<Prediction[]>;
}

interface ModelKind {
  name: string;
  /** Whether `dir` holds this kind of model. */
  detect(dir: string): boolean;
  load(dir: string): Predictor;
}

export const MODEL_KINDS: ModelKind[] = [
  {
    name: "classical baseline",
    detect: (dir) => existsSync(join(dir, BASELINE_FILE)),
    load: (dir) => {
      const model = TextClassifier.load(dir);
      return { kind: `baseline (${model.config.model})`, labels: model.labels, predict: async (texts) => model.predict(texts) };
    },
  },
];

export function loadPredictor(dir: string): Predictor {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new GraftError(`--model ${dir}: no such directory`);
  const kind = MODEL_KINDS.find((k) => k.detect(dir));
  if (kind) return kind.load(dir);
  if (existsSync(join(dir, "config.json")) && existsSync(join(dir, "model.safetensors"))) {
    throw new GraftError(`--model ${dir} is a transformer model directory; graft predict does not run transformer models yet`, "graft predict currently serves models saved by graft baseline");
  }
  throw new GraftError(`--model ${dir}: no model found (expected ${BASELINE_FILE})`, "pass a directory written by graft baseline --out DIR");
}

interface PredictFlags extends ReadFlags {
  model: string;
  input?: string;
  text?: string[];
  output?: string;
  outputFormat: string;
  batchSize: string;
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
    .description("label texts with a saved model (a graft baseline model directory)")
    .requiredOption("--model <dir>", "model directory (from graft baseline --out)")
    .option("--input <file>", 'texts to label: CSV, TSV, JSONL or plain text (one per line); "-" for stdin')
    .option("--text <text...>", "label these texts")
    .option("--output <file>", "write predictions here (default: stdout)")
    .option("--output-format <fmt>", "jsonl (label and scores) or tsv (label<TAB>text)", "jsonl")
    .option("--batch-size <n>", "texts per batch", "1024");
  addReadOptions(cmd, "fail")
    .addHelpText("after", "\nExamples:\n  graft predict --model runs/sst2-logreg --text \"a gorgeous, witty film\" \"dull and overlong\"\n  graft predict --model runs/sst2-logreg --input reviews.csv --text-column review --output preds.jsonl\n")
    .action(async (o: PredictFlags) => {
      if (o.outputFormat !== "jsonl" && o.outputFormat !== "tsv") throw new GraftError(`--output-format must be jsonl or tsv, got "${o.outputFormat}"`);
      const batchSize = Number(o.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new GraftError(`--batch-size must be a positive integer, got "${o.batchSize}"`);
      if ((o.input === undefined) === (o.text === undefined)) throw new GraftError("give either --input FILE (or - for stdin) or --text TEXT...");
      const predictor = loadPredictor(o.model);
      const report: ReadReport = { file: o.input ?? "--text", format: "", columns: [], rows: 0, kept: 0, blankLines: 0, skipped: [] };
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
      let unlabelled = false;
      let batch: Example[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const preds = await predictor.predict(batch.map(exampleText));
        let chunk = "";
        batch.forEach((e, i) => {
          const p = preds[i]!;
          if (e.label === undefined) unlabelled = true;
          else {
            gold.push(String(e.label));
            predicted.push(p.label);
          }
          chunk +=
            o.outputFormat === "tsv"
              ? `${p.label}\t${e.text.replace(/[\t\n]/g, " ")}\n`
              : JSON.stringify({ line: e.line, text: e.text, label: p.label, [p.kind === "probability" ? "probabilities" : "scores"]: p.scores }) + "\n";
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
      if (!unlabelled && gold.length > 0) {
        const ev = evaluate(gold, predicted, predictor.labels);
        process.stderr.write(`the input has labels: accuracy ${(ev.accuracy * 100).toFixed(2)}%  macro-F1 ${(ev.macroF1 * 100).toFixed(2)}%  (${ev.rows} rows)\n`);
      }
    });
}
