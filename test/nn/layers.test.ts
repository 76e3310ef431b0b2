import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { ShapeError } from "../../src/util/errors.js";
import { Tensor, copy_, fill_, randn, tensor, noGrad } from "../../src/tensor/index.js";
import {
  Dropout,
  Embedding,
  FeedForward,
  GRU,
  LSTM,
  LayerNorm,
  Linear,
  MultiHeadSelfAttention,
  TransformerBlock,
  Module,
  type Parameter,
} from "../../src/nn/index.js";
import { checkModuleGradients } from "./module-gradcheck.js";

const ids = (v: number[], shape: number[]) => tensor(v, shape, { dtype: "i32" });

test("Linear: gradients and torch's default init bounds", () => {
  const rng = new Rng(1);
  const lin = new Linear(4, 3, { rng });
  const bound = 1 / Math.sqrt(4);
  assert.ok(lin.weight.toArray().every((v) => Math.abs(v) <= bound));
  const x = randn([2, 4], rng);
  checkModuleGradients("Linear", lin, [x], () => lin.forward(x));
});

test("Embedding: gradients accumulate for repeated ids; padding row starts at zero", () => {
  const emb = new Embedding(5, 3, { paddingIdx: 0, rng: new Rng(2) });
  assert.deepEqual(emb.weight.toArray().slice(0, 3), [0, 0, 0]);
  const i = ids([1, 3, 3, 4], [2, 2]);
  checkModuleGradients("Embedding", emb, [], () => emb.forward(i));
});

test("LayerNorm: gradients", () => {
  const ln = new LayerNorm(6, 1e-12);
  const rng = new Rng(3);
  const w = new Float32Array(6),
    b = new Float32Array(6);
  for (let k = 0; k < 6; k++) {
    w[k] = rng.normal();
    b[k] = rng.normal();
  }
  copy_(ln.weight, new Tensor(w, [6]));
  copy_(ln.bias, new Tensor(b, [6]));
  const x = randn([3, 6], rng);
  checkModuleGradients("LayerNorm", ln, [x], () => ln.forward(x));
});

test("Dropout: gradients with a fixed mask; identity in eval mode; scales kept values", () => {
  const rng = new Rng(4);
  const drop = new Dropout(0.4, rng);
  const x = randn([5, 6], new Rng(5));
  const saved = rng.getState();
  checkModuleGradients("Dropout", drop, [x], () => {
    rng.setState(saved);
    return drop.forward(x);
  });
  rng.setState(saved);
  const y = noGrad(() => drop.forward(x));
  const yv = y.toArray(),
    xv = x.toArray();
  for (let i = 0; i < y.size; i++) assert.ok(yv[i] === 0 || Math.abs(yv[i] - xv[i] / 0.6) < 1e-5);
  drop.eval();
  assert.equal(drop.forward(x), x);
});

test("MultiHeadSelfAttention: gradients with a padding mask, and padding positions do not leak", () => {
  const rng = new Rng(6);
  const att = new MultiHeadSelfAttention({ dim: 4, heads: 2, rng });
  const x = randn([2, 3, 4], rng);
  const mask = tensor([1, 1, 0, 1, 1, 1], [2, 3]);
  checkModuleGradients("attention", att, [x], () => att.forward(x, mask));
  // changing a padded position must not change the outputs at real positions of that sequence
  const before = noGrad(() => att.forward(x, mask)).toArray();
  const v2 = x.toArray();
  for (let k = 0; k < 4; k++) v2[2 * 4 + k] += 5; // sequence 0, position 2 (padding)
  const x2 = tensor(v2, x.shape);
  const after = noGrad(() => att.forward(x2, mask)).toArray();
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(before[i] - after[i]) < 1e-6);
});

test("causal attention: position t ignores later positions", () => {
  const rng = new Rng(7);
  const att = new MultiHeadSelfAttention({ dim: 4, heads: 1, causal: true, rng });
  const x = randn([1, 4, 4], rng);
  checkModuleGradients("causal attention", att, [x], () => att.forward(x));
  const before = noGrad(() => att.forward(x)).toArray();
  const v2 = x.toArray();
  for (let k = 0; k < 4; k++) v2[3 * 4 + k] -= 3;
  const x2 = tensor(v2, x.shape);
  const after = noGrad(() => att.forward(x2)).toArray();
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(before[i] - after[i]) < 1e-6);
});

test("FeedForward and transformer blocks (post-LN and pre-LN): gradients", () => {
  const rng = new Rng(8);
  const ff = new FeedForward(4, 6, { activation: "gelu", rng });
  const x = randn([2, 2, 4], rng);
  checkModuleGradients("FeedForward", ff, [x], () => ff.forward(x));
  for (const preNorm of [false, true]) {
    const block = new TransformerBlock({ dim: 4, heads: 2, ffDim: 6, preNorm, causal: preNorm, rng });
    const mask = tensor([1, 1, 1, 0], [2, 2]);
    checkModuleGradients(`TransformerBlock preNorm=${preNorm}`, block, [x], () => block.forward(x, mask));
  }
});

