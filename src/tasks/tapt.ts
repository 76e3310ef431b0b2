/**
 * Task-adaptive pre-training (Gururangan et al. 2020, "Don't Stop Pretraining"): before fine-tuning, the model
 * continues pre-training on the task's own unlabelled text — the training file's texts only, never the validation
 * or test texts — with the objective it was pre-trained with (masked LM for BERT-family encoders, ELECTRA's
 * replaced-token detection for ELECTRA, causal LM for decoders, span corruption for encoder-decoders). Cheap, and it
 * helps most when labelled data is scarce. The result is a model directory under the run (`tapt/best`) that
 * fine-tuning then starts from; a resumed run reuses it.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { AutoConfig, architectureOf } from "../models/index.js";
import { pretrain, type PretrainConfig } from "./pretrain.js";

/** The pre-training objective a model directory's architecture was trained with. */
export function objectiveOf(modelDir: string): PretrainConfig["objective"] {
  const config = AutoConfig.fromPretrainedDir(modelDir);
  if (config.model_type === "electra") return "electra";
  const heads = architectureOf(config).heads;
  if (heads["masked-lm"]) return "mlm";
  if (heads["causal-lm"]) return "clm";
  if (heads["seq2seq-lm"]) return "span-corruption";
  throw new ArgumentError(`task-adaptive pre-training: ${config.model_type} has no pre-training objective in graft`);
}

/** A training example's text for the pre-training corpus: a string, a pair, or a sentence's words. */
function textOf(input: unknown): string {
  if (typeof input === "string") return input;
  if (Array.isArray(input)) return input.map(String).join(" ");
  if (input && typeof input === "object") {
    const o = input as Record<string, unknown>;
    return [o.text, o.textPair, o.text_pair, o.source, o.prompt].filter((v) => typeof v === "string").join(" ");
  }
  return "";
}

export interface TaptOptions {
  modelDir: string;
  runDir: string;
  /** The training split's inputs (as the task kind prepared them). */
  inputs: readonly unknown[];
  steps: number;
  lr: number;
  batchSize: number;
  seed: number;
  log: (line: string) => void;
}

/**
 * Tokens per block: 128 (or the model's limit), smaller for a small training set so that the tenth held out for
 * validation still fills a couple of blocks (words stand in for tokens: sub-word tokenizers only make more).
 */
function blockSizeFor(texts: readonly string[], positions: number): number {
  const words = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  return Math.max(16, Math.min(128, positions, Math.floor((0.1 * words) / 2)));
}

/** Runs task-adaptive pre-training (or finds a finished one) and returns the model directory to fine-tune. */
export async function taskAdaptivePretrain(o: TaptOptions): Promise<string> {
  const dir = join(o.runDir, "tapt");
  const best = join(dir, "best");
  if (existsSync(join(best, "config.json"))) {
    o.log(`task-adaptive pre-training: reusing ${best}`);
    return best;
  }
  const texts = o.inputs.map(textOf).filter((t) => t.trim() !== "");
  if (texts.length < 20)
    throw new ArgumentError(
      `task-adaptive pre-training needs at least 20 training texts (a tenth is held out to watch its loss), got ${texts.length}`,
    );
  mkdirSync(dir, { recursive: true });
  const corpus = join(dir, "train-texts.txt");
  writeFileSync(corpus, `${texts.map((t) => t.replace(/\s*\n\s*/g, " ")).join("\n")}\n`);
  const objective = objectiveOf(o.modelDir);
  const config = AutoConfig.fromPretrainedDir(o.modelDir);
  const spec = architectureOf(config);
  const positions = (spec.maxPositions(config) ?? 128) - (spec.positionOffset?.(config) ?? 0);
  o.log(`task-adaptive pre-training: ${objective} on ${texts.length} training texts for ${o.steps} steps`);
  const r = await pretrain(
    {
      objective,
      corpus: [corpus],
      model: o.modelDir,
      output: join(dir, "run"),
      blockSize: blockSizeFor(texts, positions),
      validationFraction: 0.1,
      training: {
        maxSteps: o.steps,
        batchSize: o.batchSize,
        lr: o.lr,
        warmupRatio: 0.06,
        evalEvery: o.steps,
        saveEvery: o.steps,
        seed: o.seed,
      },
    },
    { log: o.log, overwrite: true },
  );
  o.log(`task-adaptive pre-training: validation loss ${Number(r.validation.loss).toFixed(4)}`);
  return r.bestDir;
}
