/**
 * The tokenization engine: Hugging Face's Rust `tokenizers` core (npm package "tokenizers", prebuilt binaries
 * for Linux, macOS and Windows on x64 and arm64 ship inside it). It is loaded on first use, not at import,
 * so graft itself still loads where the binary cannot, and the error then says why.
 * Chosen over the pure-JS @huggingface/tokenizers because it gives character offsets and word ids
 * (needed to align NER labels) and is the reference implementation itself; RESULTS.md has the measurements.
 */
import { createRequire } from "node:module";
import { GraftError, FormatError } from "../util/errors.js";

export type Engine = typeof import("tokenizers");
export type RsTokenizer = import("tokenizers").Tokenizer;
export type RsEncoding = import("tokenizers").Encoding;

let loaded: Engine | null = null;

export function engine(): Engine {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)("tokenizers") as Engine;
  } catch (e) {
    throw new GraftError(
      `the tokenizer engine (npm package "tokenizers", Hugging Face's Rust core) cannot load on ${process.platform}-${process.arch}: ${(e as Error).message.split("\n")[0]}`,
      "reinstall dependencies with npm install; prebuilt binaries exist for linux (glibc and musl), macOS and Windows on x64 and arm64",
    );
  }
  return loaded;
}

/** Parses a tokenizer.json document into an engine tokenizer; `where` names it in errors. */
export function parseTokenizerJson(json: string, where: string): RsTokenizer {
  try {
    return engine().Tokenizer.fromString(json);
  } catch (e) {
    if (e instanceof GraftError) throw e;
    throw new FormatError(`${where}: not a tokenizer the engine understands (${(e as Error).message})`);
  }
}
