/**
 * Builds a `tokenizer.json` from the vocabulary files of a "slow" tokenizer, as transformers'
 * convert_slow_tokenizer does (BertConverter, GPT2Converter, RobertaConverter), for model directories
 * that ship only `vocab.txt` (WordPiece) or `vocab.json` + `merges.txt` (byte-level BPE).
 */
import { readFileSync } from "node:fs";
import { FormatError } from "../util/errors.js";

export type TokenizerJson = Record<string, unknown>;

export interface WordPieceOptions {
  /** BertTokenizer's do_lower_case (default true). */
  lowercase?: boolean;
  /** Strip accents; null (the default) follows `lowercase`, as BertNormalizer does. */
  stripAccents?: boolean | null;
  /** Put spaces around CJK characters so each is its own word (default true). */
  handleChineseChars?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
}

export interface ByteLevelBpeOptions {
  /** GPT-2 style (plain ByteLevel post-processing) or RoBERTa style (`<s> A </s></s> B </s>`). */
  flavor?: "gpt2" | "roberta";
  addPrefixSpace?: boolean;
  /** Tokens matched before the model runs, e.g. `<|endoftext|>` (default: the flavor's specials present in the vocabulary). */
  specialTokens?: string[];
}

function addedToken(id: number, content: string, opts: { normalized?: boolean; lstrip?: boolean } = {}) {
  return {
    id,
    content,
    single_word: false,
    lstrip: opts.lstrip ?? false,
    rstrip: false,
    normalized: opts.normalized ?? false,
    special: true,
  };
}

/** vocab.txt as BertTokenizer's load_vocab reads it: one token per line, its index the id (a repeated token keeps the last). */
export function readVocabTxt(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FormatError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new FormatError(`${path}: the vocabulary is empty`);
  const vocab = new Map<string, number>();
  lines.forEach((tok, i) => vocab.set(tok, i));
  return vocab;
}

export function wordPieceTokenizerJson(
  vocab: Map<string, number>,
  opts: WordPieceOptions = {},
  where = "vocab.txt",
): TokenizerJson {
  const sp = {
    unk: opts.unkToken ?? "[UNK]",
    cls: opts.clsToken ?? "[CLS]",
    sep: opts.sepToken ?? "[SEP]",
    pad: opts.padToken ?? "[PAD]",
    mask: opts.maskToken ?? "[MASK]",
  };
  const id = (t: string, role: string): number => {
    const v = vocab.get(t);
    if (v === undefined) throw new FormatError(`${where}: the ${role} token "${t}" is not in the vocabulary`);
    return v;
  };
  const cls = id(sp.cls, "cls"),
    sep = id(sp.sep, "sep");
  id(sp.unk, "unk");
  const specials = [sp.pad, sp.unk, sp.cls, sp.sep, sp.mask].filter((t, i, a) => vocab.has(t) && a.indexOf(t) === i);
  const lowercase = opts.lowercase ?? true;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => addedToken(vocab.get(t)!, t)).sort((a, b) => a.id - b.id),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: opts.handleChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: sp.cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sp.sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: sp.cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sp.sep, type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: sp.sep, type_id: 1 } },
      ],
      special_tokens: {
        [sp.cls]: { id: sp.cls, ids: [cls], tokens: [sp.cls] },
        [sp.sep]: { id: sp.sep, ids: [sep], tokens: [sp.sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: sp.unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/** vocab.json (token → id) and merges.txt (one "a b" pair per line after an optional #version header). */
export function readBpeFiles(
  vocabPath: string,
  mergesPath: string,
): { vocab: Record<string, number>; merges: [string, string][] } {
  let vocab: unknown;
  try {
    vocab = JSON.parse(readFileSync(vocabPath, "utf8"));
  } catch (e) {
    throw new FormatError(`${vocabPath}: cannot read the BPE vocabulary (${(e as Error).message})`);
  }
  if (!vocab || typeof vocab !== "object" || Array.isArray(vocab))
    throw new FormatError(`${vocabPath}: expected a JSON object { token: id }`);
  for (const [t, i] of Object.entries(vocab))
    if (!Number.isSafeInteger(i) || (i as number) < 0)
      throw new FormatError(
        `${vocabPath}: token ${JSON.stringify(t)} has id ${JSON.stringify(i)}, not a non-negative integer`,
      );
  let text: string;
  try {
    text = readFileSync(mergesPath, "utf8");
  } catch (e) {
    throw new FormatError(`${mergesPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const merges: [string, string][] = [];
  text.split("\n").forEach((line, i) => {
    if ((i === 0 && line.startsWith("#version")) || line.trim() === "") return;
    const parts = line.split(" ");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "")
      throw new FormatError(`${mergesPath}: line ${i + 1} is not a merge "a b": ${JSON.stringify(line)}`);
    merges.push([parts[0]!, parts[1]!]);
  });
  return { vocab: vocab as Record<string, number>, merges };
}

export function byteLevelBpeTokenizerJson(
  vocab: Record<string, number>,
  merges: [string, string][],
  opts: ByteLevelBpeOptions = {},
  where = "vocab.json",
): TokenizerJson {
  const flavor = opts.flavor ?? "gpt2";
  const addPrefixSpace = opts.addPrefixSpace ?? false;
  const defaults = flavor === "roberta" ? ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] : ["<|endoftext|>"];
  const specials = (opts.specialTokens ?? defaults).filter((t) => t in vocab);
  const byteLevel = { type: "ByteLevel", add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true };
  let postProcessor: Record<string, unknown>;
  if (flavor === "roberta") {
    for (const t of ["<s>", "</s>"])
      if (!(t in vocab)) throw new FormatError(`${where}: RoBERTa's "${t}" token is not in the vocabulary`);
    postProcessor = {
      type: "RobertaProcessing",
      sep: ["</s>", vocab["</s>"]],
      cls: ["<s>", vocab["<s>"]],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    };
  } else {
    postProcessor = { ...byteLevel, trim_offsets: false };
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    // RoBERTa's <mask> swallows the space before it (lstrip), as its AddedToken is declared in transformers
    added_tokens: specials
      .map((t) => addedToken(vocab[t]!, t, { normalized: flavor === "gpt2", lstrip: t === "<mask>" }))
      .sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
