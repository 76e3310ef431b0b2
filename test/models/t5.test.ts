/**
 * T5 against transformers 5.x on the tiny checkpoints of scripts/fixtures/models/make_t5_fixtures.py (t5-v1_0: ReLU,
 * tied and scaled head; t5-v1_1: gated GELU, its own lm_head): outputs, loss, gradients, greedy decoding with the
 * cache, checkpoint names both ways; and the cache against full recomputation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Tensor, argmax, concat, noGrad, slice, tensor } from "../../src/tensor/index.js";
import { ArgumentError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { readSafetensorsHeader } from "../../src/io/safetensors.js";
import {
  AutoModelForSeq2SeqLM,
  T5EncoderModel,
  T5ForConditionalGeneration,
  T5Model,
  configOfSize,
  generate,
  isSeq2SeqLM,
  makeConfig,
  readConfig,
  relativePositionBucket,
  type T5Cache,
  type T5Config,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, ids, maxAbsDiff, nested, tmpDir } from "./helpers.js";

const VARIANTS = ["t5-v1_0", "t5-v1_1"] as const;

function load(name: string): T5ForConditionalGeneration {
  return T5ForConditionalGeneration.fromPretrainedDir(fixtureDir(name));
}

function savedKeys(dir: string): Record<string, number[]> {
  const header = readSafetensorsHeader(join(dir, "model.safetensors"));
  return Object.fromEntries(header.tensors.map((t) => [t.name, [...t.shape]]));
}

for (const name of VARIANTS) {
  test(`${name}: hidden states, attentions, logits and loss with -100 labels match transformers`, () => {
    const e = expected(name);
    const model = load(name);
    assert.deepEqual(model.loadingInfo?.missingKeys, []);
    assert.deepEqual(model.loadingInfo?.unexpectedKeys, []);
    assert.ok(isSeq2SeqLM(model));
    // v1.1's file holds its own lm_head although config.json says tied (transformers 5.x): the file wins
    assert.equal(model.lm_head.weight === model.shared.weight, name === "t5-v1_0");
    assert.equal(model.config.scale_decoder_outputs, name === "t5-v1_0");
    const out = noGrad(() =>
      model.forward({
        inputIds: ids(e.input_ids),
        attentionMask: nested(e.attention_mask),
        labels: ids(e.labels),
        outputHiddenStates: true,
        outputAttentions: true,
      }),
    );
    assertClose(`${name} encoder_last_hidden_state`, out.encoderLastHiddenState, e.encoder_last_hidden_state);
    const encHs = e.encoder_hidden_states as unknown[];
    const decHs = e.decoder_hidden_states as unknown[];
    assert.equal(out.encoderHiddenStates?.length, encHs.length);
    assert.equal(out.decoderHiddenStates?.length, decHs.length);
    encHs.forEach((h, i) => assertClose(`${name} encoder_hidden_states[${i}]`, out.encoderHiddenStates![i], h));
    decHs.forEach((h, i) => assertClose(`${name} decoder_hidden_states[${i}]`, out.decoderHiddenStates![i], h));
    assertClose(`${name} encoder attentions[0]`, out.encoderAttentions![0], e.encoder_attentions_0);
    assertClose(`${name} decoder attentions[0]`, out.decoderAttentions![0], e.decoder_attentions_0);
    assertClose(`${name} cross attentions[1]`, out.crossAttentions![1], e.cross_attentions_1);
    assertClose(`${name} logits`, out.logits, e.logits);
    assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) < 1e-4, `${name} loss ${out.loss!.item()} vs ${e.loss}`);
  });

  test(`${name}: gradients of named parameters (relative bias tables, shared embedding, feed-forward) match transformers`, () => {
    const e = expected(name);
    const model = load(name);
    const out = model.forward({
      inputIds: ids(e.input_ids),
      attentionMask: nested(e.attention_mask),
      labels: ids(e.labels),
    });
    out.loss!.backward();
    const params = new Map(model.namedParameters({ removeDuplicate: false }));
    const grads = e.grads as Record<string, unknown>;
    assert.ok(Object.keys(grads).length >= 7);
    for (const [n, g] of Object.entries(grads)) {
      const p = params.get(n);
      assert.ok(p, `${name}: no parameter ${n}`);
      assert.ok(p.grad, `${name}: ${n} has no gradient`);
      assertClose(`${name} grad ${n}`, p.grad, g);
    }
  });

  test(`${name}: explicit decoder inputs with a decoder attention mask, and labels shifted as transformers shifts them`, () => {
    const e = expected(name);
    const model = load(name);
    const m = e.masked_decoder as Record<string, unknown>;
    const out = noGrad(() =>
      model.forward({
        inputIds: ids(e.input_ids),
        attentionMask: nested(e.attention_mask),
        decoderInputIds: ids(m.decoder_input_ids),
        decoderAttentionMask: nested(m.decoder_attention_mask),
      }),
    );
    assertClose(`${name} masked decoder logits`, out.logits, m.logits);
    assert.equal(out.loss, null);
    // labels alone: decoder inputs are labels shifted right with decoder_start_token_id, -100 → pad
    const shifted = ids(e.decoder_input_ids_from_labels);
    const a = noGrad(() => model.forward({ inputIds: ids(e.input_ids), labels: ids(e.labels) }).logits);
    const b = noGrad(() => model.forward({ inputIds: ids(e.input_ids), decoderInputIds: shifted }).logits);
    assert.equal(maxAbsDiff(a, b), 0);
  });

  test(`${name}: greedy decoding with the cache gives transformers' generate() token ids`, () => {
    const e = expected(name);
    const g = e.generate as { input_ids: number[][]; attention_mask: number[][]; greedy: { sequences: number[][] } };
    const want = g.greedy.sequences;
    const got = greedy(load(name), ids(g.input_ids), nested(g.attention_mask), want[0].length - 1);
    assert.deepEqual(got, want);
  });

  test(`${name}: generate() gives transformers' greedy and beam-search ids (3 beams, length penalty 0.6, no-repeat 2-grams, 2 returned)`, () => {
    const e = expected(name);
    const g = e.generate as {
      input_ids: number[][];
      attention_mask: number[][];
      greedy: { max_new_tokens: number; sequences: number[][] };
      beam: {
        num_beams: number;
        length_penalty: number;
        no_repeat_ngram_size: number;
        num_return_sequences: number;
        max_new_tokens: number;
        early_stopping: boolean;
        sequences: number[][];
        sequences_scores: number[];
      };
    };
    const model = load(name);
    const prompts = { inputIds: ids(g.input_ids), attentionMask: nested(g.attention_mask) };
    for (const useCache of [true, false]) {
      const greedyOut = generate(model, prompts, { maxNewTokens: g.greedy.max_new_tokens, useCache });
      assert.deepEqual(greedyOut.sequences, g.greedy.sequences, `greedy, useCache=${useCache}`);
      const b = g.beam;
      const beam = generate(model, prompts, {
        numBeams: b.num_beams,
        lengthPenalty: b.length_penalty,
        noRepeatNgramSize: b.no_repeat_ngram_size,
        numReturnSequences: b.num_return_sequences,
        maxNewTokens: b.max_new_tokens,
        earlyStopping: b.early_stopping,
        useCache,
      });
      assert.deepEqual(beam.sequences, b.sequences, `beams, useCache=${useCache}`);
      b.sequences_scores.forEach((want, i) =>
        assert.ok(
          Math.abs(beam.sequencesScores![i] - want) < 1e-4,
          `beam score ${i}: ${beam.sequencesScores![i]} vs ${want}`,
        ),
      );
    }
  });

  test(`${name}: a graft-saved checkpoint has transformers' names, and loads back to the same outputs`, () => {
    const e = expected(name);
    const model = load(name);
    const dir = tmpDir();
    model.savePretrained(dir);
    assert.deepEqual(savedKeys(dir), e.checkpoint_keys);
    const config = readConfig(dir) as T5Config;
    assert.equal(config.scale_decoder_outputs, name === "t5-v1_0");
    assert.equal(config.tie_word_embeddings, name === "t5-v1_0");
    // transformers 5.x's strict T5Config refuses an int where it types a float: 1.0, not 1
    assert.match(readFileSync(join(dir, "config.json"), "utf8"), /\n {2}"initializer_factor": 1\.0,\n/);
    const again = AutoModelForSeq2SeqLM.fromPretrainedDir(dir);
    assert.ok(again instanceof T5ForConditionalGeneration);
    const inputs = { inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask), labels: ids(e.labels) };
    const x = noGrad(() => model.forward(inputs).logits);
    const y = noGrad(() => again.forward(inputs).logits);
    assert.equal(maxAbsDiff(x, y), 0);
    // fresh models of each class from the fixture's config: the names transformers' save_pretrained writes
    const fresh = readConfig(fixtureDir(name)) as T5Config;
    const hf = e.hf_saved_keys as Record<string, Record<string, number[]>>;
    for (const cls of [T5Model, T5ForConditionalGeneration, T5EncoderModel]) {
      const d = tmpDir();
      new cls(fresh, { rng: new Rng(3) }).savePretrained(d);
      assert.deepEqual(savedKeys(d), hf[cls.architecture], `${name} ${cls.architecture}`);
    }
  });

  test(`${name}: decoding step by step with the cache equals one full decoder pass; reorderCache picks beams`, () => {
    const e = expected(name);
    const model = load(name);
    const g = e.generate as { input_ids: number[][]; attention_mask: number[][]; greedy: { sequences: number[][] } };
    const src = ids(g.input_ids);
    const srcMask = nested(g.attention_mask);
    const dec = ids(g.greedy.sequences); // [2, 9]
    const t = dec.shape[1];
    noGrad(() => {
      const enc = model.encode({ inputIds: src, attentionMask: srcMask });
      const full = model.forward({ encoderOutputs: enc, attentionMask: srcMask, decoderInputIds: dec }).logits;
      let cache: T5Cache | null = null;
      const steps: Tensor[] = [];
      for (let i = 0; i < t; i++) {
        const out = model.forward({
          encoderOutputs: enc,
          attentionMask: srcMask,
          decoderInputIds: slice(dec, 1, i, i + 1),
          pastKeyValues: cache,
          useCache: true,
        });
        cache = out.pastKeyValues;
        steps.push(out.logits);
      }
      assert.ok(maxAbsDiff(concat(steps, 1), full) < 1e-5, "cached steps differ from the full pass");
      assert.equal(cache![0].self.key.shape[2], t);
      // beams: rows [1, 0, 1] of the cache continue as rows [1, 0, 1] of the batch would
      const rows = [1, 0, 1];
      const pick = (x: Tensor) =>
        concat(
          rows.map((r) => slice(x, 0, r, r + 1)),
          0,
        );
      const reordered = model.reorderCache(cache!, rows);
      const next = tensor([5, 6, 7], [3, 1], { dtype: "i32" });
      const encRows = { lastHiddenState: pick(enc.lastHiddenState) };
      const stepped = model.forward({
        encoderOutputs: encRows,
        attentionMask: pick(srcMask),
        decoderInputIds: next,
        pastKeyValues: reordered,
        useCache: true,
      }).logits;
      const whole = model.forward({
        encoderOutputs: encRows,
        attentionMask: pick(srcMask),
        decoderInputIds: concat([pick(dec), next], 1),
      }).logits;
      assert.ok(maxAbsDiff(stepped, slice(whole, 1, t, t + 1)) < 1e-5, "reordered cache differs");
    });
  });
}

/** Greedy decoding as transformers' generate: the encoder once, one token per step, pad after EOS. */
function greedy(model: T5ForConditionalGeneration, src: Tensor, srcMask: Tensor, maxNewTokens: number): number[][] {
  const c = model.config;
  const b = src.shape[0];
  return noGrad(() => {
    const enc = model.encode({ inputIds: src, attentionMask: srcMask });
    const seqs = Array.from({ length: b }, () => [c.decoder_start_token_id!]);
    const done = new Array<boolean>(b).fill(false);
    let cache: T5Cache | null = null;
    for (let step = 0; step < maxNewTokens && !done.every(Boolean); step++) {
      const last = tensor(
        seqs.map((s) => s[s.length - 1]),
        [b, 1],
        { dtype: "i32" },
      );
      const out = model.forward({
        encoderOutputs: enc,
        attentionMask: srcMask,
        decoderInputIds: last,
        pastKeyValues: cache,
        useCache: true,
      });
      cache = out.pastKeyValues;
      const next = argmax(out.logits, -1).toArray(); // [B, 1]
      for (let i = 0; i < b; i++) {
        seqs[i].push(done[i] ? c.pad_token_id! : next[i]);
        if (next[i] === c.eos_token_id) done[i] = true;
      }
    }
    return seqs;
  });
}

