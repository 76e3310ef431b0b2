import { test } from "node:test";
import assert from "node:assert/strict";
import { lengthGroupedOrder } from "../../src/train/index.js";
import { Rng } from "../../src/util/rng.js";

const lengthsOf = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => 1 + rng.int(60));
};
/** Tokens a batched epoch pads to: each batch costs its size × its longest example. */
const paddedTokens = (order: Int32Array, lengths: number[], batch: number) => {
  let total = 0;
  for (let s = 0; s < order.length; s += batch) {
    const rows = Array.from(order.subarray(s, s + batch));
    total += rows.length * Math.max(...rows.map((i) => lengths[i]));
  }
  return total;
};

test("length-grouped order: a permutation, sorted within mega-batches, longest first, pure in (epoch, seed)", () => {
  const n = 1037;
  const batch = 8;
  const lengths = lengthsOf(n, 3);
  const order = lengthGroupedOrder(lengths, batch, 10);
  const e0 = order(0, 42, n);
  assert.deepEqual(
    Array.from(e0).sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  assert.equal(lengths[e0[0]], Math.max(...lengths), "the longest example leads");
  // each mega-batch (80 examples; which one leads moved, so find the blocks by their sorted runs) is non-increasing
  let runs = 1;
  for (let i = 1; i < n; i++) if (lengths[e0[i]] > lengths[e0[i - 1]]) runs++;
  assert.ok(runs <= Math.ceil(n / 80), `${runs} sorted runs for ${Math.ceil(n / 80)} mega-batches`);
  assert.deepEqual(order(0, 42, n), e0, "the same (epoch, seed) gives the same order (exact resume)");
  assert.notDeepEqual(order(1, 42, n), e0, "another epoch reshuffles");
  assert.notDeepEqual(order(0, 43, n), e0, "another seed reshuffles");
  // it pads much less than a plain shuffle of the same epoch
  const shuffle = new Rng(42 * 1000003 + 1).permutation(n);
  assert.ok(paddedTokens(e0, lengths, batch) < 0.8 * paddedTokens(shuffle, lengths, batch));
  assert.throws(() => order(0, 42, n - 1), /1036 examples, but 1037 lengths/);
  assert.throws(() => lengthGroupedOrder(lengths, 0), /batch size must be ≥ 1/);
});
