/**
 * Token streaming for one prompt: an async iterator that yields each new token (and, with a decode function, the
 * text it adds) as soon as the model has produced it, so a chat can print while the model is still writing. An
 * AbortSignal stops it between two steps. Greedy decoding or sampling (beam search cannot stream: its best
 * sequence is only known at the end).
 */
import { ArgumentError } from "../../util/errors.js";
import { type GenerateOptions, type GenerativeModel, decodeSteps } from "./search.js";

export interface StreamOptions extends GenerateOptions {
  /** Stops generation before the next step once aborted. */
  signal?: AbortSignal;
}

export interface StreamChunk {
  /** This step's token (null in the final chunk). */
  tokenId: number | null;
  /**
   * The text this chunk adds (needs opts.decode; "" otherwise). Text that may still change is held back: an
   * incomplete UTF-8 character, or the start of a stop string. The end token's text is left out, and so is a stop
   * string and what follows it.
   */
  text: string;
  /** The last chunk: says why generation ended. */
  done: boolean;
  /** With done: "eos" (an end token or stop id), "stop" (a stop string), "length" (maxNewTokens), "abort". */
  reason?: "eos" | "stop" | "length" | "abort";
  /** Every new token so far. */
  tokenIds: number[];
}

/** The longest suffix of text that is a proper prefix of one of the stop strings. */
function heldBack(text: string, stops: readonly string[]): number {
  let keep = 0;
  for (const s of stops)
    for (let n = Math.min(s.length - 1, text.length); n > keep; n--) if (text.endsWith(s.slice(0, n))) keep = n;
  return keep;
}

/** Streams the continuation of one prompt (token ids); the last chunk has done: true and the rest of the text. */
export async function* generateStream(
  model: GenerativeModel,
  prompt: readonly number[],
  opts: StreamOptions = {},
): AsyncGenerator<StreamChunk, void> {
  if (!Array.isArray(prompt) || prompt.some((t) => !Number.isInteger(t)))
    throw new ArgumentError("generateStream: the prompt must be a list of token ids");
  if ((opts.numBeams ?? 1) > 1) throw new ArgumentError("generateStream: beam search cannot stream; use generate");
  const { signal, ...genOpts } = opts;
  const stops =
    opts.stopStrings === undefined
      ? []
      : typeof opts.stopStrings === "string"
        ? [opts.stopStrings]
        : [...opts.stopStrings];
  const it = decodeSteps(model, [prompt], { ...genOpts, numBeams: 1 });
  const ids: number[] = [];
  let emitted = "";
  let reason: StreamChunk["reason"] = "length";
  const textOf = (final: boolean, endedBy: "eos" | "stop" | null): string => {
    if (!opts.decode) return "";
    let full = opts.decode(endedBy === "eos" ? ids.slice(0, -1) : ids.slice());
    if (endedBy === "stop") {
      const cut = Math.min(...stops.map((s) => full.indexOf(s)).filter((i) => i >= 0));
      if (Number.isFinite(cut)) full = full.slice(0, cut);
    }
    let end = full.length;
    if (!final) {
      while (end > 0 && full[end - 1] === "\uFFFD") end--;
      end -= heldBack(full.slice(0, end), stops);
    }
    if (!full.startsWith(emitted) || end <= emitted.length) return "";
    const delta = full.slice(emitted.length, end);
    emitted += delta;
    return delta;
  };
  const wasTraining = model.training;
  model.eval();
  try {
    for (;;) {
      if (signal?.aborted) {
        reason = "abort";
        break;
      }
      const n = it.next();
      if (n.done) break;
      const tok = n.value.tokens[0];
      if (tok === null) break;
      ids.push(tok);
      const endedBy = n.value.ended[0];
      if (endedBy) {
        reason = endedBy;
        yield { tokenId: tok, text: textOf(true, endedBy), done: false, tokenIds: ids.slice() };
        break;
      }
      yield { tokenId: tok, text: textOf(false, null), done: false, tokenIds: ids.slice() };
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    if (wasTraining) model.train(true);
  }
  const rest = reason === "eos" || reason === "stop" ? "" : textOf(true, null);
  yield { tokenId: null, text: rest, done: true, reason, tokenIds: ids.slice() };
}
