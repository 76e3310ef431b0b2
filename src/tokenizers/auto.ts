/**
 * AutoTokenizer: the tokenizer of a model directory or hub id. tokenizer.json is used when present;
 * otherwise the vocabulary files of the slow tokenizer are converted (vocab.txt → WordPiece as BERT,
 * vocab.json + merges.txt → byte-level BPE as GPT-2 or RoBERTa), as transformers does.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FormatError } from "../util/errors.js";
import { resolveModelDir, type HubOptions } from "../io/hub.js";
import { readVocabTxt, wordPieceTokenizerJson, readBpeFiles, byteLevelBpeTokenizerJson } from "./convert.js";
import { guessFamily, readSettings, type Family } from "./settings.js";
import { Tokenizer } from "./tokenizer.js";

function readJsonIfExists(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const j = JSON.parse(readFileSync(path, "utf8"));
    return j && typeof j === "object" && !Array.isArray(j) ? j : null;
  } catch (e) {
    throw new FormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Loads the tokenizer stored in a local directory. */
export function loadTokenizer(dir: string): Tokenizer {
  const tokPath = join(dir, "tokenizer.json");
  const cfg = readJsonIfExists(join(dir, "tokenizer_config.json"));
  const modelCfg = readJsonIfExists(join(dir, "config.json"));
  const tokenizerClass = typeof cfg?.tokenizer_class === "string" ? cfg.tokenizer_class : null;
  const modelType = typeof modelCfg?.model_type === "string" ? modelCfg.model_type : null;

  if (existsSync(tokPath)) {
    const text = readFileSync(tokPath, "utf8");
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new FormatError(`${tokPath}: not valid JSON (${(e as Error).message})`);
    }
    const family = guessFamily(json, tokenizerClass, modelType);
    return new Tokenizer(text, readSettings(dir, family), tokPath);
  }

  const family: Family = guessFamily(null, tokenizerClass, modelType);
  const vocabTxt = join(dir, "vocab.txt");
  const vocabJson = join(dir, "vocab.json");
  const merges = join(dir, "merges.txt");
  if (existsSync(vocabTxt) && (family === "bert" || family === "other")) {
    const settings = readSettings(dir, "bert");
    const lower = cfg?.do_lower_case ?? true;
    const stripAccents = cfg?.strip_accents ?? null;
    const cjk = cfg?.tokenize_chinese_chars ?? true;
    if (
      typeof lower !== "boolean" ||
      (stripAccents !== null && typeof stripAccents !== "boolean") ||
      typeof cjk !== "boolean"
    ) {
      throw new FormatError(
        `${join(dir, "tokenizer_config.json")}: do_lower_case, strip_accents and tokenize_chinese_chars must be true/false (strip_accents may be null)`,
      );
    }
    const sp = settings.specialTokens;
    const json = wordPieceTokenizerJson(
      readVocabTxt(vocabTxt),
      {
        lowercase: lower,
        stripAccents: stripAccents as boolean | null,
        handleChineseChars: cjk,
        ...(sp.unk ? { unkToken: sp.unk } : {}),
        ...(sp.cls ? { clsToken: sp.cls } : {}),
        ...(sp.sep ? { sepToken: sp.sep } : {}),
        ...(sp.pad ? { padToken: sp.pad } : {}),
        ...(sp.mask ? { maskToken: sp.mask } : {}),
      },
      vocabTxt,
    );
    return new Tokenizer(JSON.stringify(json), settings, vocabTxt);
  }
  if (existsSync(vocabJson) && existsSync(merges)) {
    const { vocab, merges: m } = readBpeFiles(vocabJson, merges);
    const flavor =
      family === "roberta" || (family === "other" && "<s>" in vocab && "</s>" in vocab) ? "roberta" : "gpt2";
    const settings = readSettings(dir, flavor);
    const addPrefixSpace = cfg?.add_prefix_space ?? false;
    if (typeof addPrefixSpace !== "boolean")
      throw new FormatError(`${join(dir, "tokenizer_config.json")}: add_prefix_space must be true or false`);
    const specials = Object.values(settings.specialTokens).concat(settings.additionalSpecialTokens);
    const json = byteLevelBpeTokenizerJson(
      vocab,
      m,
      { flavor, addPrefixSpace, specialTokens: [...new Set(specials)] },
      vocabJson,
    );
    return new Tokenizer(JSON.stringify(json), settings, vocabJson);
  }
  const found = existsSync(dir) ? readdirSync(dir).join(", ") : "(no such directory)";
  throw new FormatError(
    `${dir}: no tokenizer.json, vocab.txt, or vocab.json + merges.txt (found: ${found || "nothing"})`,
    "a model directory saved by graft or transformers has tokenizer.json",
  );
}

export const AutoTokenizer = {
  /** The tokenizer of a local model directory, or of a hub model (downloading only its tokenizer files). */
  async fromPretrained(idOrPath: string, opts: HubOptions = {}): Promise<Tokenizer> {
    const dir = await resolveModelDir(idOrPath, { ...opts, want: ["tokenizer"] });
    return loadTokenizer(dir);
  },
};
