/**
 * Training orders other than a plain shuffle. Each is a pure function of (epoch, seed, size), as the Trainer needs
 * for exact resume.
 */
import { Rng } from "../util/rng.js";

/**
 * Batches of similar lengths, as transformers' `group_by_length` (LengthGroupedSampler): the epoch's shuffle is cut
 * into mega-batches of `megabatchBatches` batches, each sorted by length (longest first), and the mega-batch holding
 * the longest example goes first, so a run that runs out of memory does so at once. Padding falls to about the spread
 * of lengths inside a batch, while which examples meet in a batch still changes each epoch.
 *
 * lengths: [size] tokens per example; batchSize: examples per micro-batch.
 */
export function lengthGroupedOrder(
  lengths: readonly number[],
  batchSize: number,
  megabatchBatches = 50,
): (epoch: number, seed: number, size: number) => Int32Array {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be ≥ 1, got ${batchSize}`);
  return (epoch, seed, size) => {
    if (size !== lengths.length) throw new RangeError(`order for ${size} examples, but ${lengths.length} lengths`);
    // the Trainer's own shuffle of this epoch, then grouped
    const perm = new Rng(seed * 1000003 + epoch * 7919 + 1).permutation(size);
    const mega = batchSize * megabatchBatches;
    const blocks: number[][] = [];
    for (let start = 0; start < size; start += mega) {
      // stable: equal lengths keep their shuffled order
      blocks.push(
        Array.from(perm.subarray(start, Math.min(size, start + mega))).sort((a, b) => lengths[b] - lengths[a]),
      );
    }
    // the mega-batch with the longest example first; the others keep their order
    let longest = 0;
    for (let b = 1; b < blocks.length; b++) if (lengths[blocks[b][0]] > lengths[blocks[longest][0]]) longest = b;
    blocks.unshift(...blocks.splice(longest, 1));
    const out = new Int32Array(size);
    let at = 0;
    for (const block of blocks) {
      out.set(block, at);
      at += block.length;
    }
    return out;
  };
}
