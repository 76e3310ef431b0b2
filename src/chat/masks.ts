/**
 * Which characters and tokens of a rendered conversation the assistant wrote, found by rendering rather than by
 * `{% generation %}` markers (which most templates lack: transformers then silently masks everything), so
 * assistant-only loss works with any template.
 *
 * For assistant turn i: `before` = the conversation up to turn i rendered with the generation prompt (it ends with
 * the header that opens an assistant turn), `through` = the conversation through turn i without it. When `before` is
 * a prefix of `through` and `through` a prefix of the whole rendering, the turn is the characters
 * [before.length, through.length): its content and whatever the template closes the turn with (<|im_end|>,
 * <|eot_id|>, </s>, and a newline when the template puts one there): what the model must learn to generate.
 * Templates that rewrite earlier turns (e.g. dropping reasoning from all but the last one) break the prefix
 * property; then the turn is found by searching its content in the rendering after the previous turn, followed by
 * the eos token when the template writes it right after. A turn found neither way is an error.
 */
import type { Tokenizer } from "../tokenizers/index.js";
import { type ChatMessage, type ChatTemplate, ChatTemplateError, type RenderOptions, renderChat } from "./template.js";

/** A [start, end) range of UTF-16 characters. */
export type Span = [number, number];

export interface RenderedChat {
  /** The whole conversation rendered without a generation prompt. */
  text: string;
  /** The characters of each assistant turn, in order. */
  assistantSpans: Span[];
}

/** The rendered conversation and the character spans of its assistant turns. */
export function renderWithAssistantSpans(
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  opts: Omit<RenderOptions, "addGenerationPrompt"> = {},
): RenderedChat {
  const text = renderChat(template, messages, { ...opts, addGenerationPrompt: false });
  const spans: Span[] = [];
  let cursor = 0;
  const eos = opts.eosToken ?? template.specialTokens.eos_token;
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    let span: Span | null = null;
    try {
      const before = i === 0 ? "" : renderChat(template, messages.slice(0, i), { ...opts, addGenerationPrompt: true });
      const through = renderChat(template, messages.slice(0, i + 1), { ...opts, addGenerationPrompt: false });
      if (through.startsWith(before) && text.startsWith(through) && before.length >= cursor)
        span = [before.length, through.length];
    } catch (e) {
      if (!(e instanceof ChatTemplateError)) throw e;
      // a template that refuses a prefix (e.g. one that must end with an assistant turn): search instead
    }
    if (span === null) {
      const at = m.content === "" ? -1 : text.indexOf(m.content, cursor);
      if (at < 0) {
        throw new ChatTemplateError(
          `assistant turn ${i} ("${m.content.slice(0, 40)}") cannot be located in the rendered conversation: the template (${template.source}) rewrites it`,
        );
      }
      let end = at + m.content.length;
      if (eos && text.startsWith(eos, end)) end += eos.length;
      span = [at, end];
    }
    spans.push(span);
    cursor = span[1];
  });
  return { text, assistantSpans: spans };
}

/**
 * 1 for each token whose characters overlap a span, else 0 (transformers marks the tokens from the one holding a
 * span's first character through the one holding its last: the same tokens).
 */
export function tokenMaskFromSpans(offsets: readonly (readonly [number, number])[], spans: readonly Span[]): number[] {
  const mask = new Array<number>(offsets.length).fill(0);
  for (const [s, e] of spans) {
    if (e <= s) continue;
    offsets.forEach(([ts, te], k) => {
      // a zero-width token (te === ts) belongs to the span when it sits inside it
      if ((te > ts && ts < e && te > s) || (te === ts && ts >= s && ts < e)) mask[k] = 1;
    });
  }
  return mask;
}

export interface TokenizedChat {
  /** The rendered text. */
  text: string;
  /** Token ids of the text, without the tokenizer's own special tokens (the template writes them). */
  ids: number[];
  /** 1 for the tokens of assistant turns. */
  assistantMask: number[];
}

/** Renders a conversation, tokenizes it (no added special tokens, as transformers does) and marks the assistant's tokens. */
export async function tokenizeChat(
  tokenizer: Tokenizer,
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  opts: Omit<RenderOptions, "addGenerationPrompt"> = {},
): Promise<TokenizedChat> {
  const r = renderWithAssistantSpans(template, messages, opts);
  const enc = await tokenizer.encode(r.text, null, { addSpecialTokens: false });
  return { text: r.text, ids: enc.ids, assistantMask: tokenMaskFromSpans(enc.offsets, r.assistantSpans) };
}
