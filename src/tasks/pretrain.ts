/**
 * The pre-training recipe: raw text → tokenizer (given, or trained on the corpus) → packed blocks on disk →
 * masked-LM (BERT), causal-LM (GPT-2) or span-corruption (T5, BART: data/span-corruption.ts) training from scratch
 * at a named size, or continued from a checkpoint (domain-adaptive pre-training). The corpus is streamed once into fixed-length blocks of token ids stored in the
 * run directory (data/train.bin, data/validation.bin); training reads the blocks it needs by offset, so the corpus
 * is never held in memory, and the Trainer's seeded per-epoch order shuffles all blocks globally.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import {
  computeInputAndTargetLengths,
  corpusFiles,
  noiseSpanCounts,
  readCorpus,
  spanCorruptBatch,
} from "../data/index.js";
import { Rng, defaultRng, manualSeed } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { writeReport } from "../report/index.js";
import { Tensor, argmax, crossEntropy, noGrad } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { resolveModelDir } from "../io/hub.js";
import {
  AutoConfig,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForSeq2SeqLM,
  configOfSize,
  ElectraForMaskedLM,
  ElectraForPreTraining,
  sizedModelTypes,
  maskedLogitsAt,
  type ElectraConfig,
  savePretrained,
  type ModelConfig,
  type PreTrainedModel,
  type LMOutput,
  type Seq2SeqLM,
} from "../models/index.js";
import { AutoTokenizer, sentinelIds, trainTokenizer, type Tokenizer } from "../tokenizers/index.js";
import {
  BlockPacker,
  ElectraPretrainingModel,
  electraFromBert,
  IGNORE_INDEX,
  electraStep,
  generatorConfig,
  Trainer,
  checkResumeData,
  dataSources,
  maskTokens,
  openNewRun,
  maskWholeWords,
  world,
  type TrainSummary,
  type TrainerCallback,
} from "../train/index.js";
import { TRAINING_SCHEMA, checkTrainingArgs } from "../train/args.js";
import {
  type Input,
  type OptionSource,
  type Resolved,
  type Settings,
  adjustOptions,
  opt,
  optionDefaults,
  resolveOptions,
} from "../util/options.js";

export const SIZE_PRESETS = {
  tiny: { layers: 2, hidden: 128, heads: 2, ffn: 512 },
  mini: { layers: 4, hidden: 256, heads: 4, ffn: 1024 },
  small: { layers: 4, hidden: 512, heads: 8, ffn: 2048 },
  medium: { layers: 8, hidden: 512, heads: 8, ffn: 2048 },
  base: { layers: 12, hidden: 768, heads: 12, ffn: 3072 },
} as const;
export type SizePreset = keyof typeof SIZE_PRESETS;

/** Every setting of `graft pretrain`: type, default, checks, flag and help declared once (util/options.ts). */
export const PRETRAIN_SCHEMA = {
  objective: opt.enum(["mlm", "clm", "span-corruption", "electra"], {
    default: "mlm",
    flag: "--objective <mlm|clm|span-corruption|electra>",
    help: "masked LM (BERT), causal LM (GPT-2), T5's span corruption (encoder-decoders) or ELECTRA's replaced-token detection",
  }),
  /** Text files, JSONL files (a "text" field per line), optionally .gz, directories of them or globs. */
  corpus: opt.list("string", {
    required: true,
    single: true,
    minLength: 1,
    flag: "--corpus <paths...>",
    help: "text/JSONL files (optionally .gz), directories (recursive) or globs, streamed",
    aliases: ["files", "data", "trainFiles"],
  }),
  /** Continue from this checkpoint (directory or hub id) instead of starting from scratch. */
  model: opt.string({
    nonEmpty: true,
    flag: "--model <dir|id>",
    help: "continue from this checkpoint (domain-adaptive pre-training)",
    aliases: ["modelNameOrPath"],
  }),
  /** Tokenizer directory; default: the checkpoint's, or one trained on the corpus. */
  tokenizer: opt.string({
    nonEmpty: true,
    flag: "--tokenizer <dir>",
    help: "tokenizer to use",
    defaultHelp: "the checkpoint's, or train one on the corpus",
  }),
  /** From scratch: the architecture and its size. */
  // any registered architecture with size presets (models/registry.ts: sizedModelTypes), checked when the run starts
  architecture: opt.string({
    flag: "--architecture <model_type>",
    help: "architecture when starting from scratch",
    defaultHelp: "bert for mlm, gpt2 for clm, t5 for span-corruption",
  }),
  preset: opt.enum(Object.keys(SIZE_PRESETS) as SizePreset[], {
    default: "mini",
    flag: "--preset <size>",
    help: `size when starting from scratch: ${Object.keys(SIZE_PRESETS).join(", ")}`,
  }),
  vocabSize: opt.integer({ default: 8000, min: 1, help: "vocabulary of a tokenizer trained here" }),
  /** Tokens per training block, special tokens included (span corruption: the encoder's input length). */
  blockSize: opt.integer({
    default: 128,
    min: 8,
    help: "tokens per training block (span-corruption: per corrupted input)",
    aliases: ["maxLength"],
  }),
  /** Fraction of documents held out for validation perplexity. */
  validationFraction: opt.number({
    default: 0.01,
    gt: 0,
    lt: 0.5,
    flag: "--validation-fraction <f>",
    help: "documents held out for validation perplexity",
  }),
  mlmProbability: opt.number({
    default: 0.15,
    gt: 0,
    lt: 1,
    flag: "--mlm-probability <f>",
    help: "fraction of tokens selected for masking",
  }),
  wholeWordMasking: opt.boolean({ default: false, help: "mask all sub-tokens of a chosen word together" }),
  /** ELECTRA: the generator's hidden size, heads and feed-forward width as a fraction of the discriminator's. */
  generatorSize: opt.number({
    default: 0.25,
    gt: 0,
    max: 1,
    flag: "--generator-size <f>",
    help: "electra: the generator's width as a fraction of the discriminator's",
  }),
  noiseDensity: opt.number({
    default: 0.15,
    gt: 0,
    max: 0.5,
    flag: "--noise-density <f>",
    help: "span-corruption: fraction of tokens cut out",
  }),
  meanNoiseSpanLength: opt.number({
    default: 3,
    min: 1,
    flag: "--mean-noise-span-length <n>",
    help: "span-corruption: mean length of a cut span",
  }),
  output: opt.string({ flag: "--output <dir>", help: "run directory", defaultHelp: "runs/pretrain-<time>" }),
  /** Training-loop settings, with pre-training's own defaults. */
  training: opt.group(
    adjustOptions(
      TRAINING_SCHEMA,
      {
        epochs: { default: 1, help: "passes over the corpus" },
        batchSize: { default: 32, help: "blocks per step" },
        lr: { default: 5e-4 },
        warmupRatio: { default: 0.05, help: "warmup fraction" },
        logEvery: { default: 20 },
        evalEvery: { default: 500, flag: "--eval-every <n>", help: "validation every N steps" },
        saveEvery: { default: 500, flag: "--save-every <n>", help: "checkpoint every N steps" },
        seed: { help: "seed" },
      },
      [
        "epochs",
        "maxSteps",
        "batchSize",
        "gradAccumSteps",
        "lr",
        "warmupRatio",
        "schedule",
        "evalEvery",
        "saveEvery",
        "seed",
        "reportTo",
        "reportHistograms",
        "gradientCheckpointing",
        "precision",
      ],
    ),
  ),
};

