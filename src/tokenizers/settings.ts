/**
 * What `tokenizer_config.json` and `special_tokens_map.json` add to tokenizer.json: which tokens play the
 * special roles, the model's maximum length, padding/truncation sides and decoding cleanup. Where a file is
 * silent, the defaults of the matching transformers tokenizer class apply (BertTokenizer, GPT2Tokenizer,
 * RobertaTokenizer). Fields graft does not interpret are kept and written back.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FormatError } from "../util/errors.js";

export const SPECIAL_ROLES = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"] as const;
export type SpecialRole = (typeof SPECIAL_ROLES)[number];

/** Which transformers tokenizer's defaults apply. */
export type Family = "bert" | "gpt2" | "roberta" | "other";

export interface TokenizerSettings {
  family: Family;
  specialTokens: Partial<Record<SpecialRole, string>>;
  additionalSpecialTokens: string[];
  /** Longest input the model accepts; null when the tokenizer names none. */
  modelMaxLength: number | null;
  paddingSide: "right" | "left";
  truncationSide: "right" | "left";
  /** Undo the spaces WordPiece decoding leaves before punctuation ("hello ." → "hello."). */
  cleanUpTokenizationSpaces: boolean;
  tokenizerClass: string | null;
  /** tokenizer_config.json as read, for writing back what graft does not interpret. */
  raw: Record<string, unknown>;
}

const FAMILY_DEFAULTS: Record<
  Family,
  { special: Partial<Record<SpecialRole, string>>; cleanUp: boolean; tokenizerClass: string | null }
> = {
  bert: {
    special: { unk: "[UNK]", sep: "[SEP]", pad: "[PAD]", cls: "[CLS]", mask: "[MASK]" },
    cleanUp: true,
    tokenizerClass: "BertTokenizer",
  },
  gpt2: {
    special: { unk: "<|endoftext|>", bos: "<|endoftext|>", eos: "<|endoftext|>" },
    cleanUp: false,
    tokenizerClass: "GPT2Tokenizer",
  },
  roberta: {
    special: { bos: "<s>", eos: "</s>", sep: "</s>", cls: "<s>", unk: "<unk>", pad: "<pad>", mask: "<mask>" },
    cleanUp: false,
    tokenizerClass: "RobertaTokenizer",
  },
  other: { special: {}, cleanUp: false, tokenizerClass: null },
};

/** transformers' "no limit" sentinel for model_max_length is int(1e30). */
const NO_LIMIT = 1e29;

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new FormatError(`${path}: expected a JSON object`);
  return json as Record<string, unknown>;
}

/** A special token in a config file: a string, or an AddedToken object { content, ... }. */
function tokenText(v: unknown, where: string, key: string): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  throw new FormatError(`${where}: "${key}" must be a token string or { "content": ... }, got ${JSON.stringify(v)}`);
}

/** Guesses which transformers tokenizer a tokenizer.json (or tokenizer_class) corresponds to. */
export function guessFamily(
  tokenizerJson: Record<string, unknown> | null,
  tokenizerClass: string | null,
  modelType: string | null,
): Family {
  const cls = (tokenizerClass ?? "").replace(/Fast$/, "");
  if (/^(Bert|DistilBert|Electra)Tokenizer$/.test(cls)) return "bert";
  if (/^(Roberta|Longformer|Bart)Tokenizer$/.test(cls)) return "roberta";
  if (/^GPT2Tokenizer$/.test(cls)) return "gpt2";
  if (modelType === "bert" || modelType === "distilbert") return "bert";
  if (modelType === "roberta" || modelType === "bart") return "roberta";
  if (modelType === "gpt2") return "gpt2";
  const model = (tokenizerJson?.model ?? {}) as { type?: string; vocab?: Record<string, number> };
  const post = (tokenizerJson?.post_processor ?? {}) as { type?: string };
  if (model.type === "WordPiece") return "bert";
  if (model.type === "BPE" && post.type === "RobertaProcessing") return "roberta";
  if (model.type === "BPE" && model.vocab && "<|endoftext|>" in model.vocab) return "gpt2";
  return "other";
}

/**
 * Reads tokenizer_config.json and special_tokens_map.json from dir (either may be absent).
 * `family` picks the defaults for what they leave out.
 */
