/**
 * The Predictor: load any saved model directory and predict for its task, as a library call (it never prints).
 * What the directory holds decides how it loads (MODEL_FORMATS below): a classical baseline (baseline.json, from
 * `graft baseline`), or a model directory in the Hugging Face layout (config.json + weights + tokenizer). A
 * fine-tuned classifier or tagger predicts through its task kind's spec (graft_task.json names the kind; a
 * transformers checkpoint without one is recognized by its class and problem_type); a causal language model
 * (GPT-2, graft-lstm) generates text instead. Any transformer encoder (a classifier, a tagger, or a base or masked-LM
 * checkpoint) also embeds texts: its last hidden layer pooled by the first token or by the mean over tokens.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { GraftError } from "../util/errors.js";
import { noGrad } from "../tensor/index.js";
import { findWeights } from "../io/checkpoint.js";
import { TextClassifier, BASELINE_FILE } from "../data/classical/pipeline.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import {
  fromPretrainedDir,
  generate,
  isHeadClass,
  usesTokenTypes,
  maxSequenceLength,
  modelClassForArchitecture,
  readConfig,
  type ModelConfig,
  type CausalLMModel,
  type ClassificationModel,
  ContinuousBatcher,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  type GenerateOptions,
  generateStream,
  type StreamChunk,
  type StreamOptions,
  type LayerOutputs,
  type ModelInputs,
} from "../models/index.js";
import { encodeTexts, padRows } from "./encode.js";
import { classifierForward } from "./evaluate.js";
import { taskSpec, taskSpecFor } from "./registry.js";
import { readTaskInfo, type TaskInfo } from "./task-info.js";
import { isMultitaskDir, loadMultitaskTask } from "./multitask.js";
import { inputText, type ClassPrediction, type PredictorInput, type TaskPrediction } from "./spec.js";
import { SearchIndex, indexModelDir, isSearchIndex, searchIndexPredictor } from "./search-index.js";

export type {
  PredictorInput,
  TaskPrediction,
  ClassPrediction,
  MultiLabelPrediction,
  ValuePrediction,
  EntitiesPrediction,
  Entity,
} from "./spec.js";

/** A loaded model that predicts for its task (or, for a language model, continues texts). */
export interface Predictor {
  /** What was loaded, e.g. "baseline (logreg)", "BertForSequenceClassification". */
  kind: string;
  /** The task kind of its predictions (null for a language model). */
  task: string | null;
  labels: readonly string[];
  /** One typed prediction per input, in order. */
  predict(inputs: readonly PredictorInput[]): Promise<TaskPrediction[]>;
  /** Language models: the continuation of each text. */
  generate?(texts: readonly string[]): Promise<string[]>;
  /**
   * Language models: the continuation of one text, streamed token by token (generateStream's chunks: each new
   * token and the text it adds; the last says why it ended). `options` override the loaded generation settings.
   */
  generateStream?(text: string, options?: StreamOptions): AsyncGenerator<StreamChunk, void>;
  /**
   * Language models whose cache is each layer's keys and values (GPT-2, Llama): generateStream's chunks, but every
   * call decodes in one shared running batch (continuous batching: a call joins it between two decode steps and
   * leaves it when it ends; see ContinuousBatcher), at most `maxDecodeBatch` sequences at a time (default 32).
   */
  generateBatched?(text: string, options?: StreamOptions): AsyncGenerator<StreamChunk, void>;
  /** Transformer encoders: one vector per text from the last hidden layer (see EmbedOptions). */
  embed?(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /** Tokens per input the model takes (special tokens included); longer inputs are truncated to it. */
  maxLength?: number;
}

/** How `embed` turns a text's hidden states into one vector. */
export interface EmbedOptions {
  /** "cls": the first token's state; "mean" (default): the mean over the text's tokens (padding excluded). */
  pooling?: "cls" | "mean";
  /** Scale each vector to unit length (default true), so a dot product is the cosine similarity. */
  normalize?: boolean;
}

export interface PredictorOptions {
  /** Decoding settings of a language model. */
  generation?: GenerateOptions;
  /** How errors name the directory (default: its path; `graft predict` says "--model DIR"). */
  name?: string;
  /** Load weights holding NaN or Infinity (refused otherwise, naming the tensor), to inspect a poisoned model. */
  allowNonFinite?: boolean;
  /** Truncate inputs to at most this many tokens (default, and at most: the model's own limit). */
  maxLength?: number;
  /** A multi-task model directory (graft multitask): the task whose head predicts (required there). */
  task?: string;
  /** Language models: sequences generateBatched decodes together at most (default 32). */
  maxDecodeBatch?: number;
}

interface ModelFormat {
  name: string;
  /** Whether `dir` holds this format. */
  detect(dir: string): boolean;
  load(dir: string, opts: Required<PredictorOptions>): Predictor;
}

/** Tokens a model can take: the fine-tuning length, the tokenizer's limit and the position table, whichever is least. */
function inputLimit(config: ModelConfig, tokenizer: Tokenizer, info: TaskInfo | null, cap: number): number | undefined {
  // the architecture knows how many tokens its positions hold (RoBERTa's start after pad_token_id)
  const limits = [info?.maxLength, tokenizer.modelMaxLength, maxSequenceLength(config), cap];
  const maxLength = Math.min(...limits.filter((v): v is number => typeof v === "number" && v > 0));
  return Number.isFinite(maxLength) ? maxLength : undefined;
}

/** A classifier or tagger predicting through its task kind. */
function taskPredictor(
  dir: string,
  model: ClassificationModel,
  config: ModelConfig,
  tokenizer: Tokenizer,
  opts: Required<PredictorOptions>,
  info: TaskInfo | null = readTaskInfo(dir),
): Predictor | null {
  const spec = info ? taskSpec(info.task) : taskSpecFor(config, model.architecture);
  // a generative kind's model (sft) is a causal LM: it generates, as any causal LM does
  if (!spec || spec.generative) return null;
  if (spec.generateInputs) {
    // a kind that generates text (seq2seq): its own decoding, with graft_task.json's settings
    const generateInputs = spec.generateInputs.bind(spec);
    return {
      kind: model.architecture,
      task: spec.name,
      labels: [],
      predict: async (inputs) =>
        inputs.length === 0
          ? []
          : generateInputs(model, tokenizer, inputs, { info, config, generation: opts.generation }),
    };
  }
  const labels = Object.keys(config.id2label).map((i) => config.id2label[Number(i)]);
  if (spec.predictInputs) {
    // a kind whose inputs are not texts (tabular records): the kind runs its model itself
    const predictInputs = spec.predictInputs.bind(spec);
    return {
      kind: model.architecture,
      task: spec.name,
      labels,
      predict: async (inputs) => (inputs.length === 0 ? [] : predictInputs(model, inputs, { info, config, labels })),
    };
  }
  const maxLength = inputLimit(config, tokenizer, info, opts.maxLength);
  const forward = classifierForward(config.model_type);
  const padId = tokenizer.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  return {
    kind: model.architecture,
    task: spec.name,
    labels,
    maxLength,
    embed: embedder(model, config, tokenizer, maxLength),
    predict: async (inputs) => {
      if (inputs.length === 0) return [];
      const rows = await spec.encodeInputs(tokenizer, inputs, maxLength);
      const batch = padRows(
        rows,
        rows.map((_, i) => i),
        padId,
      );
      const logits = noGrad(() => forward(model, batch));
      return spec.decode(logits, rows, inputs, { labels, config, threshold: info?.threshold ?? null });
    },
  };
}

/** Mean of the rows of `states` ([T][H]) over the first `n`. */
function meanRows(states: readonly (readonly number[])[], n: number): number[] {
  const out = new Array<number>(states[0].length).fill(0);
  for (let t = 0; t < n; t++) for (let h = 0; h < out.length; h++) out[h] += states[t][h] / n;
  return out;
}

/** Embeddings from an encoder's last hidden layer (pooled per EmbedOptions), in batches of texts. */
function embedder(
  model: { forward(inputs: ModelInputs): unknown } & { eval(): unknown },
  config: ModelConfig,
  tokenizer: Tokenizer,
  maxLength: number | undefined,
): NonNullable<Predictor["embed"]> {
  const useTypes = usesTokenTypes(config.model_type);
  const padId = tokenizer.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  return async (texts, options = {}) => {
    const pooling = options.pooling ?? "mean";
    if (pooling !== "cls" && pooling !== "mean")
      throw new GraftError(`embed: pooling must be "cls" or "mean", got ${JSON.stringify(pooling)}`);
    if (texts.length === 0) return [];
    const rows = await encodeTexts(tokenizer, texts, undefined, maxLength);
    const b = padRows(
      rows,
      rows.map((_, i) => i),
      padId,
    );
    model.eval();
    const hidden = noGrad(() => {
      const out = model.forward({
        inputIds: b.inputIds,
        attentionMask: b.attentionMask,
        ...(useTypes ? { tokenTypeIds: b.tokenTypeIds } : {}),
        outputHiddenStates: true,
      }) as LayerOutputs;
      const states = out.hiddenStates;
      if (!states?.length) throw new GraftError(`${config.model_type}: the model returns no hidden states to embed`);
      return states[states.length - 1]; // [B, T, H]
    });
    const t = hidden.shape[1];
    const flat = hidden.toRows(); // B·T rows of H
    return rows.map((r, i) => {
      const states = flat.slice(i * t, (i + 1) * t);
      const v = pooling === "cls" ? [...states[0]] : meanRows(states, r.ids.length);
      if (options.normalize === false) return v;
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
  };
}

/** A causal language model: generates a continuation of each text. */
function generationPredictor(
  model: CausalLMModel,
  config: ModelConfig,
  tokenizer: Tokenizer,
  opts: Required<PredictorOptions>,
): Predictor {
  const gen = opts.generation;
  const promptOf = async (text: string) => {
    const prompt = Array.from((await tokenizer.encode(text, null, { addSpecialTokens: false })).ids);
    if (prompt.length === 0) throw new GraftError("the text encodes to no tokens; a language model needs a prompt");
    return prompt;
  };
  const streamOptions = (options: StreamOptions): StreamOptions => ({
    padTokenId: tokenizer.padTokenId ?? undefined,
    eosTokenId: gen.eosTokenId ?? tokenizer.eosTokenId ?? config.eos_token_id,
    ...gen,
    ...options,
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  });
  let batcher: ContinuousBatcher<unknown> | undefined;
  return {
    kind: `${model.architecture} (generation)`,
    task: null,
    labels: [],
    predict: async () => {
      throw new GraftError(`${opts.name} is a language model: it generates text rather than labels`);
    },
    generate: async (texts) => {
      const prompts = await Promise.all(
        texts.map(async (t) => Array.from((await tokenizer.encode(t, null, { addSpecialTokens: false })).ids)),
      );
      const empty = prompts.findIndex((p) => p.length === 0);
      if (empty >= 0)
        throw new GraftError(`text ${empty + 1} of the batch encodes to no tokens; a language model needs a prompt`);
      const out = generate(model, prompts, {
        padTokenId: tokenizer.padTokenId ?? undefined,
        eosTokenId: gen.eosTokenId ?? tokenizer.eosTokenId ?? config.eos_token_id,
        ...gen,
      });
      return tokenizer.decodeBatch(out.newTokens, { skipSpecialTokens: true });
    },
    maxLength: maxSequenceLength(config) ?? undefined,
    generateStream: async function* (text, options = {}) {
      yield* generateStream(model, await promptOf(text), streamOptions(options));
    },
    ...(model instanceof GPT2LMHeadModel || model instanceof LlamaForCausalLM
      ? {
          generateBatched: async function* (text: string, options: StreamOptions = {}) {
            batcher ??= new ContinuousBatcher(model, { maxBatchSize: opts.maxDecodeBatch || undefined });
            yield* batcher.stream(await promptOf(text), streamOptions(options));
          },
        }
      : {}),
  };
}

/**
 * A model directory in the Hugging Face layout: config.json's `architectures` names the class (a classifier or
 * tagger of a registered task kind, or a causal LM that generates); its tokenizer files sit beside it.
 */
function loadModelDir(dir: string, opts: Required<PredictorOptions>): Predictor {
  const config = readConfig(dir);
  const cls = modelClassForArchitecture(config);
  if (!cls)
    throw new GraftError(
      `${opts.name}: config.json names no model class graft can run (architectures: ${JSON.stringify(config.architectures)})`,
      "predict runs *ForSequenceClassification models and causal LMs (GPT2LMHeadModel, GraftLstmForCausalLM)",
    );
  const tokenizer = loadTokenizer(dir);
  const model = fromPretrainedDir(cls, dir, { allowNonFinite: opts.allowNonFinite });
  const fresh = model.loadingInfo!.missingKeys;
  if (fresh.length)
    throw new GraftError(
      `${opts.name}: ${cls.architecture} would run with untrained weights (${fresh.join(", ")} ${fresh.length === 1 ? "is" : "are"} not in the checkpoint)`,
      "fine-tune it first (graft finetune) and predict with the saved model",
    );
  const task = taskPredictor(dir, model as unknown as ClassificationModel, config, tokenizer, opts);
  if (task) return task;
  if (isHeadClass(cls, "causal-lm"))
    return generationPredictor(model as unknown as CausalLMModel, config, tokenizer, opts);
  if (isHeadClass(cls, "base") || isHeadClass(cls, "masked-lm")) {
    // an encoder without a task head: it embeds texts (graft serve's /embed), it has no labels to predict
    const maxLength = inputLimit(config, tokenizer, null, opts.maxLength);
    return {
      kind: `${cls.architecture} (embeddings)`,
      task: null,
      labels: [],
      maxLength,
      predict: async () => {
        throw new GraftError(
          `${opts.name} holds a ${cls.architecture}, an encoder without a task head: it embeds texts rather than labelling them`,
          "fine-tune a classifier from it first (graft finetune)",
        );
      },
      embed: embedder(model as unknown as ClassificationModel, config, tokenizer, maxLength),
    };
  }
  throw new GraftError(
    `${opts.name} holds a ${cls.architecture}, which neither classifies sequences nor generates text`,
    "predict runs *ForSequenceClassification models and causal LMs; fine-tune a classifier from it first",
  );
}

/** The directory formats a Predictor loads, tried in order. */
export const MODEL_FORMATS: ModelFormat[] = [
  {
    name: "search index (index.json + vectors.safetensors, from graft search index)",
    detect: isSearchIndex,
    load: (dir, opts) => {
      const index = SearchIndex.load(dir);
      return searchIndexPredictor(index, loadModelDir(indexModelDir(dir, index.config), opts));
    },
  },
  {
    name: "classical baseline",
    detect: (dir) => existsSync(join(dir, BASELINE_FILE)),
    load: (dir) => {
      const model = TextClassifier.load(dir);
      return {
        kind: `baseline (${model.config.model})`,
        task: "classification",
        labels: model.labels,
        // a pair is classified on both texts, on separate lines (as the baseline was trained)
        predict: async (inputs) =>
          model
            .predict(inputs.map(inputText).map((x) => (x.textPair === undefined ? x.text : `${x.text}\n${x.textPair}`)))
            .map((p): ClassPrediction => ({ task: "classification", ...p })),
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

/** Loads the model in `dir` (a baseline, a fine-tuned model, a transformers checkpoint, a language model). */
export function loadPredictor(dir: string, options: PredictorOptions = {}): Predictor {
  const opts: Required<PredictorOptions> = {
    generation: options.generation ?? {},
    name: options.name ?? dir,
    allowNonFinite: options.allowNonFinite ?? false,
    maxLength: options.maxLength ?? 0, // 0: no cap below the model's own
    task: options.task ?? "",
    maxDecodeBatch: options.maxDecodeBatch ?? 0, // 0: the batcher's default
  };
  if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength > 0))
    throw new GraftError(`maxLength must be a positive integer, got ${options.maxLength}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new GraftError(`${opts.name}: no such directory`);
  if (isMultitaskDir(dir)) {
    // one task's head over the shared encoder
    const { model, info } = loadMultitaskTask(dir, options.task, { allowNonFinite: opts.allowNonFinite });
    const tokenizer = loadTokenizer(dir);
    return taskPredictor(dir, model, model.config, tokenizer, opts, info)!;
  }
  if (options.task !== undefined)
    throw new GraftError(`${opts.name} is not a multi-task model; a task name is only for graft multitask output`);
  const format = MODEL_FORMATS.find((f) => f.detect(dir));
  if (format) return format.load(dir, opts);
  throw new GraftError(
    `${opts.name}: no model found (expected ${BASELINE_FILE}, or config.json with model.safetensors)`,
    "pass a directory written by graft baseline --out DIR, graft finetune, or transformers' save_pretrained",
  );
}