test("t5: relative position buckets as transformers' _relative_position_bucket (default 32 buckets, 128 distance)", () => {
  // values from transformers 5.x: T5Attention._relative_position_bucket(torch.tensor([...]), ...)
  const rel = [-200, -128, -64, -17, -16, -9, -8, -7, -1, 0, 1, 7, 8, 9, 15, 16, 17, 64, 127, 128, 500];
  const bi = [15, 15, 14, 10, 10, 8, 8, 7, 1, 0, 17, 23, 24, 24, 25, 26, 26, 30, 31, 31, 31];
  const causal = [31, 31, 26, 16, 16, 9, 8, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.deepEqual(
    rel.map((r) => relativePositionBucket(r, true, 32, 128)),
    bi,
  );
  assert.deepEqual(
    rel.map((r) => relativePositionBucket(r, false, 32, 128)),
    causal,
  );
});

test("t5: a model from a size preset (gated GELU, tied and scaled head) trains a step; bad configs and inputs are refused clearly", () => {
  const config = configOfSize("t5", {
    layers: 1,
    hidden: 16,
    heads: 2,
    ffn: 32,
    positions: 64,
    vocabSize: 50,
    padTokenId: 0,
    eosTokenId: 1,
  }) as T5Config;
  assert.equal(config.feed_forward_proj, "gated-gelu");
  // tied, with the decoder output scaled by d_model^-0.5: the head starts at logits of about unit scale
  assert.equal(config.tie_word_embeddings, true);
  assert.equal(config.scale_decoder_outputs, true);
  const model = new T5ForConditionalGeneration(config, { rng: new Rng(7) });
  assert.equal(model.lm_head.weight, model.shared.weight);
  const out = model.forward({
    inputIds: tensor([3, 4, 5, 1], [1, 4], { dtype: "i32" }),
    labels: tensor([6, 7, 1], [1, 3], { dtype: "i32" }),
  });
  assert.ok(Number.isFinite(out.loss!.item()));
  out.loss!.backward();
  const bias = model.encoder.block[0].selfAttention.relative_attention_bias!.weight;
  assert.ok(
    bias.grad?.toArray().some((v) => v !== 0),
    "the encoder's bias table gets a gradient",
  );
  assert.throws(
    () => makeConfig("t5", { feed_forward_proj: "gated-nope" }),
    /feed_forward_proj "gated-nope".*unknown activation/,
  );
  assert.throws(() => makeConfig("t5", { feed_forward_proj: "relu-gated" }), /must be "ACT" or "gated-ACT"/);
  assert.throws(
    () => model.forward({ inputIds: tensor([3, 4], [1, 2], { dtype: "i32" }) }),
    (err: unknown) => err instanceof ArgumentError && /decoderInputIds or labels/.test(err.message),
  );
  assert.throws(
    () =>
      model.forward({
        inputIds: tensor([3, 99], [1, 2], { dtype: "i32" }),
        labels: tensor([1], [1, 1], { dtype: "i32" }),
      }),
    /token id 99 .* outside \[0, 50\)/,
  );
});

test("t5: a decoder with more blocks than the encoder caches one entry per decoder block, equal to full recomputation", () => {
  const config = makeConfig("t5", {
    vocab_size: 40,
    d_model: 8,
    d_kv: 3,
    d_ff: 12,
    num_layers: 1,
    num_decoder_layers: 3,
    num_heads: 2,
    relative_attention_num_buckets: 8,
    relative_attention_max_distance: 10,
  }) as T5Config;
  const model = new T5ForConditionalGeneration(config, { rng: new Rng(5) });
  model.eval();
  const src = tensor([4, 9, 13, 2, 1], [1, 5], { dtype: "i32" });
  const dec = tensor([0, 7, 21, 3, 30, 11, 6, 8, 19, 25, 5, 1], [1, 12], { dtype: "i32" });
  noGrad(() => {
    const enc = model.encode({ inputIds: src });
    const full = model.forward({ encoderOutputs: enc, decoderInputIds: dec }).logits;
    let cache: T5Cache | null = null;
    const steps: Tensor[] = [];
    for (let i = 0; i < 12; i++) {
      const out = model.forward({
        encoderOutputs: enc,
        decoderInputIds: slice(dec, 1, i, i + 1),
        pastKeyValues: cache,
        useCache: true,
      });
      cache = out.pastKeyValues;
      steps.push(out.logits);
    }
    assert.equal(cache!.length, 3);
    assert.ok(maxAbsDiff(concat(steps, 1), full) < 1e-5);
  });
});
