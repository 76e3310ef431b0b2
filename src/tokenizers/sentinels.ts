/**
 * T5's sentinel tokens `<extra_id_0>`, `<extra_id_1>`, ...: the placeholders span corruption puts where it cut
 * spans out of the input (and before each span in the target). T5's tokenizers append them at the end of the
 * vocabulary in reverse, so `<extra_id_0>` is the last id; they are found here by name, wherever they sit.
 */
import { ArgumentError, FormatError } from "../util/errors.js";
import type { Tokenizer } from "./tokenizer.js";

const SENTINEL = /^<extra_id_(\d+)>$/;

/** The name of sentinel `i`. */
export function sentinelToken(i: number): string {
  return `<extra_id_${i}>`;
}

/**
 * The ids of `<extra_id_0>`, `<extra_id_1>`, ... in that order (the first `count`, default all). Errors when the
 * tokenizer has none, fewer than `count`, or a gap in their numbering.
 */
export function sentinelIds(tokenizer: Tokenizer, count?: number): number[] {
  const byIndex = new Map<number, number>();
  for (const [token, id] of Object.entries(tokenizer.getVocab())) {
    const m = SENTINEL.exec(token);
    if (m) byIndex.set(Number(m[1]), id);
  }
  if (byIndex.size === 0)
    throw new ArgumentError(
      `${tokenizer.source} has no sentinel tokens (<extra_id_0>, <extra_id_1>, ...)`,
      `add them: tokenizer.addTokens([...Array(100).keys()].map(sentinelToken), { special: true }), then grow the model's embeddings to tokenizer.vocabSize`,
    );
  const ids: number[] = [];
  for (let i = 0; byIndex.has(i); i++) ids.push(byIndex.get(i)!);
  if (ids.length !== byIndex.size) {
    const missing = sentinelToken(ids.length);
    throw new FormatError(`${tokenizer.source}: sentinel tokens skip ${missing} (it has ${byIndex.size} in all)`);
  }
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 0)
      throw new ArgumentError(`sentinelIds: count must be a non-negative integer, got ${count}`);
    if (count > ids.length)
      throw new ArgumentError(
        `${tokenizer.source} has ${ids.length} sentinel tokens (<extra_id_0> to ${sentinelToken(ids.length - 1)}), ${count} are needed`,
        "use shorter inputs or a lower noise density (fewer spans), or add more sentinel tokens",
      );
    return ids.slice(0, count);
  }
  return ids;
}
