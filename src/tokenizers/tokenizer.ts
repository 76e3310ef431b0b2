/**
 * A pretrained tokenizer with the interface transformers users know: encode / encodeBatch with padding,
 * truncation (longest-first for pairs), attention masks, token type ids, offsets and word ids; decode;
 * the special token ids; save. Tokenization itself runs in Hugging Face's Rust core (./engine.ts), so ids
 * equal those of transformers' fast tokenizers by construction.
 *
 * Offsets are UTF-16 positions [start, end) into the text (or pair text) the token came from, so
 * `text.slice(start, end)` is the token's source; the engine reports code points, converted here.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ArgumentError, GraftError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { Tensor } from "../tensor/index.js";
import { engine, parseTokenizerJson, type RsEncoding, type RsTokenizer } from "./engine.js";
import { SPECIAL_ROLES, settingsToJson, type SpecialRole, type TokenizerSettings } from "./settings.js";
import { BatchEncoding, type Encoding, type PadPlan } from "./batch.js";

export { BatchEncoding, type Encoding } from "./batch.js";

export type Truncation = boolean | "longest_first" | "only_first" | "only_second";
export type Padding = boolean | "longest" | "max_length" | "do_not_pad";

export interface EncodeOptions {
  /** Add [CLS]/[SEP], <s>/</s>, ... as the tokenizer's post-processor says (default true). */
  addSpecialTokens?: boolean;
  /** true = longest_first: drop tokens from the longer of the pair first, one at a time. */
  truncation?: Truncation;
  /** Length limit for truncation and "max_length" padding, special tokens included (default: modelMaxLength). */
  maxLength?: number;
  /** true = pad to the longest in the batch; "max_length" = pad to maxLength. */
  padding?: Padding;
  /** Round the padded length up to a multiple of this (e.g. 8). */
  padToMultipleOf?: number;
}

export interface BatchOptions extends EncodeOptions {
  /** Second sequences, one per text (sentence pairs, question/context). */
  pairs?: readonly string[];
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Default: the tokenizer's clean_up_tokenization_spaces setting. */
  cleanUpTokenizationSpaces?: boolean;
}

