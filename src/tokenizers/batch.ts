/**
 * The result of encoding a batch. Each field is read out of the engine's encodings (and padded) the first time
 * it is asked for, so a caller that needs only input ids does not pay for tokens, offsets and word ids: every
 * field is one crossing into native code per row, and offsets are the costliest.
 */
import type { RsEncoding } from "./engine.js";

export interface Encoding {
  ids: number[];
  tokens: string[];
  attentionMask: number[];
  tokenTypeIds: number[];
  specialTokensMask: number[];
  /** [start, end) in UTF-16 units of the sequence the token came from; [0, 0] for special and padding tokens. */
  offsets: [number, number][];
  /** Index of the word (pre-tokenizer piece) each token came from; null for special and padding tokens. */
  wordIds: (number | null)[];
  /** 0 for the first text, 1 for the pair text, null for special and padding tokens. */
  sequenceIds: (number | null)[];
}

/** How rows are padded: to `length`, on the left or right, with the pad token. */
export interface PadPlan {
  length: number;
  left: boolean;
  id: number;
  token: string;
}

/** Code point index → UTF-16 index for a string with astral characters; null when the two agree. */
function utf16Index(text: string): Int32Array | null {
  if (!/[\uD800-\uDFFF]/.test(text)) return null;
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[cp++] = i;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  map[cp] = text.length;
  return map.subarray(0, cp + 1);
}

export class BatchEncoding {
  private readonly cache = new Map<string, unknown[][]>();

  constructor(
    private readonly encodings: readonly RsEncoding[],
    private readonly texts: readonly string[],
    private readonly pairs: readonly string[] | undefined,
    private readonly padding: PadPlan | null,
  ) {}

  /** Number of rows. */
  get length(): number {
    return this.encodings.length;
  }

  private field<T>(name: string, read: (e: RsEncoding, i: number) => T[], padValue: () => T): T[][] {
    let rows = this.cache.get(name) as T[][] | undefined;
    if (rows) return rows;
    rows = this.encodings.map(read);
    const p = this.padding;
    if (p) {
      rows = rows.map((row) => {
        const n = p.length - row.length;
        if (n <= 0) return row;
        const extra = Array.from({ length: n }, padValue);
        return p.left ? [...extra, ...row] : [...row, ...extra];
      });
    }
    this.cache.set(name, rows);
    return rows;
  }

  get inputIds(): number[][] {
    return this.field(
      "inputIds",
      (e) => e.getIds(),
      () => this.padding!.id,
    );
  }

  get attentionMask(): number[][] {
    return this.field(
      "attentionMask",
      (e) => e.getAttentionMask(),
      () => 0,
    );
  }

  get tokenTypeIds(): number[][] {
    return this.field(
      "tokenTypeIds",
      (e) => e.getTypeIds(),
      () => 0,
    );
  }

  get specialTokensMask(): number[][] {
    return this.field(
      "specialTokensMask",
      (e) => e.getSpecialTokensMask(),
      () => 1,
    );
  }

  get tokens(): string[][] {
    return this.field(
      "tokens",
      (e) => e.getTokens(),
      () => this.padding!.token,
    );
  }

  get wordIds(): (number | null)[][] {
    return this.field<number | null>(
      "wordIds",
      (e) => e.getWordIds().map((w) => w ?? null),
      () => null,
    );
  }

  get sequenceIds(): (number | null)[][] {
    return this.field<number | null>(
      "sequenceIds",
      (e) => e.getSequenceIds().map((s) => s ?? null),
      () => null,
    );
  }

  /** The engine counts code points; these are UTF-16 positions, so `text.slice(start, end)` is the token's source. */
  get offsets(): [number, number][][] {
    return this.field<[number, number]>(
      "offsets",
      (e, i) => {
        const seq = e.getSequenceIds();
        const maps = [utf16Index(this.texts[i]!), this.pairs ? utf16Index(this.pairs[i]!) : null];
        return e.getOffsets().map(([s, end], k): [number, number] => {
          const m = maps[seq[k] ?? 0];
          return m ? [m[s!]!, m[end!]!] : [s!, end!];
        });
      },
      () => [0, 0],
    );
  }

  /** Row i as one plain Encoding. */
  row(i: number): Encoding {
    return {
      ids: this.inputIds[i]!,
      tokens: this.tokens[i]!,
      attentionMask: this.attentionMask[i]!,
      tokenTypeIds: this.tokenTypeIds[i]!,
      specialTokensMask: this.specialTokensMask[i]!,
      offsets: this.offsets[i]!,
      wordIds: this.wordIds[i]!,
      sequenceIds: this.sequenceIds[i]!,
    };
  }

  /** Every field as plain arrays (what JSON.stringify prints). */
  toJSON(): Record<string, unknown[][]> {
    return {
      inputIds: this.inputIds,
      attentionMask: this.attentionMask,
      tokenTypeIds: this.tokenTypeIds,
      specialTokensMask: this.specialTokensMask,
      offsets: this.offsets,
      wordIds: this.wordIds,
      sequenceIds: this.sequenceIds,
      tokens: this.tokens,
    };
  }
}