/** The resolved pre-training configuration (every default filled in, the training arguments included). */
export type ResolvedPretrainConfig = Resolved<typeof PRETRAIN_SCHEMA>;
/** A pre-training configuration with its training group as given: `Partial<PretrainConfig>` is an input. */
export type PretrainConfig = Settings<typeof PRETRAIN_SCHEMA>;
export type PretrainOptions = Input<typeof PRETRAIN_SCHEMA>;

export const PRETRAIN_DEFAULTS = optionDefaults(PRETRAIN_SCHEMA) as Omit<ResolvedPretrainConfig, "corpus">;

/** The configuration validated (an unknown key is an error with a did-you-mean hint) and completed. */
export function resolvePretrainConfig(
  config: PretrainOptions & { corpus: string[] },
  from: OptionSource = {},
): ResolvedPretrainConfig {
  const c = resolveOptions(PRETRAIN_SCHEMA, config, from);
  checkTrainingArgs(c.training, "training.");
  return c;
}

/** Every corpus file (files, directories walked recursively in sorted order, globs): the shared corpus reader's. */
export { corpusFiles };

/** Streams documents (non-blank lines; a JSONL record's "text"; .gz decompressed) from the corpus files. */
async function* documents(files: readonly string[]): AsyncGenerator<{ text: string; file: string; line: number }> {
  for await (const d of readCorpus(files)) if (d.text.trim()) yield d;
}

