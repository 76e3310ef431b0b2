/**
 * `graft predict`: labels for new texts from a saved model directory. What the directory contains decides how it
 * is loaded (MODEL_KINDS below): a classical baseline (baseline.json, from `graft baseline`), or a model directory
 * in the Hugging Face layout (config.json + weights + tokenizer): a sequence classifier prints labels and scores,
 * a causal language model (GPT-2, graft-lstm) prints the text it generates.
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
import { Rng } from "../util/rng.js";
import { noGrad } from "../tensor/index.js";
import { findWeights } from "../io/checkpoint.js";
import { loadTokenizer, batchToTensors } from "../tokenizers/index.js";
import {
  fromPretrainedDir,
  generate,
  maxSequenceLength,
  modelClassForArchitecture,
  predictLabels,
  readConfig,
  usesTokenTypes,
  type CausalLMModel,
  type ClassificationModel,
  type GenerateOptions,
} from "../models/index.js";
import { readTaskInfo } from "../tasks/finetune.js";

/** A loaded model that can label batches of texts (or, for a language model, continue them). */
export interface Predictor {
  kind: string;
  labels: readonly string[];
  predict(texts: readonly string[]): Promise<Prediction[]>;
  /** Language models: the continuation of each text. */
  generate?(texts: readonly string[]): Promise<string[]>;
}

interface ModelKind {
  name: string;
  /** Whether `dir` holds this kind of model. */
  detect(dir: string): boolean;
  load(dir: string, gen: GenerateOptions): Predictor;
}

/**
 * A model directory in the Hugging Face layout: config.json's `architectures` names the class (a sequence
 * classifier, or a causal LM that generates); its tokenizer files sit beside it.
 */
function loadModelDir(dir: string, gen: GenerateOptions): Predictor {
  const config = readConfig(dir);
  const cls = modelClassForArchitecture(config);
  if (!cls)
    throw new GraftError(
      `--model ${dir}: config.json names no model class graft can run (architectures: ${JSON.stringify(config.architectures)})`,
      "predict runs *ForSequenceClassification models and causal LMs (GPT2LMHeadModel, GraftLstmForCausalLM)",
    );
  const tokenizer = loadTokenizer(dir);
  const model = fromPretrainedDir(cls, dir);
  const fresh = model.loadingInfo!.missingKeys;
  if (fresh.length)
    throw new GraftError(
      `--model ${dir}: ${cls.architecture} would run with untrained weights (${fresh.join(", ")} ${fresh.length === 1 ? "is" : "are"} not in the checkpoint)`,
      "fine-tune it first (graft finetune) and predict with the saved model",
    );
  if (cls.architecture.endsWith("ForSequenceClassification")) {
    const classifier = model as unknown as ClassificationModel;
    const info = readTaskInfo(dir);
    const limits = [info?.maxLength, tokenizer.modelMaxLength, maxSequenceLength(config)];
    const maxLength = Math.min(...limits.filter((v): v is number => typeof v === "number" && v > 0));
    const labels = Object.keys(config.id2label).map((i) => config.id2label[Number(i)]);
    return {
      kind: cls.architecture,
      labels,
      predict: async (texts) => {
        const enc = await tokenizer.encodeBatch(texts, {
          padding: true,
          truncation: true,
          ...(Number.isFinite(maxLength) ? { maxLength } : {}),
        });
        const t = batchToTensors(enc);
        const logits = noGrad(
          () =>
            classifier.forward({
              inputIds: t.inputIds,
              attentionMask: t.attentionMask,
              tokenTypeIds: usesTokenTypes(config.model_type) ? t.tokenTypeIds : null,
            }).logits,
        );
        return predictLabels(
          logits,
          classifier.config,
          info?.threshold != null && config.problem_type === "multi_label_classification"
            ? { threshold: info.threshold }
            : {},
        ).map((p) => {
          // a tuned binary threshold applies to the positive class's probability, as graft finetune tuned it
          const binary =
            info?.threshold != null &&
            labels.length === 2 &&
            p.kind === "probability" &&
            config.problem_type !== "multi_label_classification";
          const label = binary ? (p.scores[labels[1]] >= info!.threshold! ? labels[1] : labels[0]) : p.label;
          return {
            label,
            scores: p.scores,
            kind: p.kind === "probability" ? "probability" : "decision",
          } satisfies Prediction;
        });
      },
    };
  }
  if (cls.architecture === "GPT2LMHeadModel" || cls.architecture === "GraftLstmForCausalLM") {
    const lm = model as unknown as CausalLMModel;
    return {
      kind: `${cls.architecture} (generation)`,
      labels: [],
      predict: async () => {
        throw new GraftError(`--model ${dir} is a language model: it generates text rather than labels`);
      },
      generate: async (texts) => {
        const prompts = await Promise.all(
          texts.map(async (t) => Array.from((await tokenizer.encode(t, null, { addSpecialTokens: false })).ids)),
        );
        const empty = prompts.findIndex((p) => p.length === 0);
        if (empty >= 0)
          throw new GraftError(`text ${empty + 1} of the batch encodes to no tokens; a language model needs a prompt`);
        const out = generate(lm, prompts, {
          padTokenId: tokenizer.padTokenId ?? undefined,
          eosTokenId: gen.eosTokenId ?? tokenizer.eosTokenId ?? config.eos_token_id,
          ...gen,
        });
        return tokenizer.decodeBatch(out.newTokens, { skipSpecialTokens: true });
      },
    };
  }
  throw new GraftError(
    `--model ${dir} holds a ${cls.architecture}, which neither classifies sequences nor generates text`,
    "predict runs *ForSequenceClassification models and causal LMs; fine-tune a classifier from it first",
  );
}

