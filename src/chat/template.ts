/**
 * Chat templates: the Jinja `chat_template` of a model directory rendered with @huggingface/jinja under the
 * variables transformers' `apply_chat_template` passes (messages, add_generation_prompt, the special tokens of
 * tokenizer_config.json such as bos_token and eos_token, tools=None, documents=None, raise_exception).
 *
 * Layer: chat/ sits beside train/ (rank 6 in test/architecture.test.ts): it reads model directories (io level) and
 * tokenizes with tokenizers/ (the assistant masks in ./masks.ts), and is used by tasks/ (the sft kind) and by cli/
 * (graft chat, graft generate). It never imports models/ or train/, so a generation command and a fine-tuning run
 * share it without pulling each other in.
 *
 * Python's `str.strip` (Jinja's `trim` filter and the `.strip()` method) and JavaScript's `trim()` (what
 * @huggingface/jinja calls) disagree on a few characters: Python strips U+001C..U+001F and U+0085 (NEL), which
 * JavaScript keeps, and JavaScript strips U+FEFF (BOM), which Python keeps. Rendering therefore maps those
 * characters in the inputs to stand-ins that JavaScript classifies as Python does (a private-use character for
 * U+FEFF, an unused Unicode space for the others) and maps them back in the output, so `trim` gives Python's answer.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { ArgumentError, DataError, FormatError, GraftError } from "../util/errors.js";

/** One turn of a conversation: role and content, plus whatever else a template reads (name, tool_calls, ...). */
export interface ChatMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

/** A template and the special tokens it renders with. */
export interface ChatTemplate {
  /** The Jinja source. */
  text: string;
  /** Where it came from, for messages: a file path, or "tokenizer_config.json of DIR". */
  source: string;
  /** Special tokens from tokenizer_config.json (bos_token, eos_token, unk_token, pad_token, ...), as transformers passes them. */
  specialTokens: Record<string, string>;
}

export interface RenderOptions {
  /** Append the header that starts an assistant turn (transformers' add_generation_prompt). */
  addGenerationPrompt?: boolean;
  /** Override the template's bos_token / eos_token. */
  bosToken?: string;
  eosToken?: string;
  /** More template variables (tools, documents, date_string, enable_thinking, ...); null means Python's None. */
  variables?: Record<string, unknown>;
}

/** A conversation the template refused: raise_exception's message, or an error of the template engine. */
export class ChatTemplateError extends GraftError {}

/** The roles graft accepts in a conversation record (what the common templates know). */
export const CHAT_ROLES = ["system", "user", "assistant", "tool"] as const;

const SPECIAL_KEYS = ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"];

/** The content of a special-token entry: a string, or transformers' AddedToken object { content }. */
function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return null;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** The template text from tokenizer_config.json's chat_template: a string, or a list of { name, template } (the "default"). */
function templateFromConfig(value: unknown, where: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const pick = named.find((t) => t && t.name === "default") ?? (named.length === 1 ? named[0] : undefined);
    if (pick && typeof pick.template === "string") return pick.template;
    throw new FormatError(
      `${where}: chat_template is a list without a "default" entry (names: ${named.map((t) => String(t?.name)).join(", ")})`,
    );
  }
  throw new FormatError(`${where}: chat_template must be a string or a list of { name, template }`);
}

/**
 * The chat template of a model directory: `overrideFile` when given (a Jinja file, e.g. from --chat-template), else
 * the directory's chat_template.jinja (where transformers 4.43+ saves it), else tokenizer_config.json's
 * `chat_template`. The special tokens come from tokenizer_config.json (and special_tokens_map.json) either way.
 */
export function loadChatTemplate(modelDir: string, overrideFile?: string | null): ChatTemplate {
  const cfgPath = join(modelDir, "tokenizer_config.json");
  const cfg = existsSync(cfgPath) ? readJson(cfgPath) : {};
  const mapPath = join(modelDir, "special_tokens_map.json");
  const map = existsSync(mapPath) ? readJson(mapPath) : {};
  const specialTokens: Record<string, string> = {};
  for (const k of SPECIAL_KEYS) {
    const t = tokenText(cfg[k]) ?? tokenText(map[k]);
    if (t !== null) specialTokens[k] = t;
  }
  if (overrideFile) {
    if (!existsSync(overrideFile)) throw new ArgumentError(`chat template file ${overrideFile} does not exist`);
    return { text: readFileSync(overrideFile, "utf8"), source: overrideFile, specialTokens };
  }
  const jinjaPath = join(modelDir, "chat_template.jinja");
  if (existsSync(jinjaPath)) return { text: readFileSync(jinjaPath, "utf8"), source: jinjaPath, specialTokens };
  if (cfg.chat_template !== undefined && cfg.chat_template !== null) {
    return { text: templateFromConfig(cfg.chat_template, cfgPath), source: cfgPath, specialTokens };
  }
  throw new ArgumentError(
    `${modelDir} has no chat template (no chat_template.jinja, and no "chat_template" in tokenizer_config.json)`,
    "give one with --chat-template FILE (a Jinja file such as a ChatML template), or use {text} or {prompt, completion} records",
  );
}

/**
 * The chat template a chat session or a server uses: the file given, else the model directory's, else null (the
 * caller falls back to a plain transcript).
 */
export function findChatTemplate(modelDir: string, overrideFile?: string | null): ChatTemplate | null {
  if (overrideFile) return loadChatTemplate(modelDir, overrideFile);
  try {
    return loadChatTemplate(modelDir);
  } catch (e) {
    if (e instanceof ArgumentError && /has no chat template/.test(e.message)) return null;
    throw e;
  }
}

const compiled = new Map<string, Template>();
const RAISE = "graft_raise_exception";

