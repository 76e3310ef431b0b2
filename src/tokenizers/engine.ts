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

/**
 * Parses a tokenizer.json document into an engine tokenizer; `where` names it in errors. `checked`: the same
 * document already passed the template check (another engine for it, e.g. with other truncation settings).
 */
export function parseTokenizerJson(json: string, where: string, checked = false): RsTokenizer {
  if (!checked) checkTemplateTokens(json, where);
  try {
    return engine().Tokenizer.fromString(json);
  } catch (e) {
    if (e instanceof GraftError) throw e;
    throw new FormatError(`${where}: not a tokenizer the engine understands (${(e as Error).message})`);
  }
}

/**
 * A TemplateProcessing post-processor whose template names a special token missing from its `special_tokens` map
 * loads in the Rust core but aborts the whole process (a panic, not an exception) on the first encode: refuse it
 * here instead. Templates may sit inside a Sequence post-processor. JSON that does not parse is left to the engine.
 */
function checkTemplateTokens(json: string, where: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return;
  }
  const processors: unknown[] = [];
  const collect = (p: unknown): void => {
    if (p === null || typeof p !== "object") return;
    const o = p as { type?: unknown; processors?: unknown };
    if (o.type === "Sequence" && Array.isArray(o.processors)) o.processors.forEach(collect);
    else if (o.type === "TemplateProcessing") processors.push(p);
  };
  collect((doc as { post_processor?: unknown } | null)?.post_processor);
  for (const p of processors) {
    const { single, pair, special_tokens } = p as { single?: unknown; pair?: unknown; special_tokens?: unknown };
    const known = special_tokens !== null && typeof special_tokens === "object" ? special_tokens : {};
    for (const [name, template] of [
      ["single", single],
      ["pair", pair],
    ] as const) {
      if (!Array.isArray(template)) continue;
      for (const piece of template) {
        const id = (piece as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken?.id;
        if (id === undefined) continue;
        if (typeof id !== "string" || !Object.hasOwn(known, id))
          throw new FormatError(
            `${where}: the post-processor's ${name} template uses the special token ${JSON.stringify(id).slice(0, 200)}, which its special_tokens do not define`,
            "add it to post_processor.special_tokens or fix the template",
          );
      }
    }
  }
}