export function readSettings(dir: string, family: Family, fallback?: Record<string, unknown>): TokenizerSettings {
  const cfgPath = join(dir, "tokenizer_config.json");
  const mapPath = join(dir, "special_tokens_map.json");
  const cfg = readJson(cfgPath) ?? fallback ?? {};
  const map = readJson(mapPath) ?? {};
  return settingsFrom(cfg, map, family, cfgPath);
}

export function settingsFrom(
  cfg: Record<string, unknown>,
  map: Record<string, unknown>,
  family: Family,
  where = "tokenizer_config.json",
): TokenizerSettings {
  const d = FAMILY_DEFAULTS[family];
  const specialTokens: Partial<Record<SpecialRole, string>> = {};
  for (const role of SPECIAL_ROLES) {
    const key = `${role}_token`;
    const fromCfg = tokenText(cfg[key], where, key);
    const fromMap = tokenText(map[key], "special_tokens_map.json", key);
    const v = fromCfg !== undefined ? fromCfg : fromMap !== undefined ? fromMap : d.special[role];
    if (v !== null && v !== undefined) specialTokens[role] = v;
  }
  // transformers 5.x writes the list as extra_special_tokens (4.x used that name for a map of named tokens)
  const extra =
    cfg.additional_special_tokens ??
    (Array.isArray(cfg.extra_special_tokens) ? cfg.extra_special_tokens : undefined) ??
    map.additional_special_tokens ??
    [];
  if (!Array.isArray(extra)) throw new FormatError(`${where}: "additional_special_tokens" must be an array`);
  const additionalSpecialTokens = extra
    .map((t, i) => tokenText(t, where, `additional_special_tokens[${i}]`))
    .filter((t): t is string => typeof t === "string");

  const mml = cfg.model_max_length;
  if (mml !== undefined && mml !== null && (typeof mml !== "number" || !(mml > 0)))
    throw new FormatError(`${where}: "model_max_length" must be a positive number, got ${JSON.stringify(mml)}`);
  const side = (key: string): "left" | "right" => {
    const v = cfg[key] ?? "right";
    if (v !== "left" && v !== "right")
      throw new FormatError(`${where}: "${key}" must be "left" or "right", got ${JSON.stringify(v)}`);
    return v;
  };
  const cleanUp = cfg.clean_up_tokenization_spaces ?? d.cleanUp;
  if (typeof cleanUp !== "boolean")
    throw new FormatError(`${where}: "clean_up_tokenization_spaces" must be true or false`);
  return {
    family,
    specialTokens,
    additionalSpecialTokens,
    modelMaxLength: typeof mml === "number" && mml < NO_LIMIT ? Math.floor(mml) : null,
    paddingSide: side("padding_side"),
    truncationSide: side("truncation_side"),
    cleanUpTokenizationSpaces: cleanUp,
    tokenizerClass: typeof cfg.tokenizer_class === "string" ? cfg.tokenizer_class : d.tokenizerClass,
    raw: cfg,
  };
}

/** tokenizer_config.json and special_tokens_map.json contents for settings (transformers reads both). */
export function settingsToJson(s: TokenizerSettings): {
  config: Record<string, unknown>;
  map: Record<string, unknown>;
} {
  const map: Record<string, unknown> = {};
  for (const role of SPECIAL_ROLES)
    if (s.specialTokens[role] !== undefined) map[`${role}_token`] = s.specialTokens[role];
  if (s.additionalSpecialTokens.length > 0) map.additional_special_tokens = [...s.additionalSpecialTokens];
  const config: Record<string, unknown> = { ...s.raw };
  delete config.added_tokens_decoder; // tokenizer.json's added_tokens is the truth; a stale copy here would contradict it
  for (const role of SPECIAL_ROLES) delete config[`${role}_token`];
  // a 5.x list stays under its own name, so the file holds one list of them
  const extraList = Array.isArray(config.extra_special_tokens) && config.additional_special_tokens === undefined;
  Object.assign(config, map, {
    model_max_length: s.modelMaxLength ?? 1e30,
    padding_side: s.paddingSide,
    truncation_side: s.truncationSide,
    clean_up_tokenization_spaces: s.cleanUpTokenizationSpaces,
  });
  if (extraList) {
    delete config.additional_special_tokens;
    config.extra_special_tokens = [...s.additionalSpecialTokens];
  }
  if (s.tokenizerClass) config.tokenizer_class = s.tokenizerClass;
  return { config, map };
}