export const MODEL_KINDS: ModelKind[] = [
  {
    name: "classical baseline",
    detect: (dir) => existsSync(join(dir, BASELINE_FILE)),
    load: (dir) => {
      const model = TextClassifier.load(dir);
      return {
        kind: `baseline (${model.config.model})`,
        labels: model.labels,
        predict: async (texts) => model.predict(texts),
      };
    },
  },
  {
    name: "model directory (config.json + model.safetensors)",
    detect: (dir) => {
      if (!existsSync(join(dir, "config.json"))) return false;
      try {
        findWeights(dir);
        return true;
      } catch {
        return false;
      }
    },
    load: loadModelDir,
  },
];

export function loadPredictor(dir: string, gen: GenerateOptions = {}): Predictor {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new GraftError(`--model ${dir}: no such directory`);
  const kind = MODEL_KINDS.find((k) => k.detect(dir));
  if (kind) return kind.load(dir, gen);
  throw new GraftError(
    `--model ${dir}: no model found (expected ${BASELINE_FILE}, or config.json with model.safetensors)`,
    "pass a directory written by graft baseline --out DIR, graft finetune, or transformers' save_pretrained",
  );
}

/** Generation flags → options (sampling draws from --seed). */
function generateOptions(o: PredictFlags): GenerateOptions {
  const num = (flag: string, v: string | undefined, check: (n: number) => boolean): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!check(n)) throw new GraftError(`${flag} got "${v}", which is not valid`);
    return n;
  };
  return {
    maxNewTokens: num("--max-new-tokens", o.maxNewTokens, (n) => Number.isInteger(n) && n >= 0) ?? 20,
    doSample: o.doSample ?? false,
    temperature: num("--temperature", o.temperature, (n) => n > 0),
    topK: num("--top-k", o.topK, (n) => Number.isInteger(n) && n >= 0),
    topP: num("--top-p", o.topP, (n) => n > 0 && n <= 1),
    rng: new Rng(num("--seed", o.seed, Number.isInteger) ?? 0),
  };
}

interface PredictFlags extends ReadFlags {
  model: string;
  input?: string;
  text?: string[];
  output?: string;
  outputFormat: string;
  batchSize: string;
  maxNewTokens?: string;
  doSample?: boolean;
  temperature?: string;
  topK?: string;
  topP?: string;
  seed?: string;
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
    )
    .requiredOption(
      "--model <dir>",
      "model directory (graft baseline --out, graft finetune, or config.json + model.safetensors + tokenizer)",
    )
    .option("--input <file>", 'texts to label: CSV, TSV, JSONL or plain text (one per line); "-" for stdin')
    .option("--text <text...>", "label these texts")
    .option("--output <file>", "write predictions here (default: stdout)")
    .option("--output-format <fmt>", "jsonl (label and scores) or tsv (label<TAB>text)", "jsonl")
    .option("--batch-size <n>", "texts per batch", "1024")
    .option("--max-new-tokens <n>", "language models: tokens to generate (default 20)")
    .option("--do-sample", "language models: sample instead of greedy decoding")
    .option("--temperature <t>", "language models: sampling temperature (default 1)")
    .option("--top-k <k>", "language models: sample among the k most likely tokens (default 50; 0 = all)")
    .option("--top-p <p>", "language models: nucleus sampling mass (default 1)")
    .option("--seed <n>", "language models: seed of the sampling generator (default 0)");
  addReadOptions(cmd, "fail")
    .addHelpText(
      "after",
      '\nExamples:\n  graft predict --model runs/sst2-logreg --text "a gorgeous, witty film" "dull and overlong"\n  graft predict --model runs/sst2-logreg --input reviews.csv --text-column review --output preds.jsonl\n  graft predict --model runs/sst2-bert/best --text "a gorgeous, witty film"\n  graft predict --model models/gpt2 --text "Once upon a time" --max-new-tokens 30 --do-sample --top-p 0.9 --seed 1\n',
    )
    .action(async (o: PredictFlags) => {
      if (o.outputFormat !== "jsonl" && o.outputFormat !== "tsv")
        throw new GraftError(`--output-format must be jsonl or tsv, got "${o.outputFormat}"`);
      const batchSize = Number(o.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1)
        throw new GraftError(`--batch-size must be a positive integer, got "${o.batchSize}"`);
      if ((o.input === undefined) === (o.text === undefined))
        throw new GraftError("give either --input FILE (or - for stdin) or --text TEXT...");
      const predictor = loadPredictor(o.model, generateOptions(o));
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
        const preds = await predictor.predict(batch.map(exampleText));
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
      if (!unlabelled && gold.length > 0) {
        const ev = evaluate(gold, predicted, predictor.labels);
        process.stderr.write(
          `the input has labels: accuracy ${(ev.accuracy * 100).toFixed(2)}%  macro-F1 ${(ev.macroF1 * 100).toFixed(2)}%  (${ev.rows} rows)\n`,
        );
      }
    });
}