function compile(text: string, source: string): Template {
  let t = compiled.get(text);
  if (!t) {
    try {
      // our raise_exception (the engine's global cannot be redeclared): its message becomes a ChatTemplateError
      t = new Template(text.replace(/\braise_exception\b/g, RAISE));
    } catch (e) {
      throw new FormatError(`the chat template from ${source} does not parse: ${(e as Error).message}`);
    }
    if (compiled.size > 32) compiled.clear();
    compiled.set(text, t);
  }
  return t;
}

// ---- Python's whitespace in a JavaScript engine

/** Whitespace to Python but not to JavaScript's trim(). */
const PY_ONLY_SPACE = ["\u001c", "\u001d", "\u001e", "\u001f", "\u0085"];
/** Whitespace to JavaScript's trim() but not to Python. */
const JS_ONLY_SPACE = ["\ufeff"];
/** Whitespace to both: stand-ins for PY_ONLY_SPACE. */
const COMMON_SPACE = [
  "\u2000",
  "\u2001",
  "\u2002",
  "\u2003",
  "\u2004",
  "\u2005",
  "\u2006",
  "\u2007",
  "\u2008",
  "\u2009",
  "\u200a",
  "\u202f",
  "\u205f",
  "\u3000",
  "\u1680",
];

function collectStrings(v: unknown, out: string[]): void {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out);
  else if (v && typeof v === "object") for (const x of Object.values(v)) collectStrings(x, out);
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

/**
 * A pair of maps (into the engine, back out) that make JavaScript's trim() treat the characters of the inputs as
 * Python's str.strip does; null when the inputs hold none of the characters they disagree on.
 */
function whitespaceMaps(
  inputs: unknown,
  templateText: string,
): { into: Map<string, string>; back: Map<string, string> } | null {
  const all: string[] = [templateText];
  collectStrings(inputs, all);
  const text = all.join("");
  const needed = [...PY_ONLY_SPACE, ...JS_ONLY_SPACE].filter((c) => text.includes(c));
  if (needed.length === 0) return null;
  const spaces = COMMON_SPACE.filter((c) => !text.includes(c));
  const into = new Map<string, string>();
  let pua = 0xe000;
  for (const c of needed) {
    let stand: string | undefined;
    if (JS_ONLY_SPACE.includes(c)) {
      while (text.includes(String.fromCharCode(pua))) pua++;
      stand = String.fromCharCode(pua++);
    } else stand = spaces.shift();
    if (stand === undefined) continue; // every stand-in is in use: keep JavaScript's reading of this character
    into.set(c, stand);
  }
  const back = new Map([...into].map(([a, b]) => [b, a]));
  return { into, back };
}

function replaceAll(s: string, m: Map<string, string>): string {
  let out = s;
  for (const [a, b] of m) out = out.replaceAll(a, b);
  return out;
}

/** Checks a conversation's shape (a non-empty list of { role, content } with known roles); `where` locates errors. */
export function checkConversation(
  messages: unknown,
  where: { file?: string; line?: number; field?: string } = {},
): ChatMessage[] {
  const field = where.field ?? "messages";
  if (!Array.isArray(messages))
    throw new DataError("must be a list of { role, content } messages", { ...where, field });
  if (messages.length === 0) throw new DataError("the conversation is empty", { ...where, field });
  messages.forEach((m, i) => {
    const at = { ...where, field: `${field}[${i}]` };
    if (!m || typeof m !== "object" || Array.isArray(m)) throw new DataError("must be an object { role, content }", at);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== "string")
      throw new DataError(`"role" must be a string (${CHAT_ROLES.join(", ")})`, { ...at, field: `${at.field}.role` });
    if (!(CHAT_ROLES as readonly string[]).includes(role))
      throw new DataError(`unknown role "${role}" (graft knows ${CHAT_ROLES.join(", ")})`, {
        ...at,
        field: `${at.field}.role`,
      });
    if (typeof content !== "string")
      throw new DataError('"content" must be a string', { ...at, field: `${at.field}.content` });
  });
  return messages as ChatMessage[];
}

/**
 * The text of a conversation under a chat template, as transformers' `apply_chat_template(tokenize=False)` gives
 * it. `template` is the Jinja source or a loaded ChatTemplate (whose special tokens are the defaults). A template
 * that calls raise_exception (e.g. "Conversation roles must alternate user/assistant/...") throws a
 * ChatTemplateError with that message.
 */
export function renderChat(
  template: string | ChatTemplate,
  messages: readonly ChatMessage[],
  opts: RenderOptions = {},
): string {
  const t: ChatTemplate =
    typeof template === "string" ? { text: template, source: "the template", specialTokens: {} } : template;
  if (messages.length === 0) throw new ChatTemplateError("cannot render an empty conversation");
  const vars: Record<string, unknown> = {
    ...t.specialTokens,
    ...(opts.bosToken !== undefined ? { bos_token: opts.bosToken } : {}),
    ...(opts.eosToken !== undefined ? { eos_token: opts.eosToken } : {}),
    tools: null,
    documents: null,
    ...opts.variables,
    messages,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
  };
  const maps = whitespaceMaps(vars, t.text);
  const inputs = maps ? (mapStrings(vars, (s) => replaceAll(s, maps.into)) as Record<string, unknown>) : vars;
  let out: string;
  try {
    out = compile(t.text, t.source).render({
      ...inputs,
      [RAISE]: (message: unknown) => {
        throw new ChatTemplateError(`the chat template (${t.source}) refused the conversation: ${String(message)}`);
      },
    });
  } catch (e) {
    if (e instanceof GraftError) throw e;
    throw new ChatTemplateError(`the chat template (${t.source}) failed to render: ${(e as Error).message}`);
  }
  return maps ? replaceAll(out, maps.back) : out;
}
