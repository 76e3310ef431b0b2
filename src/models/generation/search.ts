/**
 * Text generation following transformers' GenerationMixin, for decoder-only models (CausalLM) and encoder-decoders
 * (Seq2SeqLM) alike: greedy decoding, sampling, and beam search (transformers 5.x's vectorised beam search, step
 * for step), with the logits processors applied in transformers' order (processors.ts).
 *
 * With the cache (default) the prompt runs once and each new token costs one step: GPT-2 keeps every layer's keys
 * and values, the LSTM its state, an encoder-decoder its decoder's self- and cross-attention keys/values (its
 * encoder runs once per input). Without it every step re-reads the whole sequence; both give the same tokens.
 * Decoder prompts of different lengths are left-padded; positions count real tokens (cumsum(mask) - 1, as
 * transformers' prepare_inputs_for_generation computes them), so padding does not shift a prompt's positions.
 */
import { ArgumentError } from "../../util/errors.js";
import { defaultRng, type Rng } from "../../util/rng.js";
import { Tensor, argmax as argmaxOp, noGrad } from "../../tensor/index.js";
import { padBatch, type CausalLM } from "../interfaces.js";
import { isSeq2SeqLM, type Seq2SeqLM } from "../seq2seq.js";
import { generationConfigOf, optionsFromGenerationConfig } from "./config.js";
import type { GenerateOptions, GenerateOutput, GenerativeModel, Prompts, StepEvent } from "./options.js";
import {
  type ProcessorSettings,
  argmax,
  greedyScoresUntouched,
  logSoftmax,
  processScores,
  sample,
  sampleWithoutReplacement,
} from "./processors.js";
import { DecoderStepper, Seq2SeqStepper, type Stepper } from "./steppers.js";

export type { GenerateOptions, GenerateOutput, GenerativeModel, Prompts, StepEvent };

interface Resolved {
  maxNew: number;
  numBeams: number;
  numReturn: number;
  lengthPenalty: number;
  earlyStopping: boolean | "never";
  eos: Set<number>;
  eosList: number[];
  pad: number;
  rng: Rng;
  useCache: boolean;
  stopStrings: string[];
  decode: ((ids: number[]) => string) | null;
  outputLogits: boolean;
  outputScores: boolean;
  proc: Omit<ProcessorSettings, "promptLength" | "maxLength">;
  minLengthRaw: number;
  maxLengthRaw: number | null;
  decoderStart: number | null;
}

const nonNegInt = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 0)
    throw new ArgumentError(`generate: ${name} must be a non-negative integer, got ${v}`);
  return v;
};

