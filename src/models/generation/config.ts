/**
 * generation_config.json, as transformers reads and writes it: the defaults of generate() kept beside a model's
 * config.json (transformers 5 keeps generation settings there, not in config.json). Fields graft uses are
 * validated; fields transformers knows but graft does not use are kept (and written back); anything else is an
 * error naming the file and the field.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DataError } from "../../util/errors.js";
import { didYouMean } from "../../util/suggest.js";
import type { GenerateOptions, GenerationConfig } from "./options.js";

export type { GenerationConfig };

export const GENERATION_CONFIG_NAME = "generation_config.json";

type Kind = "int" | "posInt" | "number" | "bool" | "earlyStopping" | "ids" | "id" | "strings" | "prob";

/** The fields graft's generate uses: transformers' name → [GenerateOptions name, kind]. */
const USED: Record<string, [keyof GenerateOptions, Kind]> = {
  max_new_tokens: ["maxNewTokens", "int"],
  max_length: ["maxLength", "int"],
  min_new_tokens: ["minNewTokens", "int"],
  min_length: ["minLength", "int"],
  do_sample: ["doSample", "bool"],
  temperature: ["temperature", "number"],
  top_k: ["topK", "int"],
  top_p: ["topP", "prob"],
  min_p: ["minP", "prob"],
  repetition_penalty: ["repetitionPenalty", "number"],
  no_repeat_ngram_size: ["noRepeatNgramSize", "int"],
  num_beams: ["numBeams", "posInt"],
  length_penalty: ["lengthPenalty", "number"],
  early_stopping: ["earlyStopping", "earlyStopping"],
  num_return_sequences: ["numReturnSequences", "posInt"],
  eos_token_id: ["eosTokenId", "ids"],
  pad_token_id: ["padTokenId", "id"],
  decoder_start_token_id: ["decoderStartTokenId", "id"],
  forced_bos_token_id: ["forcedBosTokenId", "id"],
  forced_eos_token_id: ["forcedEosTokenId", "ids"],
  stop_strings: ["stopStrings", "strings"],
  use_cache: ["useCache", "bool"],
};

/** Fields transformers 5.18's GenerationConfig knows that graft keeps but does not use. */
const KNOWN_UNUSED = [
  "_from_model_config",
  "assistant_confidence_threshold",
  "assistant_early_exit",
  "assistant_ensemble_weight",
  "assistant_lookbehind",
  "bad_words_ids",
  "begin_suppress_tokens",
  "bos_token_id",
  "cache_config",
  "cache_implementation",
  "compile_config",
  "constraints",
  "continuous_batching_config",
  "disable_compile",
  "diversity_penalty",
  "dola_layers",
  "encoder_no_repeat_ngram_size",
  "encoder_repetition_penalty",
  "epsilon_cutoff",
  "eta_cutoff",
  "exponential_decay_length_penalty",
  "force_words_ids",
  "forced_decoder_ids",
  "guidance_scale",
  "is_assistant",
  "low_memory",
  "max_cache_len",
  "max_matching_ngram_size",
  "max_time",
  "num_assistant_tokens",
  "num_assistant_tokens_schedule",
  "num_beam_groups",
  "output_attentions",
  "output_hidden_states",
  "output_logits",
  "output_scores",
  "penalty_alpha",
  "prefill_chunk_size",
  "prompt_lookup_num_tokens",
  "remove_invalid_values",
  "renormalize_logits",
  "return_dict_in_generate",
  "sequence_bias",
  "speculation_type",
  "suppress_tokens",
  "target_lookbehind",
  "token_healing",
  "top_h",
  "transformers_version",
  "typical_p",
  "use_mtp",
  "watermarking_config",
];

const KNOWN = new Set([...Object.keys(USED), ...KNOWN_UNUSED]);

function checkValue(kind: Kind, v: unknown): boolean {
  if (v === null) return kind !== "bool" && kind !== "earlyStopping" && kind !== "posInt";
  const id = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  switch (kind) {
    case "int":
    case "id":
      return id(v);
    case "posInt":
      return id(v) && (v as number) >= 1;
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "prob":
      return typeof v === "number" && v >= 0 && v <= 1;
    case "bool":
      return typeof v === "boolean";
    case "earlyStopping":
      return typeof v === "boolean" || v === "never";
    case "ids":
      return id(v) || (Array.isArray(v) && v.every(id));
    case "strings":
      return typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string" && s !== ""));
  }
}

const KIND_WORDS: Record<Kind, string> = {
  int: "a non-negative integer",
  posInt: "a positive integer",
  number: "a finite number",
  prob: "a number in [0, 1]",
  bool: "true or false",
  earlyStopping: 'true, false or "never"',
  ids: "a token id or a list of token ids",
  id: "a token id",
  strings: "a string or a list of strings",
};

/** Checks a parsed generation_config.json; `where` names the file in errors. */
export function parseGenerationConfig(json: unknown, where = GENERATION_CONFIG_NAME): GenerationConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new DataError(`${where}: a generation config must be a JSON object`, { file: where });
  const out: GenerationConfig = {};
  for (const [k, v] of Object.entries(json)) {
    if (!KNOWN.has(k)) {
      const near = didYouMean(k, KNOWN);
      throw new DataError(
        `${where}: unknown generation setting "${k}"`,
        { file: where, field: k },
        near ? `did you mean "${near}"?` : "transformers' GenerationConfig has no such field",
      );
    }
    const used = USED[k];
    if (used && !checkValue(used[1], v))
      throw new DataError(`${where}: ${k} must be ${KIND_WORDS[used[1]]}, got ${JSON.stringify(v)}`, {
        file: where,
        field: k,
      });
    out[k] = v;
  }
  return out;
}

/** The directory's generation_config.json, checked; null when it has none. */
export function readGenerationConfig(dir: string): GenerationConfig | null {
  const path = join(dir, GENERATION_CONFIG_NAME);
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`, { file: path });
  }
  return parseGenerationConfig(json, path);
}

/** Writes generation_config.json into dir (keys sorted, as transformers writes them); returns its path. */
export function writeGenerationConfig(dir: string, config: GenerationConfig): string {
  const checked = parseGenerationConfig(config, "generation config");
  const path = join(dir, GENERATION_CONFIG_NAME);
  const sorted = Object.fromEntries(
    Object.keys(checked)
      .sort()
      .map((k) => [k, checked[k]]),
  );
  writeFileSync(path, `${JSON.stringify(sorted, null, 2)}\n`);
  return path;
}

/** The generate options a generation config sets (fields graft does not use are left out; null values too). */
export function optionsFromGenerationConfig(config: GenerationConfig): GenerateOptions {
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const used = USED[k];
    if (!used || v === null || v === undefined) continue;
    opts[used[0]] = Array.isArray(v) ? [...v] : v;
  }
  return opts as GenerateOptions;
}

/** The generation config that sets these options (what generate would use), under transformers' names. */
export function generationConfigFromOptions(opts: GenerateOptions): GenerationConfig {
  const out: GenerationConfig = {};
  for (const [k, [name]] of Object.entries(USED)) {
    const v = opts[name];
    if (v !== undefined) out[k] = Array.isArray(v) ? [...v] : v;
  }
  return parseGenerationConfig(out, "generation options");
}

/** A model's generation config: what fromPretrainedDir read from generation_config.json (null when none). */
export function generationConfigOf(model: unknown): GenerationConfig | null {
  const gc = (model as { generationConfig?: unknown }).generationConfig;
  return typeof gc === "object" && gc !== null ? (gc as GenerationConfig) : null;
}
