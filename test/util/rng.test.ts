import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, manualSeed, defaultRng } from "../../src/util/rng.js";

test("same seed, same stream; different seeds differ", () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.nextU32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.nextU32()),
  );
});

test("state save/restore continues the exact stream, including a cached normal", () => {
  const r = new Rng(7);
  r.normal(); // leaves a cached spare
  const s = r.getState();
  const expected = [r.normal(), r.uniform(), r.int(10), r.normal()];
  const r2 = new Rng(0);
  r2.setState(JSON.parse(JSON.stringify(s)));
  assert.deepEqual([r2.normal(), r2.uniform(), r2.int(10), r2.normal()], expected);
  assert.throws(() => r2.setState({ s: [1, 2, 3], spare: null } as never), /setState/);
});

test("distributions: uniform in [0,1), normal has mean 0 and std 1, int is unbiased", () => {
  const r = new Rng(1);
  let sum = 0,
    sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03);
  assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.03);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < n; i++) counts[r.int(5)]++;
  for (const c of counts) assert.ok(Math.abs(c - n / 5) < (0.05 * n) / 5);
  for (let i = 0; i < 1000; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
  }
});

test("permutation is a permutation; manualSeed resets the default generator", () => {
  const p = new Rng(3).permutation(50);
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  manualSeed(9);
  const x = defaultRng().nextU32();
  manualSeed(9);
  assert.equal(defaultRng().nextU32(), x);
});