function resolve(model: GenerativeModel, given: GenerateOptions): Resolved {
  const gc = given.generationConfig === undefined ? generationConfigOf(model) : given.generationConfig;
  const opts: GenerateOptions = { ...(gc ? optionsFromGenerationConfig(gc) : {}) };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (opts as Record<string, unknown>)[k] = v;
  // an explicit maxNewTokens wins over a configured max_length, and the other way round
  if (given.maxLength !== undefined && given.maxNewTokens === undefined) opts.maxNewTokens = undefined;
  const cfg = model.config as {
    eos_token_id: number | readonly number[] | null;
    pad_token_id: number | null;
    decoder_start_token_id?: number | null;
    bos_token_id?: number | null;
    forced_bos_token_id?: number | null;
    forced_eos_token_id?: number | readonly number[] | null;
  };
  const doSample = opts.doSample ?? false;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 50;
  const topP = opts.topP ?? 1;
  const minP = opts.minP ?? null;
  if (doSample && !(temperature > 0))
    throw new ArgumentError(
      `generate: temperature must be > 0, got ${temperature}`,
      "for greedy decoding leave doSample off",
    );
  nonNegInt("topK", topK);
  if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`generate: topP must be in (0, 1], got ${topP}`);
  if (minP !== null && !(minP >= 0 && minP <= 1))
    throw new ArgumentError(`generate: minP must be in [0, 1], got ${minP}`);
  const repetitionPenalty = opts.repetitionPenalty ?? 1;
  if (!(repetitionPenalty > 0))
    throw new ArgumentError(`generate: repetitionPenalty must be > 0, got ${repetitionPenalty}`);
  const numBeams = opts.numBeams ?? 1;
  if (!Number.isInteger(numBeams) || numBeams < 1)
    throw new ArgumentError(`generate: numBeams must be a positive integer, got ${numBeams}`);
  const numReturn = opts.numReturnSequences ?? 1;
  if (!Number.isInteger(numReturn) || numReturn < 1)
    throw new ArgumentError(`generate: numReturnSequences must be a positive integer, got ${numReturn}`);
  if (numReturn > numBeams && !(numBeams === 1 && (opts.doSample ?? false)))
    throw new ArgumentError(
      numBeams === 1
        ? `generate: greedy decoding gives one sequence per prompt, not numReturnSequences ${numReturn}`
        : `generate: numReturnSequences (${numReturn}) cannot exceed numBeams (${numBeams})`,
      numBeams === 1 ? "sample (doSample) or use beams (numBeams ≥ numReturnSequences)" : undefined,
    );
  const earlyStopping = opts.earlyStopping ?? false;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== "never")
    throw new ArgumentError(`generate: earlyStopping must be true, false or "never", got ${String(earlyStopping)}`);
  const lengthPenalty = opts.lengthPenalty ?? 1;
  if (!Number.isFinite(lengthPenalty)) throw new ArgumentError(`generate: lengthPenalty must be a finite number`);

  const eosOpt = opts.eosTokenId === undefined ? cfg.eos_token_id : opts.eosTokenId;
  const eosList = [
    ...(eosOpt === null || eosOpt === undefined ? [] : typeof eosOpt === "number" ? [eosOpt] : eosOpt),
    ...(opts.stopTokenIds ?? []),
  ];
  const pad = opts.padTokenId ?? cfg.pad_token_id ?? (eosList.length ? eosList[0] : 0);
  const stopStrings =
    opts.stopStrings === undefined
      ? []
      : typeof opts.stopStrings === "string"
        ? [opts.stopStrings]
        : [...opts.stopStrings];
  if (stopStrings.some((s) => s === "")) throw new ArgumentError("generate: a stop string is empty");
  if (stopStrings.length && !opts.decode)
    throw new ArgumentError(
      "generate: stopStrings need a decode function (ids → text)",
      "pass decode: (ids) => tokenizer.decode(ids)",
    );
  const forcedBos = opts.forcedBosTokenId === undefined ? (cfg.forced_bos_token_id ?? null) : opts.forcedBosTokenId;
  const forcedEos = opts.forcedEosTokenId === undefined ? (cfg.forced_eos_token_id ?? null) : opts.forcedEosTokenId;
  const decoderStart =
    opts.decoderStartTokenId === undefined
      ? (cfg.decoder_start_token_id ?? cfg.bos_token_id ?? null)
      : opts.decoderStartTokenId;
  return {
    maxNew: opts.maxNewTokens === undefined ? -1 : nonNegInt("maxNewTokens", opts.maxNewTokens),
    numBeams,
    numReturn,
    lengthPenalty,
    earlyStopping,
    eos: new Set(eosList),
    eosList,
    pad,
    rng: opts.rng ?? defaultRng(),
    useCache: opts.useCache ?? true,
    stopStrings,
    decode: opts.decode ?? null,
    outputLogits: opts.outputLogits ?? false,
    outputScores: opts.outputScores ?? false,
    proc: {
      repetitionPenalty,
      noRepeatNgramSize: nonNegInt("noRepeatNgramSize", opts.noRepeatNgramSize ?? 0),
      minLength: 0,
      minNewTokens: nonNegInt("minNewTokens", opts.minNewTokens ?? 0),
      forcedBosTokenId: forcedBos,
      forcedEosTokenId: forcedEos,
      eos: new Set(eosList),
      doSample,
      temperature,
      topK,
      topP,
      minP,
      minTokensToKeep: numBeams > 1 ? Math.max(2, eosList.length + 1) : 1,
    },
    minLengthRaw: nonNegInt("minLength", opts.minLength ?? 0),
    maxLengthRaw: opts.maxLength === undefined ? null : nonNegInt("maxLength", opts.maxLength),
    decoderStart,
  };
}

/** Whether a stop string occurs in the text and reaches into what the newest token added (transformers' rule). */
function hitsStopString(r: Resolved, generated: readonly number[]): boolean {
  if (!r.stopStrings.length || !r.decode || generated.length === 0) return false;
  const text = r.decode([...generated]);
  const before = r.decode(generated.slice(0, -1));
  // the newest token's text starts where the shared prefix of the two decodings ends
  let start = 0;
  while (start < before.length && start < text.length && before[start] === text[start]) start++;
  return r.stopStrings.some((s) => {
    const at = text.lastIndexOf(s);
    return at >= 0 && at + s.length > start;
  });
}

