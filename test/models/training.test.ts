/**
 * The models train: finite-difference gradient checks of whole tiny models through their losses, dropout only in
 * training mode, the regression loss, AWD-LSTM's dropouts, and a few AdamW steps that fit a toy task.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { Tensor, noGrad, tensor } from "../../src/tensor/index.js";
import { makeConfig } from "../../src/models/index.js";
import { AdamW } from "../../src/optim/index.js";
import {
  BertForSequenceClassification,
  DistilBertForMaskedLM,
  GPT2LMHeadModel,
  GraftLstmForCausalLM,
  GraftLstmForSequenceClassification,
  RobertaForTokenClassification,
  padBatch,
} from "../../src/models/index.js";
import { checkModuleGradients } from "../nn/module-gradcheck.js";

const tinyBert = (fields: Record<string, unknown> = {}) =>
  makeConfig("bert", {
    vocab_size: 13,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 10,
    max_position_embeddings: 16,
    initializer_range: 0.3,
    ...fields,
  });
const batch = padBatch(
  [
    [2, 5, 7, 3],
    [4, 9],
  ],
  0,
);
const i32 = (v: number[], shape: number[]) => tensor(v, shape, { dtype: "i32" });

test("gradients of whole models through their losses match finite differences", () => {
  // tiny sizes: every parameter element is perturbed twice
  const bert = new BertForSequenceClassification(
    tinyBert({ vocab_size: 11, hidden_size: 4, intermediate_size: 5, max_position_embeddings: 5, num_labels: 3 }),
    { rng: new Rng(1) },
  ).eval();
  checkModuleGradients(
    "BertForSequenceClassification",
    bert,
    [],
    () => bert.forward({ ...batch, labels: i32([2, 0], [2]) }).loss!,
  );

  const gpt = new GPT2LMHeadModel(
    makeConfig("gpt2", {
      vocab_size: 7,
      n_positions: 5,
      n_embd: 4,
      n_inner: 6,
      n_layer: 1,
      n_head: 2,
      initializer_range: 0.3,
    }),
    { rng: new Rng(2) },
  ).eval();
  const g = padBatch(
    [
      [1, 2, 3, 4],
      [5, 6],
    ],
    0,
  );
  checkModuleGradients(
    "GPT2LMHeadModel",
    gpt,
    [],
    () => gpt.forward({ ...g, labels: i32([1, 2, 3, 4, 5, 6, -100, -100], [2, 4]) }).loss!,
  );

  const lstm = new GraftLstmForSequenceClassification(
    makeConfig("graft-lstm", {
      vocab_size: 6,
      embedding_size: 3,
      hidden_size: 3,
      num_layers: 2,
      classifier_hidden_size: 2,
      num_labels: 2,
    }),
    { rng: new Rng(3) },
  ).eval();
  checkModuleGradients(
    "GraftLstmForSequenceClassification",
    lstm,
    [],
    () =>
      lstm.forward({
        inputIds: i32([1, 2, 3, 0, 4, 5, 0, 0], [2, 4]),
        attentionMask: tensor([1, 1, 1, 0, 1, 1, 0, 0], [2, 4]),
        labels: i32([1, 0], [2]),
      }).loss!,
  );
});

test("dropout is active only in training mode and draws from the model's generator", () => {
  const rng = new Rng(4);
  const model = new RobertaForTokenClassification(
    makeConfig("roberta", {
      vocab_size: 13,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 10,
      max_position_embeddings: 20,
      hidden_dropout_prob: 0.3,
      num_labels: 2,
    }),
    { rng },
  );
  const ids = padBatch(
    [
      [0, 5, 7, 2],
      [0, 9, 2],
    ],
    1,
  );
  const run = () => noGrad(() => model.forward(ids).logits.toArray());
  model.train();
  const a = run(),
    b = run();
  assert.notDeepEqual(a, b, "two training passes draw different masks");
  const saved = rng.getState();
  const c = run();
  rng.setState(saved);
  assert.deepEqual(run(), c, "same generator state, same masks");
  model.eval();
  assert.deepEqual(run(), run());
});

test("regression: one label and f32 labels give the mean squared error, and problem_type becomes regression", () => {
  const model = new BertForSequenceClassification(tinyBert({ num_labels: 1 }), { rng: new Rng(5) }).eval();
  const labels = tensor([0.5, -1.25], [2]);
  const out = model.forward({ ...batch, labels });
  const [p0, p1] = out.logits.toArray();
  assert.ok(Math.abs(out.loss!.item() - ((p0 - 0.5) ** 2 + (p1 + 1.25) ** 2) / 2) < 1e-6);
  assert.equal(model.config.problem_type, "regression");
  assert.throws(
    () =>
      new BertForSequenceClassification(
        tinyBert({ num_labels: 3, problem_type: "single_label_classification" }),
      ).forward({ ...batch, labels: tensor([0.5, 1], [2]) }),
    /single-label classification needs one integer label per example/,
  );
});

test("AWD-LSTM dropouts (embedding rows, variational, DropConnect) run in training and gradients reach every weight", () => {
  const config = makeConfig("graft-lstm", {
    vocab_size: 12,
    embedding_size: 6,
    hidden_size: 7,
    num_layers: 3,
    weight_dropout: 0.5,
    embedding_dropout: 0.2,
    input_dropout: 0.2,
    hidden_dropout: 0.2,
    output_dropout: 0.2,
  });
  const model = new GraftLstmForCausalLM(config, { rng: new Rng(6) });
  assert.deepEqual(
    model.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`),
    [
      "embeddings.weight[12,6]",
      "lstm.weight_ih_l0[28,6]",
      "lstm.weight_hh_l0[28,7]",
      "lstm.bias_ih_l0[28]",
      "lstm.bias_hh_l0[28]",
      "lstm.weight_ih_l1[28,7]",
      "lstm.weight_hh_l1[28,7]",
      "lstm.bias_ih_l1[28]",
      "lstm.bias_hh_l1[28]",
      "lstm.weight_ih_l2[24,7]",
      "lstm.weight_hh_l2[24,6]",
      "lstm.bias_ih_l2[24]",
      "lstm.bias_hh_l2[24]",
      "decoder.bias[12]",
    ],
    "torch names, the last layer sized to the embedding so the decoder can share it",
  );
  const ids = padBatch(
    [
      [1, 2, 3, 4, 5],
      [6, 7, 8],
    ],
    0,
  );
  const labels = i32([1, 2, 3, 4, 5, 6, 7, 8, -100, -100], [2, 5]);
  model.train();
  const a = model.forward({ ...ids, labels }).loss!;
  a.backward();
  for (const [n, p] of model.namedParameters())
    assert.ok(
      p.grad?.toArray().some((v) => v !== 0),
      `${n} got no gradient`,
    );
  const b = noGrad(() => model.forward({ ...ids, labels }).loss!.item());
  assert.notEqual(a.item(), b, "training passes differ");
  model.eval();
  const e1 = noGrad(() => model.forward({ ...ids, labels }).loss!.item());
  assert.equal(
    e1,
    noGrad(() => model.forward({ ...ids, labels }).loss!.item()),
  );
});

test("a few AdamW steps fit a toy task (DistilBERT MLM: predict the token after 5 is 6)", () => {
  const model = new DistilBertForMaskedLM(
    makeConfig("distilbert", {
      vocab_size: 10,
      dim: 16,
      n_layers: 1,
      n_heads: 2,
      hidden_dim: 24,
      max_position_embeddings: 8,
      dropout: 0,
      attention_dropout: 0,
    }),
    { rng: new Rng(7) },
  );
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  const inputs = {
    inputIds: i32([5, 3, 2, 1, 5, 3, 4, 1], [2, 4]),
    labels: i32([-100, 6, -100, -100, -100, 6, -100, -100], [2, 4]),
  };
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    opt.zeroGrad();
    const loss = model.forward(inputs).loss!;
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses[29] < losses[0] / 10, `loss ${losses[0].toFixed(3)} → ${losses[29].toFixed(3)}`);
  const logits = noGrad(() => model.eval().forward(inputs).logits);
  const row = logits.toArray().slice(10, 20);
  assert.equal(row.indexOf(Math.max(...row)), 6);
});

test("models refuse inputs they cannot read, saying what and where", () => {
  const model = new BertForSequenceClassification(tinyBert(), { rng: new Rng(8) });
  assert.throws(
    () => model.forward({ inputIds: new Tensor(new Float32Array(4), [1, 4]) }),
    /BertModel: inputIds must be an i32 tensor \[batch, seq\], got f32\[1, 4\]/,
  );
  assert.throws(
    () => model.forward({ inputIds: i32([1, 2, 13], [1, 3]) }),
    /bert: input id 13 at flat index 2 is outside \[0, 13\)/,
  );
  assert.throws(
    () => model.forward({ inputIds: i32(new Array(17).fill(1), [1, 17]) }),
    /a sequence of 17 tokens is longer than max_position_embeddings \(16\)/,
  );
  assert.throws(
    () => model.forward({ ...batch, attentionMask: tensor([1, 1, 1], [1, 3]) }),
    /attentionMask must be \[2, 4\] like inputIds, got \[1, 3\]/,
  );
});
