/**
 * Token counts for the server's limits and batch budgets, computed on the event loop's thread. One tokenizer call
 * per request costs far more than the tokens (each call crosses into the Rust engine and back), so the texts of
 * every request that arrives within one turn of the event loop are counted together, in one call.
 */
import type { Tokenizer } from "../tokenizers/index.js";

interface Waiting {
  texts: string[];
  pairs: string[] | null;
  resolve(counts: number[]): void;
  reject(e: unknown): void;
}

export class TokenCounter {
  private single: Waiting[] = [];
  private paired: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Each text's tokens (with its pair, when given), special tokens included, without truncation. */
  count(texts: readonly string[], pairs?: readonly string[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const w = { texts: [...texts], pairs: pairs ? [...pairs] : null, resolve, reject };
      (pairs ? this.paired : this.single).push(w);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const groups = [this.single, this.paired];
    this.single = [];
    this.paired = [];
    for (const group of groups) {
      if (group.length === 0) continue;
      const texts = group.flatMap((w) => w.texts);
      const pairs = group[0].pairs ? group.flatMap((w) => w.pairs!) : undefined;
      this.tokenizer.encodeBatch(texts, pairs ? { pairs } : {}).then(
        (b) => {
          let at = 0;
          for (const w of group) {
            w.resolve(b.inputIds.slice(at, at + w.texts.length).map((ids) => ids.length));
            at += w.texts.length;
          }
        },
        (e: unknown) => {
          for (const w of group) w.reject(e);
        },
      );
    }
  }
}