interface Setup {
  stepper: Stepper;
  /** Each row's decoder tokens so far (prompt, padded, included). */
  rows: number[][];
  promptLength: number;
  /** How many padding columns each input's prompt has (decoders); 0 for encoder-decoders. */
  padLeft: number[];
  seq2seq: boolean;
  batch: number;
}

function setup(model: GenerativeModel, prompts: Prompts, r: Resolved): Setup {
  const beams = r.numBeams;
  const seq2seq = isSeq2SeqLM(model);
  if (!Array.isArray(prompts) && !(prompts as { inputIds?: unknown }).inputIds)
    throw new ArgumentError("generate: prompts must be token-id lists or { inputIds, attentionMask }");
  if (Array.isArray(prompts) && prompts.length === 0) throw new ArgumentError("generate: no prompts");
  if (seq2seq) {
    const m = model as Seq2SeqLM<unknown>;
    if (r.decoderStart === null)
      throw new ArgumentError(
        "generate: the model has no decoder_start_token_id",
        "set it in config.json or pass decoderStartTokenId",
      );
    const p = Array.isArray(prompts)
      ? padBatch(prompts as readonly (readonly number[])[], m.config.pad_token_id ?? r.pad, "right")
      : (prompts as { inputIds: Tensor; attentionMask?: Tensor | null });
    const [b, s] = p.inputIds.shape;
    const mask = p.attentionMask ?? new Tensor(new Float32Array(b * s).fill(1), [b, s]);
    if (m.maxPositions !== null && s > m.maxPositions)
      throw new ArgumentError(
        `generate: an input of ${s} tokens exceeds the ${m.maxPositions} positions the encoder has`,
        "shorten the input",
      );
    const maxNew = r.maxNew >= 0 ? r.maxNew : r.maxLengthRaw !== null ? Math.max(0, r.maxLengthRaw - 1) : 20;
    r.maxNew = maxNew;
    if (m.maxTargetPositions !== null && maxNew + 1 > m.maxTargetPositions)
      throw new ArgumentError(
        `generate: ${maxNew} new tokens plus the start token exceed the ${m.maxTargetPositions} positions the decoder has`,
        "ask for fewer tokens",
      );
    const rowOf = Array.from({ length: b * beams }, (_, i) => Math.floor(i / beams));
    const stepper = new Seq2SeqStepper(m, p.inputIds, mask, rowOf, r.useCache);
    return {
      stepper,
      rows: rowOf.map(() => [r.decoderStart as number]),
      promptLength: 1,
      padLeft: new Array<number>(b).fill(0),
      seq2seq,
      batch: b,
    };
  }
  const m = model as CausalLM<unknown>;
  const p = Array.isArray(prompts)
    ? padBatch(prompts as readonly (readonly number[])[], r.pad, "left")
    : (prompts as { inputIds: Tensor; attentionMask?: Tensor | null });
  const ids = p.inputIds.toRows();
  const mask = p.attentionMask ? p.attentionMask.toRows() : ids.map((row) => new Array<number>(row.length).fill(1));
  mask.forEach((row, i) => {
    if (row.some((v, j) => !v && j > 0 && row[j - 1]))
      throw new ArgumentError(
        `generate: prompt ${i} has padding after its tokens`,
        "generation continues the last column: pad prompts on the left (or pass token-id lists)",
      );
  });
  const promptLength = ids[0].length;
  const realLen = mask.map((row) => row.reduce((s, v) => s + (v ? 1 : 0), 0));
  const maxNew = r.maxNew >= 0 ? r.maxNew : r.maxLengthRaw !== null ? Math.max(0, r.maxLengthRaw - promptLength) : 20;
  r.maxNew = maxNew;
  const limit = m.maxPositions;
  if (limit !== null && Math.max(...realLen) + maxNew > limit) {
    throw new ArgumentError(
      `generate: a prompt of ${Math.max(...realLen)} tokens plus ${maxNew} new ones exceeds the ${limit} positions the model has`,
      "shorten the prompt or ask for fewer tokens",
    );
  }
  const rowOf = Array.from({ length: ids.length * beams }, (_, i) => Math.floor(i / beams));
  return {
    stepper: new DecoderStepper(
      m,
      rowOf.map((i) => mask[i].map((v) => (v ? 1 : 0))),
      r.useCache,
    ),
    rows: rowOf.map((i) => ids[i].slice()),
    promptLength,
    padLeft: realLen.map((n) => promptLength - n),
    seq2seq: false,
    batch: ids.length,
  };
}

