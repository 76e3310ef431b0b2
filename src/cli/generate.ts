/**
 * `graft generate`: the continuation of a prompt from a model directory (a causal LM such as GPT-2, or an
 * encoder-decoder such as T5/BART: then the output is what the decoder writes for the input). Prompts come from
 * --prompt, else one per line of stdin; each result is printed as soon as it is done (greedy and sampled text is
 * streamed token by token). The model directory's generation_config.json sets the defaults; flags win.
 *
 * Also the model loading and generation flags `graft chat` shares (loadTextGenerator, GENERATION_FLAGS).
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { opt, type Resolved, switchesOnly } from "../util/options.js";
import {
  type CausalLM,
  type GenerateOptions,
  type GenerativeModel,
  fromPretrainedDir,
  generate,
  generateStream,
  isHeadClass,
  isSeq2SeqLM,
  modelClassForArchitecture,
  readConfig,
  AutoModelForCausalLM,
} from "../models/index.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { addOptions, resolveFlags } from "./options.js";

/** Sampling and search flags shared by `graft generate` and `graft chat`; left out, the model's generation_config.json decides. */
export const GENERATION_FLAGS = {
  doSample: opt.boolean({ help: "sample instead of greedy decoding (or beam search)" }),
  temperature: opt.number({ gt: 0, flag: "--temperature <t>", help: "sampling temperature", defaultHelp: "1" }),
  topK: opt.integer({
    min: 0,
    flag: "--top-k <k>",
    help: "sample among the k most likely tokens, 0 = all",
    defaultHelp: "50",
  }),
  topP: opt.number({ gt: 0, max: 1, flag: "--top-p <p>", help: "nucleus sampling mass", defaultHelp: "1" }),
  minP: opt.number({
    min: 0,
    max: 1,
    flag: "--min-p <p>",
    help: "sample among tokens at least p × as likely as the best",
    defaultHelp: "off",
  }),
  repetitionPenalty: opt.number({
    gt: 0,
    flag: "--repetition-penalty <x>",
    help: "> 1 makes tokens already in the text less likely",
    defaultHelp: "1",
  }),
  noRepeatNgramSize: opt.integer({
    min: 0,
    flag: "--no-repeat-ngram-size <n>",
    help: "no n-gram of this size twice",
    defaultHelp: "0",
  }),
  stop: opt.list("string", { flag: "--stop <strings...>", help: "stop when the text contains one of these" }),
  seed: opt.integer({ default: 0, help: "seed of the sampling generator" }),
  allowNonfinite: opt.boolean({
    flag: "--allow-nonfinite",
    help: "load a model whose weights hold NaN or Infinity (refused otherwise), to inspect it",
  }),
};

/** `graft generate`'s flags (no config file). */
export const GENERATE_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "model directory (config.json, weights, tokenizer)",
  }),
  prompt: opt.string({ flag: "--prompt <text>", help: "the text to continue", defaultHelp: "each line of stdin" }),
  maxNewTokens: opt.integer({
    min: 0,
    flag: "--max-new-tokens <n>",
    help: "tokens to generate",
    defaultHelp: "generation_config.json, else 20",
  }),
  minNewTokens: opt.integer({ min: 0, flag: "--min-new-tokens <n>", help: "no end token before this many" }),
  numBeams: opt.integer({ gt: 0, flag: "--num-beams <n>", help: "beam search with n beams", defaultHelp: "1" }),
  lengthPenalty: opt.number({
    flag: "--length-penalty <x>",
    help: "beam search: scores divide by length ** x",
    defaultHelp: "1",
  }),
  numReturnSequences: opt.integer({
    gt: 0,
    flag: "--num-return-sequences <n>",
    help: "beam search: print the n best",
    defaultHelp: "1",
  }),
  json: opt.boolean({ help: "print one JSON object per prompt (prompt, generated texts, token ids, beam scores)" }),
  ...GENERATION_FLAGS,
});

type GenerationFlags = Resolved<typeof GENERATE_SWITCHES>;

/** A model that writes text, with its tokenizer. */
export interface TextGenerator {
  model: GenerativeModel;
  tokenizer: Tokenizer;
  /** An encoder-decoder (the prompt is the encoder's input) rather than a decoder that continues it. */
  seq2seq: boolean;
  /** The prompt's token ids (with the special tokens the tokenizer adds, as transformers' tokenizer(text) does). */
  encode(text: string): Promise<number[]>;
  /** Text of token ids, special tokens left out. */
  decode(ids: readonly number[]): Promise<string>;
  /** The longest prompt + reply the model can read (null: unbounded). */
  maxPositions: number | null;
}

