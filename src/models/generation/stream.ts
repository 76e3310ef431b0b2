/**
 * Token streaming for one prompt: an async iterator that yields each new token (and, with a decode function, the
 * text it adds) as soon as the model has produced it, so a chat can print while the model is still writing. An
 * AbortSignal stops it between two steps. Greedy decoding or sampling (beam search cannot stream: its best
 * sequence is only known at the end).
 */
import { ArgumentError } from "../../util/errors.js";
import { type GenerateOptions, type GenerativeModel, decodeSteps } from "./search.js";

export interface StreamOptions extends Omit<GenerateOptions, "decode"> {
  /** Stops generation before the next step once aborted. */
  signal?: AbortSignal;
  /** Token ids → text, for the text deltas and stop strings (a tokenizer's decode; may be async). */
  decode?: (ids: number[]) => string | Promise<string>;
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
  /** With done, from a ContinuousBatcher: whether the sequence joined a batch already decoding others. */
  joinedRunning?: boolean;
  /** With done, from a ContinuousBatcher: the most sequences it was decoded with (itself included). */
  largestBatch?: number;
}

/** The longest suffix of text that is a proper prefix of one of the stop strings. */
function heldBack(text: string, stops: readonly string[]): number {
  let keep = 0;
  for (const s of stops)
    for (let n = Math.min(s.length - 1, text.length); n > keep; n--) if (text.endsWith(s.slice(0, n))) keep = n;
  return keep;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The text of a stream as its tokens come: each token's delta, with the held-back rules above (an incomplete UTF-8
 * character, the start of a stop string), and whether a stop string has ended the text. generateStream and the
 * continuous batcher (continuous.ts) both stream through it, so the two agree chunk for chunk.
 */
export class TextDeltas {
  private emitted = "";
  private previous = "";
  private last = "";

  constructor(
    private readonly decode: ((ids: number[]) => string | Promise<string>) | undefined,
    private readonly stops: readonly string[],
  ) {}

  /** The text to show so far (without an end token, cut before a stop string) and whether a stop string hit. */
  private async textNow(ids: readonly number[], eos: boolean): Promise<{ full: string; stop: boolean }> {
    if (!this.decode) return { full: "", stop: false };
    const full = await this.decode(eos ? ids.slice(0, -1) : ids.slice());
    const start = commonPrefix(this.previous, full);
    this.previous = full;
    let cut = -1;
    for (const s of this.stops) {
      const at = full.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    const hit = this.stops.some((s) => {
      const at = full.lastIndexOf(s);
      return at >= 0 && at + s.length > start;
    });
    return hit && cut >= 0 ? { full: full.slice(0, cut), stop: true } : { full, stop: false };
  }

  private delta(full: string, final: boolean): string {
    let end = full.length;
    if (!final) {
      while (end > 0 && full[end - 1] === "\uFFFD") end--;
      end -= heldBack(full.slice(0, end), this.stops);
    }
    if (!full.startsWith(this.emitted) || end <= this.emitted.length) return "";
    const d = full.slice(this.emitted.length, end);
    this.emitted += d;
    return d;
  }

  /** After a new token (ids: every new token so far; eos: it is an end token): the text it adds; stop: a stop string ended the text. */
  async next(ids: readonly number[], eos: boolean): Promise<{ text: string; stop: boolean }> {
    const { full, stop } = await this.textNow(ids, eos);
    this.last = full;
    return { text: this.delta(full, eos || stop), stop };
  }

  /** The text not yet given when the stream ends for `reason`. */
  rest(reason: StreamChunk["reason"]): string {
    return reason === "eos" || reason === "stop" ? "" : this.delta(this.last, true);
  }
}

/** A stream's stop strings, checked (empty ones refused; they need a decode function). */
export function streamStops(where: string, opts: Pick<StreamOptions, "stopStrings" | "decode">): string[] {
  const { stopStrings, decode } = opts;
  const stops = stopStrings === undefined ? [] : typeof stopStrings === "string" ? [stopStrings] : [...stopStrings];
  if (stops.some((s) => s === "")) throw new ArgumentError(`${where}: a stop string is empty`);
  if (stops.length && !decode) throw new ArgumentError(`${where}: stopStrings need a decode function (ids → text)`);
  return stops;
}

/**
 * Streams the continuation of one prompt (token ids); the last chunk has done: true and the rest of the text.
 * Stop strings end generation when the decoded text holds one that reaches into the newest token's text (as
 * generate's stopStrings do), checked here so that decode may be asynchronous.
 */
export async function* generateStream(
  model: GenerativeModel,
  prompt: readonly number[],
  opts: StreamOptions = {},
): AsyncGenerator<StreamChunk, void> {
  if (!Array.isArray(prompt) || prompt.some((t) => !Number.isInteger(t)))
    throw new ArgumentError("generateStream: the prompt must be a list of token ids");
  if ((opts.numBeams ?? 1) > 1) throw new ArgumentError("generateStream: beam search cannot stream; use generate");
  const { signal, decode, stopStrings, ...genOpts } = opts;
  const text = new TextDeltas(decode, streamStops("generateStream", { stopStrings, decode }));
  const it = decodeSteps(model, [prompt], { ...genOpts, numBeams: 1 });
  const ids: number[] = [];
  let reason: StreamChunk["reason"] = "length";
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
    const eos = n.value.ended[0] === "eos";
    const { text: delta, stop } = await text.next(ids, eos);
    yield { tokenId: tok, text: delta, done: false, tokenIds: ids.slice() };
    if (eos || stop) {
      reason = stop ? "stop" : "eos";
      break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  it.return(undefined as never);
  yield { tokenId: null, text: text.rest(reason), done: true, reason, tokenIds: ids.slice() };
}