function settings(r: Resolved, s: Setup): ProcessorSettings {
  return { ...r.proc, minLength: r.minLengthRaw, promptLength: s.promptLength, maxLength: s.promptLength + r.maxNew };
}

/** One prompt's decoding settings (greedy or sampling), as decodeSteps resolves them for a decoder's single prompt. */
export interface SequenceSettings {
  proc: ProcessorSettings;
  eos: ReadonlySet<number>;
  maxNew: number;
  rng: Rng;
}

/**
 * The settings decodeSteps would decode one unpadded prompt of `promptLength` tokens with, checked as it checks
 * them: continuous batching (continuous.ts) decodes each sequence of its batch with its own.
 */
export function sequenceSettings(
  model: CausalLM<unknown>,
  promptLength: number,
  opts: GenerateOptions,
): SequenceSettings {
  const r = resolve(model, opts);
  if (r.numBeams > 1) throw new ArgumentError("generate: step-by-step decoding is for numBeams 1");
  const maxNew = r.maxNew >= 0 ? r.maxNew : r.maxLengthRaw !== null ? Math.max(0, r.maxLengthRaw - promptLength) : 20;
  const limit = model.maxPositions;
  if (limit !== null && promptLength + maxNew > limit)
    throw new ArgumentError(
      `generate: a prompt of ${promptLength} tokens plus ${maxNew} new ones exceeds the ${limit} positions the model has`,
      "shorten the prompt or ask for fewer tokens",
    );
  return {
    proc: { ...r.proc, minLength: r.minLengthRaw, promptLength, maxLength: promptLength + maxNew },
    eos: r.eos,
    maxNew,
    rng: r.rng,
  };
}

function withModelInEval<T>(model: GenerativeModel, fn: () => T): T {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    if (wasTraining) model.train(true);
  }
}

function finish(
  s: Setup,
  rows: number[][],
  rowInput: readonly number[],
): { sequences: number[][]; newTokens: number[][] } {
  const newTokens = rows.map((row) => row.slice(s.promptLength));
  const sequences = rows.map((row, i) => row.slice(s.seq2seq ? 0 : s.padLeft[rowInput[i]]));
  return { sequences, newTokens };
}

/**
 * Greedy decoding or sampling, one step per iteration: yields each step's tokens, returns the whole output. Rows
 * that ended continue with padding until every row has ended (as transformers does).
 */
export function* decodeSteps(
  model: GenerativeModel,
  prompts: Prompts,
  opts: GenerateOptions,
): Generator<StepEvent, GenerateOutput> {
  const r = resolve(model, opts);
  if (r.numBeams > 1) throw new ArgumentError("generate: step-by-step decoding is for numBeams 1");
  // the encoder of an encoder-decoder runs here: in eval mode, without gradients, as every step
  const s = runNoGrad(model, () => setup(model, prompts, r));
  const proc = settings(r, s);
  const { rows, stepper } = s;
  const b = rows.length;
  const finished = new Array<boolean>(b).fill(false);
  const stepLogits: Tensor[] = [];
  const stepScores: Tensor[] = [];
  for (let step = 0; step < r.maxNew; step++) {
    const last = runNoGrad(model, () => stepper.next(rows));
    if (r.outputLogits) stepLogits.push(last);
    // greedy rows whose scores no processor touches take the logits' argmax from a tensor op; only the others (and
    // asked-for scores) read the [rows, vocabulary] logits back, which at batch 32 costs more than the model's step
    const picks = r.outputScores || proc.doSample ? null : (argmaxOp(last, -1).toArray() as number[]);
    let lastRows: number[][] | null = null;
    const tokens: (number | null)[] = [];
    const ended = new Array<"eos" | "stop" | null>(b).fill(null);
    const processed: number[][] = [];
    for (let i = 0; i < b; i++) {
      let next: number;
      if (finished[i] && !r.outputScores) {
        next = r.pad;
        tokens.push(null);
      } else if (picks && greedyScoresUntouched(rows[i].length, proc)) {
        next = finished[i] ? r.pad : picks[i];
        tokens.push(finished[i] ? null : next);
      } else {
        lastRows ??= last.toRows();
        const scores = Float64Array.from(lastRows[i]);
        // a row that ended only pads: its scores matter only when asked for
        if (!finished[i] || r.outputScores) processScores(scores, rows[i], proc);
        if (r.outputScores) processed.push(Array.from(scores));
        if (finished[i]) {
          next = r.pad;
          tokens.push(null);
        } else {
          next = proc.doSample ? sample(scores, r.rng) : argmax(scores);
          tokens.push(next);
        }
      }
      rows[i].push(next);
      if (!finished[i]) {
        ended[i] = r.eos.has(next) ? "eos" : hitsStopString(r, rows[i].slice(s.promptLength)) ? "stop" : null;
        if (ended[i]) finished[i] = true;
      }
    }
    if (r.outputScores) stepScores.push(new Tensor(Float32Array.from(processed.flat()), [b, processed[0].length]));
    yield { step, tokens, ended };
    if (finished.every(Boolean)) break;
  }
  const out: GenerateOutput = finish(
    s,
    rows,
    rows.map((_, i) => i),
  );
  if (r.outputLogits) out.logits = stepLogits;
  if (r.outputScores) out.scores = stepScores;
  return out;
}