/** Loads a model directory that generates text: a causal LM or an encoder-decoder, and its tokenizer. */
export function loadTextGenerator(dir: string, opts: { allowNonFinite?: boolean } = {}): TextGenerator {
  const config = readConfig(dir);
  const cls = modelClassForArchitecture(config);
  let model: GenerativeModel;
  if (cls && (isHeadClass(cls, "causal-lm") || isHeadClass(cls, "seq2seq-lm")))
    model = fromPretrainedDir(cls, dir, { allowNonFinite: opts.allowNonFinite }) as unknown as GenerativeModel;
  else if (!cls && !config.architectures?.length)
    model = AutoModelForCausalLM.fromPretrainedDir(dir, { allowNonFinite: opts.allowNonFinite }) as GenerativeModel;
  else
    throw new GraftError(
      `${dir} holds a ${config.architectures?.join(", ")}, which does not generate text`,
      "generate runs causal language models (GPT2LMHeadModel, GraftLstmForCausalLM, …) and encoder-decoders",
    );
  const tokenizer = loadTokenizer(dir);
  const seq2seq = isSeq2SeqLM(model);
  return {
    model,
    tokenizer,
    seq2seq,
    encode: async (text) => Array.from((await tokenizer.encode(text)).ids),
    decode: (ids) => tokenizer.decode([...ids], { skipSpecialTokens: true }),
    maxPositions: seq2seq ? null : (model as CausalLM).maxPositions,
  };
}

/** The shared flags as generate options: only what was given, so generation_config.json fills the rest. */
export function generationOptions(f: Partial<Resolved<typeof GENERATION_FLAGS>>): GenerateOptions {
  return {
    doSample: f.doSample || undefined,
    temperature: f.temperature ?? undefined,
    topK: f.topK ?? undefined,
    topP: f.topP ?? undefined,
    minP: f.minP ?? undefined,
    repetitionPenalty: f.repetitionPenalty ?? undefined,
    noRepeatNgramSize: f.noRepeatNgramSize ?? undefined,
    stopStrings: f.stop?.length ? f.stop : undefined,
    rng: new Rng(f.seed ?? 0),
  };
}

async function* stdinLines(): AsyncGenerator<string> {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) yield line;
}

/** Generates for one prompt and writes the result; greedy/sampled text is written as it comes. */
async function generateOne(g: TextGenerator, text: string, f: GenerationFlags, base: GenerateOptions): Promise<void> {
  const ids = await g.encode(text);
  if (ids.length === 0 && !g.seq2seq)
    throw new GraftError(`the prompt "${text}" encodes to no tokens; a language model needs a prompt`);
  const opts: GenerateOptions = {
    ...base,
    maxNewTokens: f.maxNewTokens ?? undefined,
    minNewTokens: f.minNewTokens ?? undefined,
    numBeams: f.numBeams ?? undefined,
    lengthPenalty: f.lengthPenalty ?? undefined,
    numReturnSequences: f.numReturnSequences ?? undefined,
  };
  const beams = (f.numBeams ?? 1) > 1 || (f.numReturnSequences ?? 1) > 1;
  if (beams) {
    if (opts.stopStrings) throw new GraftError("--stop works with greedy decoding and sampling, not --num-beams");
    const out = generate(g.model, [ids], opts);
    const texts = await Promise.all(out.newTokens.map((t) => g.decode(t)));
    if (f.json)
      process.stdout.write(
        `${JSON.stringify({ prompt: text, generated: texts, tokens: out.newTokens, scores: out.sequencesScores })}\n`,
      );
    else for (const t of texts) process.stdout.write(`${t}\n`);
    return;
  }
  const { decode: _sync, ...streamOpts } = opts;
  let generated = "";
  let tokens: number[] = [];
  let reason: string | undefined;
  for await (const c of generateStream(g.model, ids, { ...streamOpts, decode: (i) => g.decode(i) })) {
    generated += c.text;
    tokens = c.tokenIds;
    reason = c.reason;
    if (!f.json && c.text) process.stdout.write(c.text);
  }
  if (f.json) process.stdout.write(`${JSON.stringify({ prompt: text, generated, tokens, stopped: reason })}\n`);
  else process.stdout.write("\n");
}

export function register(program: Command): void {
  const cmd = program
    .command("generate")
    .description("continue a prompt with a language model (or transform it with an encoder-decoder)");
  addOptions(cmd, GENERATE_SWITCHES)
    .addHelpText(
      "after",
      '\nExamples:\n  graft generate --model runs/gpt2/best --prompt "Once upon a time" --max-new-tokens 30\n  graft generate --model runs/gpt2/best --prompt "Once upon a time" --do-sample --top-p 0.9 --seed 1\n  graft generate --model runs/t5/best --num-beams 4 < sources.txt\n',
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(GENERATE_SWITCHES, command);
      const g = loadTextGenerator(f.model, { allowNonFinite: f.allowNonfinite });
      const base = generationOptions(f);
      if (f.prompt !== undefined && f.prompt !== null) await generateOne(g, f.prompt, f, base);
      else for await (const line of stdinLines()) if (line.trim() !== "") await generateOne(g, line, f, base);
    });
}