test("LSTM: gradients through time with variable lengths; state frozen past each end", () => {
  const rng = new Rng(9);
  const lstm = new LSTM(3, 4, { numLayers: 2, rng });
  assert.deepEqual(
    lstm.namedParameters().map(([n]) => n),
    [
      "weight_ih_l0",
      "weight_hh_l0",
      "bias_ih_l0",
      "bias_hh_l0",
      "weight_ih_l1",
      "weight_hh_l1",
      "bias_ih_l1",
      "bias_hh_l1",
    ],
  );
  assert.deepEqual(lstm.namedParameters()[0][1].shape, [16, 3]);
  const x = randn([2, 3, 3], rng);
  checkModuleGradients("LSTM h", lstm, [x], () => lstm.forward(x, { lengths: [3, 2] }).h);
  checkModuleGradients("LSTM c", lstm, [x], () => lstm.forward(x, { lengths: [3, 2] }).c!);
  checkModuleGradients("LSTM output", lstm, [x], () => lstm.forward(x, { lengths: [3, 2] }).output);
  // the final state of a length-2 sequence equals running it alone for 2 steps
  const full = noGrad(() => lstm.forward(x, { lengths: [3, 2] }));
  const alone = noGrad(() => lstm.forward(new Tensor(x.toFloat32Array().slice(9, 15), [1, 2, 3])));
  const hTop = full.h.toArray().slice(8 + 4, 8 + 8); // layer 1, sequence 1
  const hAlone = alone.h.toArray().slice(4, 8);
  hTop.forEach((v, i) => assert.ok(Math.abs(v - hAlone[i]) < 1e-6));
  assert.deepEqual(full.output.toArray().slice(12 + 2 * 4, 12 + 3 * 4), [0, 0, 0, 0]);
});

test("GRU: gradients with variable lengths", () => {
  const rng = new Rng(10);
  const gru = new GRU(3, 4, { rng });
  const x = randn([2, 3, 3], rng);
  checkModuleGradients("GRU", gru, [x], () => gru.forward(x, { lengths: [1, 3] }).output);
  checkModuleGradients("GRU h", gru, [x], () => gru.forward(x, { lengths: [1, 3] }).h);
});

class TiedDecoder extends Module {
  constructor(public weight: Parameter) {
    super();
  }
}

class Tiny extends Module {
  encoder = new Linear(2, 3, { rng: new Rng(1) });
  layer = [new Linear(3, 3, { rng: new Rng(2) }), new Linear(3, 3, { rng: new Rng(3) })];
  head = new Linear(3, 2, { rng: new Rng(4) });
  decoder = new TiedDecoder(this.encoder.weight); // an alias, as a tied LM decoder
}

test("Module: dotted names, tied weights once, state dict round trip and clear load errors", () => {
  const m = new Tiny();
  const names = m.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    "encoder.weight",
    "encoder.bias",
    "layer.0.weight",
    "layer.0.bias",
    "layer.1.weight",
    "layer.1.bias",
    "head.weight",
    "head.bias",
  ]);
  assert.equal(m.numParameters(), 6 + 3 + 12 + 12 + 6 + 2);
  const other = new Tiny();
  for (const p of other.parameters()) fill_(p, 0.5);
  const res = m.loadStateDict(other.stateDict());
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  assert.ok(m.parameters().every((p) => p.toArray().every((v) => v === 0.5)));
  // the alias name is accepted as well
  const sd = new Map(other.stateDict());
  sd.set("decoder.weight", sd.get("encoder.weight")!);
  m.loadStateDict(sd);
  // all problems in one error, naming keys and both shapes
  const bad = new Map(other.stateDict());
  bad.delete("head.bias");
  bad.set("layer.0.weight", randn([4, 3], new Rng(0)));
  bad.set("pooler.dense.weight", randn([1], new Rng(0)));
  assert.throws(
    () => m.loadStateDict(bad),
    (e: Error) => {
      assert.ok(e instanceof ShapeError);
      assert.match(e.message, /layer\.0\.weight: checkpoint \[4, 3\] vs model \[3, 3\]/);
      assert.match(e.message, /missing keys \(1\): head\.bias/);
      assert.match(e.message, /unexpected keys \(1\): pooler\.dense\.weight/);
      return true;
    },
  );
  bad.set("layer.0.weight", randn([3, 3], new Rng(0)));
  const lenient = m.loadStateDict(bad, { strict: false });
  assert.deepEqual(lenient, { missingKeys: ["head.bias"], unexpectedKeys: ["pooler.dense.weight"] });
});

test("Module: freezing by pattern, train/eval propagate", () => {
  const m = new Tiny();
  assert.deepEqual(m.freeze("layer.*.weight"), ["layer.0.weight", "layer.1.weight"]);
  assert.deepEqual(m.trainableParameters().length, 6);
  m.freeze();
  m.unfreeze(/^head\./);
  assert.deepEqual(
    m
      .namedParameters()
      .filter(([, p]) => p.requiresGrad)
      .map(([n]) => n),
    ["head.weight", "head.bias"],
  );
  m.eval();
  assert.ok(m.namedModules().every(([, c]) => !c.training));
  m.train();
  assert.ok(m.layer[1].training);
});

test("layers reject bad shapes with the op and shapes in the message", () => {
  const lin = new Linear(4, 3);
  assert.throws(
    () => lin.forward(randn([2, 5], new Rng(0))),
    /linear: input \[2, 5\] has 5 features but weight \[3, 4\] expects 4/,
  );
  const lstm = new LSTM(3, 4);
  assert.throws(() => lstm.forward(randn([2, 3], new Rng(0))), /LSTM: input must be \[batch, seq, 3\], got \[2, 3\]/);
  assert.throws(() => new MultiHeadSelfAttention({ dim: 5, heads: 2 }), /not divisible/);
});

test("skipInit builds layers without drawing weights (for loading checkpoints)", async () => {
  const { init } = await import("../../src/nn/index.js");
  const lin = init.skipInit(() => new Linear(3, 2));
  assert.ok(lin.weight.toArray().every((v) => v === 0));
  assert.equal(init.initSkipped(), false);
  assert.ok(new Linear(3, 2).weight.toArray().some((v) => v !== 0));
});