function runNoGrad<T>(model: GenerativeModel, fn: () => T): T {
  return withModelInEval(model, fn);
}

// ---- beam search (transformers' _beam_search, one input at a time instead of batched tensors)

const NEG = -1.0e9;

interface Hyp {
  row: number[];
  score: number;
  finished: boolean;
}

/** Indices of the k largest values, largest first (the lower index first on ties). */
function topK(values: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (idx.length === k && !(v > values[idx[k - 1]])) continue;
    let at = idx.length;
    while (at > 0 && v > values[idx[at - 1]]) at--;
    idx.splice(at, 0, i);
    if (idx.length > k) idx.pop();
  }
  return idx;
}

function beamSearch(model: GenerativeModel, prompts: Prompts, r: Resolved): GenerateOutput {
  const s = setup(model, prompts, r);
  const proc = settings(r, s);
  const nb = r.numBeams;
  const { stepper } = s;
  const batch = s.batch;
  const maxLength = s.promptLength + r.maxNew;
  const beamsToKeep = Math.max(2, 1 + r.eosList.length) * nb;
  // running beams and finished hypotheses per input; only beam 0 counts at first (all beams are the same prompt)
  const running: Hyp[][] = [];
  const done: Hyp[][] = [];
  for (let b = 0; b < batch; b++) {
    running.push(
      Array.from({ length: nb }, (_, j) => ({ row: s.rows[b * nb + j], score: j === 0 ? 0 : NEG, finished: false })),
    );
    done.push(Array.from({ length: nb }, () => ({ row: [], score: NEG, finished: false })));
  }
  const improvable = new Array<boolean>(batch).fill(true);
  const stepLogits: Tensor[] = [];
  const stepScores: Tensor[] = [];
  let curLen = s.promptLength;
  for (let step = 0; step < r.maxNew; step++) {
    const flat = running.flat();
    const logits = stepper.next(flat.map((h) => h.row));
    if (r.outputLogits) stepLogits.push(logits);
    const logitRows = logits.toRows();
    const v = logitRows[0].length;
    const processed = flat.map((h, i) => {
      const lp = logSoftmax(logitRows[i]);
      processScores(lp, h.row, proc);
      return lp;
    });
    if (r.outputScores)
      stepScores.push(new Tensor(Float32Array.from(processed.flatMap((p) => Array.from(p))), [flat.length, v]));
    const origin: number[] = [];
    let allHit = true;
    for (let b = 0; b < batch; b++) {
      // accumulated log-probabilities of every continuation of every beam of this input: [nb × V]
      const acc = new Float64Array(nb * v);
      for (let j = 0; j < nb; j++) {
        const p = processed[b * nb + j];
        const base = running[b][j].score;
        for (let t = 0; t < v; t++) acc[j * v + t] = p[t] + base;
      }
      const picked = proc.doSample ? sampleWithoutReplacement(acc, beamsToKeep, r.rng) : topK(acc, beamsToKeep);
      const cands = picked.map((idx) => {
        const beam = Math.floor(idx / v);
        const token = idx % v;
        const row = [...running[b][beam].row, token];
        const hit = r.eos.has(token) || row.length >= maxLength || hitsStopString(r, row.slice(s.promptLength));
        return { beam, row, logp: acc[idx], hit };
      });
      if (!cands.every((c) => c.hit)) allHit = false;
      // e. the best numBeams continuations that have not finished keep running
      const runScores = cands.map((c) => c.logp + (c.hit ? NEG : 0));
      const next = topK(runScores, nb);
      // f. finished continuations among the top numBeams join the finished hypotheses if they score better
      const genLen = curLen + 1 - s.promptLength;
      const full = done[b].every((h) => h.finished) && r.earlyStopping === true;
      const candScores = cands.map((c, k) => {
        let sc = c.logp / genLen ** r.lengthPenalty;
        if (full) sc += NEG;
        if (!improvable[b]) sc += NEG;
        if (!(c.hit && k < nb)) sc += NEG;
        return sc;
      });
      const merged: Hyp[] = [
        ...done[b],
        ...cands.map((c, k) => ({ row: c.row, score: candScores[k], finished: c.hit && k < nb })),
      ];
      done[b] = topK(
        merged.map((h) => h.score),
        nb,
      ).map((k) => merged[k]);
      running[b] = next.map((k) => ({ row: cands[k].row, score: runScores[k], finished: false }));
      for (const k of next) origin.push(b * nb + cands[k].beam);
    }
    stepper.reorder(origin);
    curLen++;
    // transformers' _check_early_stop_heuristic
    for (let b = 0; b < batch; b++) {
      const bestLen =
        r.earlyStopping === "never" && r.lengthPenalty > 0 ? maxLength - s.promptLength : curLen - s.promptLength;
      const bestPossible = running[b][0].score / bestLen ** r.lengthPenalty;
      const worst = done[b].every((h) => h.finished) ? Math.min(...done[b].map((h) => h.score)) : NEG;
      improvable[b] = improvable[b] && bestPossible > worst;
    }
    const allDone = done.every((d) => d.every((h) => h.finished));
    if (!improvable.some(Boolean) || (allDone && r.earlyStopping === true) || allHit) break;
  }
  // the best numReturnSequences hypotheses of each input, padded to the longest (transformers fills with pad, or
  // with the first end token when pad is 0 or unset)
  const fill = r.eosList.length ? (r.pad !== 0 ? r.pad : r.eosList[0]) : r.pad;
  const chosen = done.flatMap((d) => d.slice(0, r.numReturn));
  const genLen = Math.max(...chosen.map((h) => h.row.length - s.promptLength));
  const rowInput = chosen.map((_, i) => Math.floor(i / r.numReturn));
  const rows = chosen.map((h, i) => {
    const prompt = h.row.length ? h.row : s.rows[rowInput[i] * nb];
    const row = prompt.slice();
    while (row.length < s.promptLength + genLen) row.push(fill);
    return row;
  });
  const out: GenerateOutput = { ...finish(s, rows, rowInput), sequencesScores: chosen.map((h) => h.score) };
  if (r.outputLogits) out.logits = stepLogits;
  if (r.outputScores) out.scores = stepScores;
  return out;
}

