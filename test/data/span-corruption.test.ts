import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  computeInputAndTargetLengths,
  corruptSpans,
  noiseSpanCounts,
  randomSpansNoiseMask,
  roundHalfEven,
  spanCorruptBatch,
  uncorruptSpans,
} from "../../src/data/span-corruption.js";
import { Rng } from "../../src/util/rng.js";
import { fixture } from "./fixtures.js";

/** Runs of equal values in a 0/1 mask: [value, length] pairs. */
function runs(mask: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < mask.length; i++) {
    if (i > 0 && mask[i] === mask[i - 1]) out[out.length - 1][1]++;
    else out.push([mask[i], 1]);
  }
  return out;
}

const SENTINELS = Array.from({ length: 100 }, (_, i) => 1000 - 1 - i); // <extra_id_0> = 999, as T5's layout
const EOS = 1;

test("rounding is half to even, as tf.round and Python's round", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 4, 2, 3]);
});

test("noise and span counts and packed lengths equal T5's formulas (fixture from the Python reference)", () => {
  const fx = JSON.parse(readFileSync(fixture("span_corruption_lengths.json"), "utf8")) as {
    settings: {
      noiseDensity: number;
      meanNoiseSpanLength: number;
      counts: [number, number][];
      helper: [number, number, number][];
    }[];
  };
  assert.equal(fx.settings.length, 3);
  for (const s of fx.settings) {
    const o = { noiseDensity: s.noiseDensity, meanNoiseSpanLength: s.meanNoiseSpanLength };
    s.counts.forEach(([noise, spans], i) => {
      const c = noiseSpanCounts(i + 1, o);
      assert.deepEqual([c.noiseTokens, c.noiseSpans], [noise, spans], `length ${i + 1} at ${s.noiseDensity}`);
    });
    for (const [inputs, tokens, targets] of s.helper)
      assert.deepEqual(
        computeInputAndTargetLengths(inputs, o),
        { tokensLength: tokens, targetsLength: targets },
        `inputs ${inputs} at ${s.noiseDensity}`,
      );
  }
  // ties round to even: 30 × 0.15 = 4.5 → 4 noise tokens, 50 × 0.15 = 7.5 → 8
  assert.equal(noiseSpanCounts(30).noiseTokens, 4);
  assert.equal(noiseSpanCounts(50).noiseTokens, 8);
  // the numbers T5 and transformers' run_t5_mlm_flax use at 512 inputs
  assert.deepEqual(computeInputAndTargetLengths(512), { tokensLength: 568, targetsLength: 114 });
});

test("the mask: spans alternate starting with non-noise, as many of each, counts as T5 computes them", () => {
  const rng = new Rng(3);
  for (const length of [2, 3, 7, 20, 30, 64, 101, 568]) {
    for (let draw = 0; draw < 20; draw++) {
      const mask = randomSpansNoiseMask(length, rng);
      const { noiseTokens, noiseSpans } = noiseSpanCounts(length);
      const r = runs(mask);
      assert.equal(mask.length, length);
      assert.equal(r[0][0], 0, "starts with non-noise");
      assert.equal(r[r.length - 1][0], 1, "ends with noise");
      assert.equal(r.filter(([v]) => v === 1).length, noiseSpans);
      assert.equal(r.filter(([v]) => v === 0).length, noiseSpans);
      assert.equal(
        mask.reduce((a, b) => a + b, 0),
        noiseTokens,
      );
    }
  }
  assert.deepEqual(Array.from(randomSpansNoiseMask(1, rng)), [0]); // T5 pads to 2 and cuts back
});

