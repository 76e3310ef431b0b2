import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { ArgumentError } from "../../src/util/errors.js";
import { SearchSpace, applyParams } from "../../src/tune/space.js";

const space = new SearchSpace({
  momentum: { type: "uniform", low: 0.5, high: 0.99, when: { optimizer: "sgd" } },
  lr: { type: "loguniform", low: 1e-5, high: 1e-1 },
  layers: { type: "int", low: 2, high: 12, step: 2 },
  rank: { type: "int", low: 1, high: 64, log: true },
  optimizer: { type: "categorical", choices: ["sgd", "adamw"] },
});

test("conditions put parents first, and a child exists only when its condition holds", () => {
  assert.ok(space.names.indexOf("optimizer") < space.names.indexOf("momentum"));
  const rng = new Rng(3);
  let sgd = 0,
    adamw = 0;
  for (let i = 0; i < 200; i++) {
    const p = space.sample(rng);
    space.validate(p);
    if (p.optimizer === "sgd") {
      sgd++;
      assert.ok("momentum" in p);
    } else {
      adamw++;
      assert.ok(!("momentum" in p));
    }
  }
  assert.ok(sgd > 60 && adamw > 60, `both branches sampled (${sgd}, ${adamw})`);
});

test("samples stay in range: log-uniform spans decades evenly, integers respect step and log scale", () => {
  const rng = new Rng(1);
  const decades = new Array(4).fill(0);
  for (let i = 0; i < 4000; i++) {
    const p = space.sample(rng);
    const lr = p.lr as number,
      layers = p.layers as number,
      rank = p.rank as number;
    assert.ok(lr >= 1e-5 && lr <= 1e-1);
    assert.ok(layers % 2 === 0 && layers >= 2 && layers <= 12);
    assert.ok(Number.isInteger(rank) && rank >= 1 && rank <= 64);
    decades[Math.min(3, Math.floor(Math.log10(lr) + 5))]++;
  }
  for (const d of decades) assert.ok(Math.abs(d - 1000) < 120, `decade counts ${decades}`);
});

test("unit encoding round-trips every parameter type", () => {
  const p = { optimizer: "sgd", momentum: 0.9, lr: 3e-4, layers: 8, rank: 16 };
  const back = space.fromUnit(space.toUnit(p));
  assert.equal(back.optimizer, "sgd");
  assert.equal(back.layers, 8);
  assert.equal(back.rank, 16);
  assert.ok(Math.abs((back.lr as number) - 3e-4) < 1e-12);
  assert.ok(Math.abs((back.momentum as number) - 0.9) < 1e-12);
  // the ends of the cube decode to the ends of each range
  const lo = space.fromUnit(new Float64Array(space.dims).fill(0));
  const hi = space.fromUnit(new Float64Array(space.dims).fill(1));
  assert.deepEqual([lo.lr, lo.layers, lo.rank, lo.optimizer], [1e-5, 2, 1, "sgd"]);
  assert.deepEqual([hi.layers, hi.rank, hi.optimizer], [12, 64, "adamw"]);
  assert.ok(Math.abs((hi.lr as number) - 0.1) < 1e-12);
});

test("validation names the parameter and the problem", () => {
  assert.throws(() => space.validate({ optimizer: "adamw", lr: 1e-3, layers: 3, rank: 4 }), /"layers" = 3 is outside/);
  assert.throws(
    () => space.validate({ optimizer: "adamw", momentum: 0.9, lr: 1e-3, layers: 4, rank: 4 }),
    /"momentum" is given but inactive/,
  );
  assert.throws(() => space.validate({ optimizer: "sgd", lr: 1e-3, layers: 4, rank: 4 }), /lack "momentum"/);
  assert.throws(() => new SearchSpace({ a: { type: "uniform", low: 1, high: 1 } }), /low \(1\) must be below high/);
  assert.throws(() => new SearchSpace({ a: { type: "loguniform", low: 0, high: 1 } }), /must be positive/);
  assert.throws(
    () => new SearchSpace({ a: { type: "normal", low: 0, high: 1 } as never }),
    (e: unknown) => e instanceof ArgumentError && /unknown type/.test(e.message) && /categorical/.test(e.hint ?? ""),
  );
  assert.throws(
    () => new SearchSpace({ a: { type: "uniform", low: 0, high: 1, when: { b: "x" } } }),
    /conditional on "b", which is not in the space/,
  );
  assert.throws(
    () =>
      new SearchSpace({
        a: { type: "categorical", choices: [1, 2], when: { b: 1 } },
        b: { type: "categorical", choices: [1, 2], when: { a: 1 } },
      }),
    /cycle/,
  );
});

test("grid values: every choice and integer, evenly spaced floats (log-spaced for loguniform)", () => {
  const g = (name: string, n: number) => space.gridValues(space.param(name), n);
  assert.deepEqual(g("optimizer", 3), ["sgd", "adamw"]);
  assert.deepEqual(g("layers", 10), [2, 4, 6, 8, 10, 12]);
  const lr = g("lr", 5) as number[];
  assert.equal(lr.length, 5);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(Math.log10(lr[i]!) - (-5 + i)) < 1e-9, `lr grid ${lr}`);
});

test("applyParams writes dotted paths into a copy of the base config", () => {
  const base = { args: { lr: 1e-3, epochs: 3 }, model: "bert" };
  const out = applyParams(base, { "args.lr": 5e-5, "lora.r": 8, model: "roberta" });
  assert.deepEqual(out, { args: { lr: 5e-5, epochs: 3 }, model: "roberta", lora: { r: 8 } });
  assert.equal(base.args.lr, 1e-3);
  assert.throws(() => applyParams({ model: "bert" }, { "model.x": 1 }), /"model" is "bert", not an object/);
});