/**
 * Generates from prompts given as token-id lists (left-padded here for decoders, right-padded sources for
 * encoder-decoders) or as a padded batch with its mask. Options left out take the model's generation_config.json
 * values, then transformers' defaults.
 */
export function generate(model: GenerativeModel, prompts: Prompts, opts: GenerateOptions = {}): GenerateOutput {
  return withModelInEval(model, () => {
    const r = resolve(model, opts);
    if (r.numBeams > 1) return beamSearch(model, prompts, r);
    // several samples per prompt: each prompt repeated numReturnSequences times, side by side (as transformers does)
    let p = prompts;
    if (r.numReturn > 1) {
      const rows = Array.isArray(prompts) ? null : (prompts as { inputIds: Tensor; attentionMask?: Tensor | null });
      if (rows === null) p = (prompts as readonly (readonly number[])[]).flatMap((x) => new Array(r.numReturn).fill(x));
      else {
        const ids = rows.inputIds.toRows();
        const mask = rows.attentionMask?.toRows() ?? ids.map((x) => x.map(() => 1));
        const rep = (m: number[][]) => m.flatMap((x) => new Array(r.numReturn).fill(x) as number[][]);
        const [b, t] = [ids.length * r.numReturn, ids[0].length];
        p = {
          inputIds: new Tensor(Int32Array.from(rep(ids).flat()), [b, t]),
          attentionMask: new Tensor(Float32Array.from(rep(mask).flat()), [b, t]),
        };
      }
    }
    const it = decodeSteps(model, p, { ...opts, numReturnSequences: 1 });
    for (;;) {
      const n = it.next();
      if (n.done) return n.value;
    }
  });
}
