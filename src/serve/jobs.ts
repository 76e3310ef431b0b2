/**
 * What the server asks of a model, as plain data that crosses to a worker thread and back: a batch of inputs to
 * predict or embed. `runJob` runs one on loaded Predictors; the worker threads and the in-process runner (workers 0)
 * both call it, so the two agree by construction.
 */
import { Rng } from "../util/rng.js";
import { loadPredictor, type Predictor } from "../tasks/predictor.js";
import type { PredictorInput, TaskPrediction } from "../tasks/spec.js";

/** A model to serve: the name clients use and the saved model directory. */
export interface ModelSource {
  name: string;
  dir: string;
  /** Truncate inputs to this many tokens (the server's --max-input-tokens; 0: the model's own limit). */
  maxLength?: number;
  /** Sequences a language model decodes together at most (continuous batching; the server's --max-batch-size). */
  maxDecodeBatch?: number;
}

/** What a loaded model can do, as /health and /v1/models tell clients. */
export interface ModelInfo {
  name: string;
  /** What was loaded, e.g. "BertForSequenceClassification". */
  kind: string;
  /** The task of its predictions (null for an encoder without a head, or a language model). */
  task: string | null;
  labels: string[];
  /** Tokens per input it takes, special tokens included (null: no limit, e.g. a classical baseline). */
  maxLength: number | null;
  canEmbed: boolean;
  canGenerate: boolean;
}

export type Job =
  | { op: "predict"; model: string; inputs: PredictorInput[] }
  | { op: "embed"; model: string; texts: string[]; pooling: "cls" | "mean" };

export type JobResult = TaskPrediction[] | number[][];

/** Decoding settings of one generation request. */
export interface GenerationSettings {
  maxNewTokens: number;
  /** Sample (else greedy). */
  doSample: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Seed of the sampling generator (default: a random one). */
  seed?: number;
  /** Strings that end the text (left out of it). */
  stop?: string[];
}

/** A generation: one prompt, streamed chunk by chunk. */
export interface GenerateJob {
  op: "generate";
  model: string;
  prompt: string;
  settings: GenerationSettings;
  /** Decode in the model's shared running batch (continuous batching) where the model can; else alone. */
  continuous: boolean;
}

/** How a generation ended. */
export interface GenerationDone {
  text: string;
  reason: "eos" | "stop" | "length" | "abort";
  /** New tokens generated. */
  tokens: number;
  /** Continuous batching: whether it joined a batch already decoding others, and the most it was decoded with. */
  batch?: { joinedRunning: boolean; largest: number };
}

/** Loads every model, in order (errors name the model). */
export function loadModels(sources: readonly ModelSource[]): Map<string, Predictor> {
  const out = new Map<string, Predictor>();
  for (const s of sources)
    out.set(
      s.name,
      loadPredictor(s.dir, {
        name: `model "${s.name}" (${s.dir})`,
        maxLength: s.maxLength || undefined,
        maxDecodeBatch: s.maxDecodeBatch || undefined,
      }),
    );
  return out;
}

export function modelInfo(name: string, p: Predictor): ModelInfo {
  return {
    name,
    kind: p.kind,
    task: p.task,
    labels: [...p.labels],
    maxLength: p.maxLength ?? null,
    canEmbed: typeof p.embed === "function",
    canGenerate: typeof p.generate === "function",
  };
}

/**
 * Runs a generation, calling onChunk with each piece of text as it comes; stops between steps once aborted. With
 * job.continuous, a model that can (generateBatched) decodes it in its shared running batch.
 */
export async function runGeneration(
  models: ReadonlyMap<string, Predictor>,
  job: GenerateJob,
  signal: AbortSignal,
  onChunk: (text: string, tokenId: number) => void,
): Promise<GenerationDone> {
  const p = models.get(job.model);
  if (!p?.generateStream) throw new Error(`model "${job.model}" does not generate text`);
  const s = job.settings;
  let text = "";
  const stream = job.continuous && p.generateBatched ? p.generateBatched.bind(p) : p.generateStream.bind(p);
  for await (const chunk of stream(job.prompt, {
    maxNewTokens: s.maxNewTokens,
    doSample: s.doSample,
    ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
    ...(s.topK !== undefined ? { topK: s.topK } : {}),
    ...(s.topP !== undefined ? { topP: s.topP } : {}),
    ...(s.repetitionPenalty !== undefined ? { repetitionPenalty: s.repetitionPenalty } : {}),
    ...(s.stop?.length ? { stopStrings: s.stop } : {}),
    rng: new Rng(s.seed ?? Math.floor(Math.random() * 2 ** 31)),
    signal,
  })) {
    text += chunk.text;
    if (chunk.done)
      return {
        text,
        reason: chunk.reason ?? "length",
        tokens: chunk.tokenIds.length,
        ...(chunk.largestBatch !== undefined
          ? { batch: { joinedRunning: chunk.joinedRunning ?? false, largest: chunk.largestBatch } }
          : {}),
      };
    onChunk(chunk.text, chunk.tokenId!);
  }
  return { text, reason: "abort", tokens: 0 };
}

/** Runs one job on the loaded models. */
export async function runJob(models: ReadonlyMap<string, Predictor>, job: Job): Promise<JobResult> {
  const p = models.get(job.model);
  if (!p) throw new Error(`no model "${job.model}" is loaded`);
  if (job.op === "predict") return p.predict(job.inputs);
  if (!p.embed) throw new Error(`model "${job.model}" does not embed texts`);
  // vectors come back unnormalized: each request normalizes its own (or not), so one batch serves both
  return p.embed(job.texts, { pooling: job.pooling, normalize: false });
}