test("noise density and span lengths over many draws: 15% of tokens, mean span 3, lengths spread as T5's", () => {
  const rng = new Rng(11);
  let noise = 0,
    total = 0;
  const spanLengths: number[] = [];
  for (let draw = 0; draw < 2000; draw++) {
    const mask = randomSpansNoiseMask(114, rng);
    total += mask.length;
    for (const [v, n] of runs(mask)) {
      if (v === 1) {
        noise += n;
        spanLengths.push(n);
      }
    }
  }
  assert.ok(Math.abs(noise / total - 0.15) < 0.005, `density ${noise / total}`);
  const mean = spanLengths.reduce((a, b) => a + b, 0) / spanLengths.length;
  assert.ok(Math.abs(mean - 3) < 0.25, `mean span ${mean}`);
  // 17 noise tokens in 6 spans, the cuts uniformly placed: P(span of 1) = C(15,4)/C(16,5) = 5/16
  const ones = spanLengths.filter((n) => n === 1).length / spanLengths.length;
  assert.ok(Math.abs(ones - 5 / 16) < 0.02, `P(length 1) ${ones}`);
  assert.ok(Math.max(...spanLengths) > 6, "long spans occur");
});

test("seeded: the same seed gives the same masks, another seed others", () => {
  const a = new Rng(5),
    b = new Rng(5),
    c = new Rng(6);
  const ma = Array.from({ length: 10 }, () => Array.from(randomSpansNoiseMask(50, a)));
  const mb = Array.from({ length: 10 }, () => Array.from(randomSpansNoiseMask(50, b)));
  const mc = Array.from({ length: 10 }, () => Array.from(randomSpansNoiseMask(50, c)));
  assert.deepEqual(ma, mb);
  assert.notDeepEqual(ma, mc);
});

test("inputs and targets: sentinels from <extra_id_0> in order, EOS at the end (T5's example)", () => {
  // A B C D E F G H with C D and H cut out
  const tokens = [10, 11, 12, 13, 14, 15, 16, 17];
  const mask = [0, 0, 1, 1, 0, 0, 0, 1];
  const { inputs, targets } = corruptSpans(tokens, mask, SENTINELS, EOS);
  assert.deepEqual(inputs, [10, 11, 999, 14, 15, 16, 998, EOS]);
  assert.deepEqual(targets, [999, 12, 13, 998, 17, EOS]);
  assert.deepEqual(uncorruptSpans(inputs, targets, SENTINELS, EOS), tokens);
});

test("packed batches: fixed lengths from compute_input_and_target_lengths, exact reconstruction, sentinel order", () => {
  const { tokensLength, targetsLength } = computeInputAndTargetLengths(64);
  const rng = new Rng(2);
  const n = 50;
  const blocks = new Int32Array(n * tokensLength);
  for (let i = 0; i < blocks.length; i++) blocks[i] = 2 + ((i * 7919) % 800);
  const b = spanCorruptBatch(blocks, tokensLength, rng, {
    sentinels: SENTINELS,
    eosId: EOS,
    padId: 0,
    inputsLength: 64,
    targetsLength,
  });
  assert.equal(b.inputIds.length, n * 64);
  assert.equal(b.labels.length, n * targetsLength);
  for (let r = 0; r < n; r++) {
    const inputs = b.inputIds.subarray(r * 64, (r + 1) * 64);
    const targets = b.labels.subarray(r * targetsLength, (r + 1) * targetsLength);
    // the rows fill their lengths exactly (no padding at these lengths)
    assert.equal(inputs[63], EOS);
    assert.equal(targets[targetsLength - 1], EOS);
    assert.ok(b.attentionMask.subarray(r * 64, (r + 1) * 64).every((v) => v === 1));
    // sentinels appear in order <extra_id_0>, <extra_id_1>, ... in both
    for (const row of [inputs, targets]) {
      const s = Array.from(row).filter((t) => t >= 900);
      assert.deepEqual(
        s,
        s.map((_, k) => 999 - k),
      );
    }
    assert.equal(targets[0], 999, "targets start with <extra_id_0>");
    assert.deepEqual(
      uncorruptSpans(inputs, targets, SENTINELS, EOS),
      Array.from(blocks.subarray(r * tokensLength, (r + 1) * tokensLength)),
    );
  }
});

test("bad arguments are clear errors", () => {
  assert.throws(() => corruptSpans([1, 2, 3, 4], [0, 1, 0, 1], [9], EOS), /more than 1 spans/);
  assert.throws(() => noiseSpanCounts(10, { noiseDensity: 0.9 }), /noise density/);
  assert.throws(() => randomSpansNoiseMask(0, new Rng(1)), /positive integer/);
});