/** transformers' clean_up_tokenization: joins the pieces WordPiece decoding leaves apart. */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Pair encodings in flight at once (each is one task on libuv's thread pool). */
const PAIR_CHUNK = 64;

const STRATEGY = { longest_first: "LongestFirst", only_first: "OnlyFirst", only_second: "OnlySecond" } as const;

export class Tokenizer {
  private json: string;
  private base: RsTokenizer;
  /** Engines configured for one truncation setting each (the engine keeps truncation as state). */
  private truncating = new Map<string, RsTokenizer>();
  readonly settings: TokenizerSettings;
  /** Where it was loaded from, for messages. */
  readonly source: string;

  constructor(tokenizerJson: string, settings: TokenizerSettings, source = "tokenizer.json") {
    this.json = tokenizerJson;
    this.base = parseTokenizerJson(tokenizerJson, source);
    this.base.disableTruncation();
    this.base.disablePadding();
    this.settings = settings;
    this.source = source;
  }

  // ---- vocabulary and special tokens

  /** Number of ids, added tokens included (the size an embedding matrix needs; transformers' len(tokenizer)). */
  get vocabSize(): number {
    return this.base.getVocabSize(true);
  }

  getVocab(): Record<string, number> {
    return this.base.getVocab(true);
  }

  tokenToId(token: string): number | null {
    return this.base.tokenToId(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.base.idToToken(id) ?? null;
  }

  specialToken(role: SpecialRole): string | null {
    return this.settings.specialTokens[role] ?? null;
  }

  specialTokenId(role: SpecialRole): number | null {
    const t = this.settings.specialTokens[role];
    return t === undefined ? null : this.tokenToId(t);
  }

  get padTokenId(): number | null {
    return this.specialTokenId("pad");
  }
  get clsTokenId(): number | null {
    return this.specialTokenId("cls");
  }
  get sepTokenId(): number | null {
    return this.specialTokenId("sep");
  }
  get unkTokenId(): number | null {
    return this.specialTokenId("unk");
  }
  get maskTokenId(): number | null {
    return this.specialTokenId("mask");
  }
  get bosTokenId(): number | null {
    return this.specialTokenId("bos");
  }
  get eosTokenId(): number | null {
    return this.specialTokenId("eos");
  }
  get padToken(): string | null {
    return this.specialToken("pad");
  }
  get modelMaxLength(): number | null {
    return this.settings.modelMaxLength;
  }

  /** Ids of every special token (roles and additional ones). */
  get allSpecialIds(): number[] {
    const toks = [
      ...SPECIAL_ROLES.map((r) => this.settings.specialTokens[r]),
      ...this.settings.additionalSpecialTokens,
    ];
    return [
      ...new Set(
        toks
          .filter((t): t is string => t !== undefined)
          .map((t) => this.tokenToId(t))
          .filter((i): i is number => i !== null),
      ),
    ];
  }

  /**
   * Gives a special role to a token, adding it to the vocabulary (as a special token) if it is new.
   * The usual GPT-2 fine-tuning step: `tok.setSpecialToken("pad", tok.specialToken("eos")!)`.
   */
  setSpecialToken(role: SpecialRole, token: string): void {
    if (this.tokenToId(token) === null || !this.isAddedToken(token)) this.addTokens([token], { special: true });
    this.settings.specialTokens[role] = token;
  }

  /** Adds tokens matched whole before the model runs; returns how many were new. Grow the model's embeddings to vocabSize after. */
  addTokens(tokens: readonly string[], opts: { special?: boolean } = {}): number {
    const before = this.vocabSize;
    const e = engine();
    this.base.addAddedTokens(
      tokens.map((t) => new e.AddedToken(t, opts.special ?? false, { normalized: !(opts.special ?? false) })),
    );
    if (opts.special)
      for (const t of tokens)
        if (
          !this.settings.additionalSpecialTokens.includes(t) &&
          !Object.values(this.settings.specialTokens).includes(t)
        )
          this.settings.additionalSpecialTokens.push(t);
    this.json = this.engineJson();
    this.truncating.clear();
    return this.vocabSize - before;
  }

  private isAddedToken(token: string): boolean {
    const added = (JSON.parse(this.json) as { added_tokens?: { content: string }[] }).added_tokens ?? [];
    return added.some((a) => a.content === token);
  }

  /** The engine's current state as tokenizer.json text (it can only save to a file). */
  private engineJson(): string {
    const dir = join(tmpdir(), `graft-tok-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir, { recursive: true });
    try {
      this.base.save(join(dir, "tokenizer.json"), false);
      return readFileSync(join(dir, "tokenizer.json"), "utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // ---- encoding

  private checkOptions(opts: EncodeOptions): {
    maxLength: number | null;
    truncate: keyof typeof STRATEGY | null;
    pad: "longest" | "max_length" | null;
  } {
    const truncate =
      opts.truncation === true
        ? "longest_first"
        : opts.truncation === false || opts.truncation === undefined
          ? null
          : opts.truncation;
    if (truncate !== null && !(truncate in STRATEGY))
      throw new ArgumentError(
        `truncation must be true, false, "longest_first", "only_first" or "only_second", got ${JSON.stringify(opts.truncation)}`,
      );
    const pad =
      opts.padding === true || opts.padding === "longest"
        ? "longest"
        : opts.padding === "max_length"
          ? "max_length"
          : opts.padding === false || opts.padding === undefined || opts.padding === "do_not_pad"
            ? null
            : undefined;
    if (pad === undefined)
      throw new ArgumentError(
        `padding must be true, false, "longest", "max_length" or "do_not_pad", got ${JSON.stringify(opts.padding)}`,
      );
    let maxLength = opts.maxLength ?? null;
    if (maxLength !== null && (!Number.isInteger(maxLength) || maxLength < 1))
      throw new ArgumentError(`maxLength must be a positive integer, got ${maxLength}`);
    if ((truncate !== null || pad === "max_length") && maxLength === null) {
      maxLength = this.settings.modelMaxLength;
      if (maxLength === null) {
        throw new ArgumentError(
          `${truncate !== null ? "truncation" : "padding to max_length"} needs a maxLength: ${this.source} names no model_max_length`,
          "pass maxLength",
        );
      }
    }
    if (opts.padToMultipleOf !== undefined && (!Number.isInteger(opts.padToMultipleOf) || opts.padToMultipleOf < 1)) {
      throw new ArgumentError(`padToMultipleOf must be a positive integer, got ${opts.padToMultipleOf}`);
    }
    if (pad !== null && this.padTokenId === null) {
      throw new ArgumentError(
        `padding needs a pad token, and ${this.source} has none`,
        `set one, e.g. tokenizer.setSpecialToken("pad", ${this.specialToken("eos") ? `"${this.specialToken("eos")}"` : `"[PAD]"`}), or encode without padding`,
      );
    }
    return { maxLength, truncate, pad };
  }

  private engineFor(truncate: keyof typeof STRATEGY | null, maxLength: number | null): RsTokenizer {
    if (truncate === null || maxLength === null) return this.base;
    const key = `${truncate}:${maxLength}:${this.settings.truncationSide}`;
    let t = this.truncating.get(key);
    if (!t) {
      t = parseTokenizerJson(this.json, this.source, true); // the constructor checked this document
      t.disablePadding();
      t.setTruncation(maxLength, { strategy: STRATEGY[truncate] as never, direction: this.settings.truncationSide });
      if (this.truncating.size >= 8) this.truncating.delete(this.truncating.keys().next().value!);
      this.truncating.set(key, t);
    }
    return t;
  }

  /** Encodes one text (or a text pair). */
  async encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Promise<Encoding> {
    const b = await this.encodeBatch([text], {
      ...opts,
      ...(pair !== undefined && pair !== null ? { pairs: [pair] } : {}),
    });
    return b.row(0);
  }

  /** Encodes many texts (in parallel in the engine), padded and truncated as asked. */
  async encodeBatch(texts: readonly string[], opts: BatchOptions = {}): Promise<BatchEncoding> {
    if (!Array.isArray(texts)) throw new ArgumentError("encodeBatch: texts must be an array of strings");
    texts.forEach((t, i) => {
      if (typeof t !== "string")
        throw new ArgumentError(`encodeBatch: texts[${i}] is ${t === null ? "null" : typeof t}, not a string`);
    });
    const pairs = opts.pairs;
    if (pairs !== undefined) {
      if (pairs.length !== texts.length)
        throw new ArgumentError(`encodeBatch: ${texts.length} texts but ${pairs.length} pairs`);
      pairs.forEach((t, i) => {
        if (typeof t !== "string")
          throw new ArgumentError(`encodeBatch: pairs[${i}] is ${t === null ? "null" : typeof t}, not a string`);
      });
    }
    const { maxLength, truncate, pad } = this.checkOptions(opts);
    const eng = this.engineFor(truncate, maxLength);
    const encodeOpts = { addSpecialTokens: opts.addSpecialTokens ?? true };
    let encodings: RsEncoding[];
    try {
      if (texts.length === 0) encodings = [];
      else if (!pairs) encodings = await eng.encodeBatch([...texts], encodeOpts);
      else {
        // the Node binding batches single texts only; pairs go one call each, a bounded number in flight
        encodings = [];
        for (let i = 0; i < texts.length; i += PAIR_CHUNK) {
          const chunk = texts.slice(i, i + PAIR_CHUNK).map((t, k) => eng.encode(t, pairs[i + k]!, encodeOpts));
          encodings.push(...(await Promise.all(chunk)));
        }
      }
    } catch (e) {
      throw new ArgumentError(
        `${this.source}: the tokenizer refused the input (${(e as Error).message})`,
        truncate !== null
          ? "maxLength may be too small for the special tokens, or the strategy impossible for this pair"
          : undefined,
      );
    }
    let plan: PadPlan | null = null;
    if (pad !== null) {
      const longest = Math.max(0, ...encodings.map((e) => e.getLength()));
      // like transformers, "max_length" leaves a longer (untruncated) row as it is
      const length = pad === "max_length" ? maxLength! : longest;
      const multiple = opts.padToMultipleOf;
      plan = {
        length: multiple ? Math.ceil(length / multiple) * multiple : length,
        left: this.settings.paddingSide === "left",
        id: this.padTokenId!,
        token: this.padToken!,
      };
    }
    return new BatchEncoding(encodings, texts, pairs, plan);
  }

  /** Tokens of a text without special tokens (transformers' tokenizer.tokenize). */
  async tokenize(text: string): Promise<string[]> {
    return (await this.encode(text, null, { addSpecialTokens: false })).tokens;
  }

  // ---- decoding

  private checkIds(ids: readonly number[], where: string): number[] {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids))
      throw new ArgumentError(`${where}: ids must be an array of token ids`);
    const out = Array.from(ids as ArrayLike<number>);
    out.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
        throw new ArgumentError(`${where}: ids[${i}] = ${id} is not a token id`);
    });
    return out;
  }

  async decode(ids: readonly number[] | Int32Array, opts: DecodeOptions = {}): Promise<string> {
    const text = await this.base.decode(this.checkIds(ids as number[], "decode"), opts.skipSpecialTokens ?? false);
    return (opts.cleanUpTokenizationSpaces ?? this.settings.cleanUpTokenizationSpaces)
      ? cleanUpTokenization(text)
      : text;
  }

  async decodeBatch(batch: readonly (readonly number[] | Int32Array)[], opts: DecodeOptions = {}): Promise<string[]> {
    const texts = await this.base.decodeBatch(
      batch.map((ids, i) => this.checkIds(ids as number[], `decodeBatch[${i}]`)),
      opts.skipSpecialTokens ?? false,
    );
    return (opts.cleanUpTokenizationSpaces ?? this.settings.cleanUpTokenizationSpaces)
      ? texts.map(cleanUpTokenization)
      : texts;
  }

  private specialAdded: Set<number> | null = null;

  /**
   * decode without awaiting (callers inside a synchronous loop, e.g. evaluation by generation): the engine's own
   * decoder on the ids' tokens, as its decode does, skipping the tokens tokenizer.json marks special when asked.
   */
  decodeSync(ids: readonly number[] | Int32Array, opts: DecodeOptions = {}): string {
    if (opts.skipSpecialTokens && !this.specialAdded) {
      const added = (this.toJSON().added_tokens ?? []) as { id: number; special?: boolean }[];
      this.specialAdded = new Set(added.filter((t) => t.special).map((t) => t.id));
    }
    const tokens: string[] = [];
    for (const id of this.checkIds(ids as number[], "decodeSync")) {
      if (opts.skipSpecialTokens && this.specialAdded!.has(id)) continue;
      const t = this.base.idToToken(id);
      if (t !== null && t !== undefined) tokens.push(t);
    }
    const decoder = this.base.getDecoder();
    const text = decoder ? decoder.decode(tokens) : tokens.join(" ");
    return (opts.cleanUpTokenizationSpaces ?? this.settings.cleanUpTokenizationSpaces)
      ? cleanUpTokenization(text)
      : text;
  }

  // ---- saving

  /** The tokenizer.json document. */
  toJSON(): Record<string, unknown> {
    return JSON.parse(this.json) as Record<string, unknown>;
  }

  /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json (what transformers' AutoTokenizer reads). */
  save(dir: string): string[] {
    const { config, map } = settingsToJson(this.settings);
    writeFileAtomic(join(dir, "tokenizer.json"), this.json);
    writeJsonAtomic(join(dir, "tokenizer_config.json"), config);
    writeJsonAtomic(join(dir, "special_tokens_map.json"), map);
    return ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
  }
}

/**
 * The model inputs of a padded batch as [batch, length] i32 tensors.
 * Rows must have equal length: encode with `padding` first.
 */
export function batchToTensors(b: Pick<BatchEncoding, "inputIds" | "attentionMask" | "tokenTypeIds">): {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds: Tensor;
} {
  const rows = b.inputIds.length;
  const len = rows === 0 ? 0 : b.inputIds[0]!.length;
  b.inputIds.forEach((r, i) => {
    if (r.length !== len)
      throw new GraftError(
        `batchToTensors: row ${i} has ${r.length} tokens, row 0 has ${len}`,
        "encode with padding: true",
      );
  });
  const flat = (m: number[][]) => {
    const a = new Int32Array(rows * len);
    m.forEach((r, i) => a.set(r, i * len));
    return new Tensor(a, [rows, len]);
  };
  return { inputIds: flat(b.inputIds), attentionMask: flat(b.attentionMask), tokenTypeIds: flat(b.tokenTypeIds) };
}