/** Fixed-length blocks of token ids in a binary file (little-endian i32), read back by index. */
export class BlockFile {
  private fd: number;
  readonly count: number;
  constructor(
    readonly path: string,
    readonly blockSize: number,
  ) {
    this.fd = openSync(path, "r");
    this.count = Math.floor(statSync(path).size / (4 * blockSize));
  }
  read(i: number, out: Int32Array, offset = 0): void {
    const bytes = new Uint8Array(out.buffer, out.byteOffset + offset * 4, this.blockSize * 4);
    readSync(this.fd, bytes, 0, bytes.length, i * this.blockSize * 4);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** The architecture pre-trained from scratch when none is named, per objective. */
const DEFAULT_ARCHITECTURE = { mlm: "bert", clm: "gpt2", "span-corruption": "t5", electra: "electra" } as const;
/** The model head each objective trains. */
const HEADS = {
  mlm: { head: "masked-lm", auto: AutoModelForMaskedLM },
  clm: { head: "causal-lm", auto: AutoModelForCausalLM },
  "span-corruption": { head: "seq2seq-lm", auto: AutoModelForSeq2SeqLM },
  // ELECTRA trains a discriminator and a masked-LM generator (train/electra.ts); the generator's head is checked
  electra: { head: "masked-lm", auto: AutoModelForMaskedLM },
} as const;
/** Objectives over [CLS] … [SEP] blocks with masked tokens (a WordPiece tokenizer with [MASK]). */
const isMasked = (c: PretrainConfig) => c.objective === "mlm" || c.objective === "electra";
/** Sentinels of a tokenizer trained for span corruption (T5 has 100), at the end of the vocabulary. */
const SENTINELS = 100;

/** Raw tokens per stored block: MLM leaves room for [CLS] … [SEP]; span corruption cuts blocks that pack into blockSize. */
function rawBlockLength(c: PretrainConfig): number {
  if (isMasked(c)) return c.blockSize - 2;
  if (c.objective === "clm") return c.blockSize;
  return computeInputAndTargetLengths(c.blockSize, spanOptions(c)).tokensLength;
}

function spanOptions(c: PretrainConfig): { noiseDensity: number; meanNoiseSpanLength: number } {
  return { noiseDensity: c.noiseDensity, meanNoiseSpanLength: c.meanNoiseSpanLength };
}

/** A byte-level BPE tokenizer in T5's layout: </s>, <pad>, then <extra_id_99> … <extra_id_0> last in the vocabulary. */
async function trainSpanTokenizer(files: readonly string[], dir: string, c: PretrainConfig): Promise<void> {
  const extra = Array.from({ length: SENTINELS }, (_, i) => `<extra_id_${SENTINELS - 1 - i}>`);
  await trainTokenizer(files, dir, {
    type: "bpe",
    vocabSize: c.vocabSize,
    specialTokens: ["</s>", "<pad>", ...extra],
    modelMaxLength: c.blockSize,
  });
  const configPath = join(dir, "tokenizer_config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  delete config.bos_token;
  writeJsonAtomic(configPath, {
    ...config,
    eos_token: "</s>",
    unk_token: "</s>",
    pad_token: "<pad>",
    additional_special_tokens: [...extra].reverse(),
  });
}

/** Tokenizes the corpus into train/validation block files; returns their block counts. */
async function writeBlocks(
  files: readonly string[],
  tok: Tokenizer,
  dir: string,
  c: PretrainConfig,
  sep: number | null,
  log: (s: string) => void,
): Promise<{ train: number; validation: number; tokens: number }> {
  mkdirSync(dir, { recursive: true });
  const inner = rawBlockLength(c);
  const out = {
    train: openSync(join(dir, "train.bin.tmp"), "w"),
    validation: openSync(join(dir, "validation.bin.tmp"), "w"),
  };
  const packers = { train: new BlockPacker(inner, sep), validation: new BlockPacker(inner, sep) };
  const counts = { train: 0, validation: 0, tokens: 0 };
  let batch: { text: string; split: "train" | "validation" }[] = [];
  let docIndex = 0;
  const heldOut = new Rng(7);
  const flush = async () => {
    if (!batch.length) return;
    const enc = await tok.encodeBatch(
      batch.map((b) => b.text),
      { addSpecialTokens: false },
    );
    for (const split of ["train", "validation"] as const) {
      const docs = enc.inputIds.filter((_, i) => batch[i].split === split);
      for (const block of packers[split].push(docs)) {
        writeSync(out[split], new Uint8Array(block.buffer));
        counts[split]++;
      }
    }
    for (const ids of enc.inputIds) counts.tokens += ids.length;
    batch = [];
  };
  for await (const d of documents(files)) {
    batch.push({ text: d.text, split: heldOut.uniform() < c.validationFraction ? "validation" : "train" });
    if (batch.length === 2048) await flush();
    if (++docIndex % 50_000 === 0) log(`tokenized ${docIndex} documents`);
  }
  await flush();
  closeSync(out.train);
  closeSync(out.validation);
  renameSync(join(dir, "train.bin.tmp"), join(dir, "train.bin"));
  renameSync(join(dir, "validation.bin.tmp"), join(dir, "validation.bin"));
  if (counts.train === 0)
    throw new DataError(
      `the corpus gives no complete block of ${inner} tokens (${counts.tokens} tokens in all); lower --block-size or add text`,
    );
  return counts;
}

/** How long data-parallel ranks wait for rank 0 to train the tokenizer and write the blocks (seconds). */
const PREPARATION_SECONDS = 7 * 24 * 3600;

export interface PretrainResult {
  runDir: string;
  bestDir: string;
  train: TrainSummary;
  validation: Record<string, number>;
  blocks: { train: number; validation: number; tokens: number };
  parameters: number;
}

export interface PretrainHooks {
  callbacks?: TrainerCallback[];
  log?: (s: string) => void;
  /** Continue the run in config.output from its last complete checkpoint. */
  resume?: boolean;
  /** A new run into a directory that already holds a run clears it first (without: such a directory is refused). */
  overwrite?: boolean;
  /** Resume even though the corpus files changed since the run started (without: refused). */
  allowDataChange?: boolean;
  /** Load a --model whose weights hold NaN or Infinity (refused otherwise). */
  allowNonFinite?: boolean;
}

export async function pretrain(
  config: PretrainOptions & { corpus: string[] },
  hooks: PretrainHooks = {},
): Promise<PretrainResult> {
  const life: { discard?: () => void; started: boolean } = { started: false };
  try {
    return await runPretrain(config, hooks, life);
  } catch (e) {
    // a new run that fails before training starts (a bad corpus, a tokenizer) leaves no directory behind
    if (!life.started) life.discard?.();
    throw e;
  }
}

async function runPretrain(
  config: PretrainOptions & { corpus: string[] },
  hooks: PretrainHooks,
  life: { discard?: () => void; started: boolean },
): Promise<PretrainResult> {
  const given = resolvePretrainConfig(config);
  const log = hooks.log ?? (() => {});
  const seed = given.training.seed;
  const runDir = resolve(given.output ?? join("runs", `pretrain-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  // absolute paths in run.json, so that a resume works from any directory
  const c: ResolvedPretrainConfig = {
    ...given,
    corpus: given.corpus.map((p) => resolve(p)),
    ...(given.model !== undefined ? { model: existsSync(given.model) ? resolve(given.model) : given.model } : {}),
    ...(given.tokenizer !== undefined
      ? { tokenizer: existsSync(given.tokenizer) ? resolve(given.tokenizer) : given.tokenizer }
      : {}),
    output: runDir,
  };
  // data parallelism (mpirun): rank 0 opens the run and prepares the tokenizer and blocks; the other ranks wait for
  // it, then read what it wrote
  const w = world();
  const follower = w !== null && w.rank !== 0;
  if (follower) w.mpi.barrier(PREPARATION_SECONDS);
  if (!hooks.resume && !follower)
    life.discard = openNewRun(runDir, { overwrite: hooks.overwrite, command: "graft pretrain" }).discard;
  const files = corpusFiles(c.corpus);
  const dataFiles = dataSources(files.map((file) => ({ role: "corpus", file })));
  if (hooks.resume) checkResumeData(runDir, dataFiles, { allow: hooks.allowDataChange, log });

  // tokenizer: given, the checkpoint's, or trained here
  const modelDir = c.model ? await resolveModelDir(c.model) : null;
  let tokDir = c.tokenizer ?? modelDir;
  if (!tokDir) {
    tokDir = join(runDir, "tokenizer");
    if (c.objective === "span-corruption" && !existsSync(join(tokDir, "tokenizer.json"))) {
      log(
        `training a byte-level BPE tokenizer with ${c.vocabSize} tokens (${SENTINELS} sentinels) on ${files.length} file(s)`,
      );
      await trainSpanTokenizer(files, tokDir, c);
    } else if (!existsSync(join(tokDir, "tokenizer.json"))) {
      log(
        `training a ${isMasked(c) ? "WordPiece" : "byte-level BPE"} tokenizer with ${c.vocabSize} tokens on ${files.length} file(s)`,
      );
      await trainTokenizer(files, tokDir, {
        type: isMasked(c) ? "wordpiece" : "bpe",
        vocabSize: c.vocabSize,
        modelMaxLength: c.blockSize,
      });
    }
  }
  const tok = await AutoTokenizer.fromPretrained(tokDir);

  // blocks (kept across a resume)
  const dataDir = join(runDir, "data");
  const cls = tok.clsTokenId,
    sepId = tok.sepTokenId,
    eos = tok.eosTokenId,
    mask = tok.maskTokenId;
  if (isMasked(c) && (cls === null || sepId === null || mask === null))
    throw new ArgumentError(`${c.objective} pre-training needs a tokenizer with [CLS], [SEP] and [MASK] tokens`);
  // span corruption: inputs of blockSize and targets of targetsLength from blocks of tokensLength raw tokens
  const span =
    c.objective === "span-corruption"
      ? (() => {
          const { tokensLength, targetsLength } = computeInputAndTargetLengths(c.blockSize, spanOptions(c));
          const spans = noiseSpanCounts(tokensLength, spanOptions(c)).noiseSpans;
          return {
            tokensLength,
            targetsLength,
            sentinels: sentinelIds(tok, spans),
            padId: tok.padTokenId ?? 0,
          };
        })()
      : null;
  if (span)
    log(
      `span corruption: blocks of ${span.tokensLength} tokens → inputs of ${c.blockSize}, targets of ${span.targetsLength}`,
    );
  let blocks: { train: number; validation: number; tokens: number };
  if ((hooks.resume || follower) && existsSync(join(dataDir, "blocks.json")))
    blocks = JSON.parse(readFileSync(join(dataDir, "blocks.json"), "utf8"));
  else {
    blocks = await writeBlocks(files, tok, dataDir, c, isMasked(c) ? sepId : eos, log);
    writeJsonAtomic(join(dataDir, "blocks.json"), blocks);
  }
  if (w && !follower) w.mpi.barrier(PREPARATION_SECONDS);
  log(
    `${blocks.tokens} tokens → ${blocks.train} training and ${blocks.validation} validation blocks of ${c.blockSize}`,
  );
  const trainBlocks = new BlockFile(join(dataDir, "train.bin"), rawBlockLength(c));
  const validBlocks = new BlockFile(join(dataDir, "validation.bin"), trainBlocks.blockSize);

  // the model
  manualSeed(seed);
  let model: PreTrainedModel;
  // ELECTRA trains a generator beside the model (the discriminator), sharing its embeddings
  let electra: ElectraPretrainingModel | null = null;
  const Auto = HEADS[c.objective].auto;
  if (c.objective === "electra") {
    if (c.architecture && c.architecture !== "electra")
      throw new ArgumentError(`the electra objective trains ELECTRA models, not "${c.architecture}"`);
    electra = modelDir
      ? continueElectra(modelDir, c.generatorSize)
      : ElectraPretrainingModel.fromConfig(
          configOfSize("electra", {
            ...SIZE_PRESETS[c.preset],
            positions: Math.max(128, c.blockSize),
            vocabSize: tok.vocabSize,
            padTokenId: tok.padTokenId ?? 0,
            eosTokenId: eos ?? 0,
          }) as ElectraConfig,
          c.generatorSize,
        );
    model = electra.discriminator as unknown as PreTrainedModel;
    if (model.config.vocab_size < tok.vocabSize)
      throw new ArgumentError(
        `the tokenizer has ${tok.vocabSize} tokens but the model's vocabulary ${model.config.vocab_size}`,
      );
  } else if (modelDir) {
    model = Auto.fromPretrainedDir(modelDir, {
      allowNonFinite: hooks.allowNonFinite,
    }) as unknown as PreTrainedModel;
    if ((model.config as { vocab_size: number }).vocab_size < tok.vocabSize)
      throw new ArgumentError(
        `the tokenizer has ${tok.vocabSize} tokens but the model's vocabulary ${(model.config as { vocab_size: number }).vocab_size}`,
      );
  } else {
    const p = SIZE_PRESETS[c.preset];
    const head = HEADS[c.objective].head;
    const architecture = c.architecture ?? DEFAULT_ARCHITECTURE[c.objective];
    if (!sizedModelTypes(head).includes(architecture))
      throw new ArgumentError(
        `architecture "${architecture}" cannot be pre-trained from a preset with the ${c.objective} objective`,
        `architectures that can: ${sizedModelTypes(head).join(", ") || "none is registered"}`,
      );
    const cfg = configOfSize(architecture, {
      ...p,
      positions: Math.max(128, c.blockSize),
      vocabSize: tok.vocabSize,
      padTokenId: tok.padTokenId ?? 0,
      eosTokenId: eos ?? 0,
    }) as ModelConfig;
    model = Auto.fromConfig(cfg) as unknown as PreTrainedModel;
  }
  const parameters = model.numParameters();
  log(`${model.architecture}: ${(parameters / 1e6).toFixed(2)}M parameters`);
  if (electra)
    log(
      `generator ElectraForMaskedLM: ${(electra.generator.numParameters() / 1e6).toFixed(2)}M parameters (${c.generatorSize} of the width, embeddings shared)`,
    );

  // batches
  const vocab = tok.getVocab();
  const continuation = new Uint8Array(tok.vocabSize);
  for (const [t, id] of Object.entries(vocab)) if (t.startsWith("##") && id < continuation.length) continuation[id] = 1;
  const specials = new Set(tok.allSpecialIds);
  const maskOpts = {
    maskTokenId: mask ?? 0,
    vocabSize: tok.vocabSize,
    specialIds: specials,
    probability: c.mlmProbability,
  };
  const T = span ? span.tokensLength : c.blockSize;
  const readBatch = (file: BlockFile, idx: ArrayLike<number>): Int32Array => {
    const ids = new Int32Array(idx.length * T);
    for (let i = 0; i < idx.length; i++) {
      if (isMasked(c)) {
        ids[i * T] = cls!;
        file.read(idx[i], ids, i * T + 1);
        ids[i * T + T - 1] = sepId!;
      } else file.read(idx[i], ids, i * T);
    }
    return ids;
  };
  const makeBatch = (file: BlockFile, idx: ArrayLike<number>, rng: Rng) => {
    const raw = readBatch(file, idx);
    if (span) {
      const b = spanCorruptBatch(raw, T, rng, {
        ...spanOptions(c),
        ...span,
        eosId: eos,
        inputsLength: c.blockSize,
      });
      return {
        inputIds: new Tensor(b.inputIds, [idx.length, b.inputsLength]),
        attentionMask: new Tensor(b.attentionMask, [idx.length, b.inputsLength]),
        labels: new Tensor(b.labels, [idx.length, b.targetsLength]),
      };
    }
    if (c.objective === "clm")
      return { inputIds: new Tensor(raw, [idx.length, T]), labels: new Tensor(raw, [idx.length, T]) };
    // ELECTRA replaces every selected token by [MASK] (the generator fills them in); BERT 80/10/10
    const opts = electra ? { ...maskOpts, maskFraction: 1, randomFraction: 0 } : maskOpts;
    const masked = c.wholeWordMasking
      ? maskWholeWords(raw, wordIdsOf(raw, continuation, specials), T, opts, rng)
      : maskTokens(raw, opts, rng);
    return {
      inputIds: new Tensor(masked.inputIds, [idx.length, T]),
      labels: new Tensor(masked.labels, [idx.length, T]),
    };
  };
  // dynamic masking: a fresh draw per batch, seeded from the process-wide generator (checkpointed, so a resumed
  // run masks exactly as the uninterrupted one would)
  const collate = (idx: Int32Array) => makeBatch(trainBlocks, idx, new Rng(defaultRng().nextU32()));
  // ELECTRA's samples come from the process-wide generator too, so a resumed run samples as the uninterrupted one
  const lmLoss = electra
    ? (m: Module, b: LMBatch) => electraStep(m as ElectraPretrainingModel, b, new Rng(defaultRng().nextU32())).loss
    : (m: Module, b: LMBatch) => lmForward(m as PreTrainedModel, b).loss;
  const evaluateElectra = (m: Module) => {
    const rng = new Rng(seed + 1009);
    const bs = c.training.batchSize * 2;
    const n = Math.min(validBlocks.count, 512);
    const sum = { loss: 0, gen: 0, disc: 0, correct: 0, count: 0, masked: 0, replaced: 0, genCorrect: 0, batches: 0 };
    noGrad(() => {
      for (let s = 0; s < n; s += bs) {
        const idx = Array.from({ length: Math.min(bs, n - s) }, (_, i) => s + i);
        const r = electraStep(m as ElectraPretrainingModel, makeBatch(validBlocks, idx, rng), rng);
        sum.loss += r.loss.item();
        sum.gen += r.generatorLoss;
        sum.disc += r.discriminatorLoss;
        sum.correct += r.correct;
        sum.count += r.count;
        sum.masked += r.masked;
        sum.replaced += r.replaced;
        sum.genCorrect += r.generatorCorrect;
        sum.batches++;
      }
    });
    const k = Math.max(1, sum.batches);
    return {
      loss: sum.loss / k,
      generator_loss: sum.gen / k,
      discriminator_loss: sum.disc / k,
      accuracy: sum.count ? sum.correct / sum.count : NaN,
      generator_accuracy: sum.masked ? sum.genCorrect / sum.masked : NaN,
      replaced_fraction: sum.count ? sum.replaced / sum.count : NaN,
    };
  };
  const evaluate = (m: Module) => {
    if (electra) return evaluateElectra(m);
    // fixed masks every evaluation, so numbers are comparable across steps
    const rng = new Rng(seed + 1009);
    const bs = c.training.batchSize * 2;
    const n = Math.min(validBlocks.count, 512);
    let lossSum = 0,
      correct = 0,
      count = 0;
    noGrad(() => {
      for (let s = 0; s < n; s += bs) {
        const idx = Array.from({ length: Math.min(bs, n - s) }, (_, i) => s + i);
        const r = lmForward(m as PreTrainedModel, makeBatch(validBlocks, idx, rng), true);
        lossSum += r.loss.item() * r.count;
        correct += r.correct;
        count += r.count;
      }
    });
    const loss = count ? lossSum / count : NaN;
    return { loss, perplexity: Math.exp(loss), accuracy: count ? correct / count : NaN, tokens: count };
  };
  if (validBlocks.count === 0) throw new DataError("no validation block: raise the validation fraction or add text");

  const trainer = new Trainer({
    model: electra ?? model,
    trainSize: trainBlocks.count,
    collate,
    loss: lmLoss,
    evaluate,
    runDir,
    args: c.training,
    saveModel: (m, dir) => {
      // ELECTRA: the discriminator is the model (it fine-tunes like any encoder); the generator goes in generator/
      if (electra) {
        savePretrained(electra.discriminator, dir);
        savePretrained(electra.generator, join(dir, "generator"));
        tok.save(join(dir, "generator"));
      } else savePretrained(m as PreTrainedModel, dir);
      tok.save(dir);
    },
    loadModel: (m, dir) => {
      if (electra) {
        const reloaded = continueElectra(dir, c.generatorSize);
        electra.discriminator.loadStateDict(reloaded.discriminator.stateDict(), { strict: false });
        electra.generator.loadStateDict(reloaded.generator.stateDict(), { strict: false });
        return;
      }
      const reloaded = Auto.fromPretrainedDir(dir) as unknown as Module;
      m.loadStateDict(reloaded.stateDict(), { strict: false });
    },
    callbacks: hooks.callbacks,
    runConfig: { pretrain: c, tokenizer: tokDir, blocks, dataFiles },
    log,
  });
  life.started = true;
  const train = await trainer.train({ resume: hooks.resume, handleSigint: true });
  const validation = train.interrupted || follower ? {} : evaluate(electra ?? model);
  trainBlocks.close();
  validBlocks.close();
  const result: PretrainResult = { runDir, bestDir: join(runDir, "best"), train, validation, blocks, parameters };
  if (follower) return result;
  writeJsonAtomic(join(runDir, "summary.json"), result);
  writeReport(runDir);
  return result;
}

/** An ELECTRA checkpoint continued: its discriminator, and its generator/ (or a new one of `fraction` its width). */
function continueElectra(dir: string, fraction: number): ElectraPretrainingModel {
  // a BERT masked-LM checkpoint continues as a discriminator with its encoder (fresh heads and generator)
  if (AutoConfig.fromPretrainedDir(dir).model_type === "bert")
    return electraFromBert(AutoModelForMaskedLM.fromPretrainedDir(dir) as unknown as PreTrainedModel, fraction);
  const disc = ElectraForPreTraining.fromPretrainedDir(dir);
  const genDir = join(dir, "generator");
  const gen = existsSync(join(genDir, "config.json"))
    ? ElectraForMaskedLM.fromPretrainedDir(genDir)
    : new ElectraForMaskedLM(generatorConfig(disc.config, fraction));
  return new ElectraPretrainingModel(disc, gen);
}

/** Word ids from WordPiece continuation marks ("##"): a new word starts at every non-continuation token. */
function wordIdsOf(ids: Int32Array, continuation: Uint8Array, specials: ReadonlySet<number>): (number | null)[] {
  const out: (number | null)[] = new Array(ids.length);
  let w = -1;
  for (let i = 0; i < ids.length; i++) {
    if (specials.has(ids[i])) {
      out[i] = null;
      continue;
    }
    if (!continuation[ids[i]] || w < 0) w++;
    out[i] = w;
  }
  return out;
}

/**
 * The LM loss of a batch. For BERT, the MLM head runs only on the masked positions (≈15% of tokens): the same loss
 * as scoring every position with -100 elsewhere, at a fraction of the decoder's cost.
 */
/** A batch of any objective: an encoder-decoder's has a source attention mask, its labels are the targets. */
type LMBatch = { inputIds: Tensor; labels: Tensor; attentionMask?: Tensor };

function lmForward(m: PreTrainedModel, b: LMBatch, stats = false): { loss: Tensor; correct: number; count: number } {
  if (b.attentionMask) {
    // span corruption: the decoder predicts labels[t] at position t (teacher forcing on the shifted labels)
    const out = (m as unknown as Seq2SeqLM).forward(b);
    let correct = 0,
      count = 0;
    if (stats) {
      const labels = b.labels.toArray(),
        best = argmax(out.logits, 2).toArray(); // [B, T]
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] === IGNORE_INDEX) continue;
        if (best[i] === labels[i]) correct++;
        count++;
      }
    }
    return { loss: out.loss!, correct, count: stats ? count : 1 };
  }
  const logitsAt = maskedLogitsAt(m);
  if (logitsAt) {
    const picked: number[] = [];
    const targets: number[] = [];
    const labels = b.labels.toArray();
    for (let i = 0; i < b.labels.size; i++)
      if (labels[i] !== IGNORE_INDEX) {
        picked.push(i);
        targets.push(labels[i]);
      }
    if (picked.length === 0) {
      picked.push(0);
      targets.push(b.inputIds.toArray()[0]);
    } // a batch with nothing masked still needs a loss
    const logits = logitsAt({ inputIds: b.inputIds }, new Tensor(Int32Array.from(picked), [picked.length])); // [M, V]
    const tgt = new Tensor(Int32Array.from(targets), [targets.length]);
    return {
      loss: crossEntropy(logits, tgt),
      ...(stats ? accuracyOf(logits, tgt) : { correct: 0, count: targets.length }),
    };
  }
  const out = (m as unknown as { forward(i: { inputIds: Tensor; labels: Tensor }): LMOutput }).forward(b);
  let correct = 0,
    count = 0;
  if (stats) {
    const [B, T] = out.logits.shape;
    const labels = b.labels.toArray(),
      best = argmax(out.logits, 2).toArray(); // [B, T]: the predicted next token at each position
    for (let i = 0; i < B; i++)
      for (let t = 0; t + 1 < T; t++) {
        const y = labels[i * T + t + 1];
        if (y === IGNORE_INDEX) continue;
        if (best[i * T + t] === y) correct++;
        count++;
      }
  }
  return { loss: out.loss!, correct, count: stats ? count : 1 };
}

function accuracyOf(logits: Tensor, targets: Tensor): { correct: number; count: number } {
  const best = argmax(logits, 1).toArray(), // [M]
    ts = targets.toArray();
  let correct = 0;
  for (let i = 0; i < best.length; i++) if (best[i] === ts[i]) correct++;
  return { correct, count: best.length };
}
