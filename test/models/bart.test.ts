/**
 * BART against transformers 5.18 (test/fixtures/models/bart, written by scripts/fixtures/models/make_bart.py with
 * transformers itself): logits, loss, hidden states and gradients on a padded batch with -100 labels, greedy
 * decoding token for token, the keys save_pretrained writes, and cached decoding against full recomputation.
 * Tolerance 1e-4 absolute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Tensor, noGrad, tensor } from "../../src/tensor/index.js";
import { SafetensorsFile } from "../../src/io/safetensors.js";
import { Rng } from "../../src/util/rng.js";
import {
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  BartForConditionalGeneration,
  BartForSequenceClassification,
  BartModel,
  BART_CONFIG,
  type BartCache,
  type BartConfig,
  isSeq2SeqLM,
  configOfSize,
  generate,
  makeConfig,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, ids, maxAbsDiff, nested, tmpDir } from "./helpers.js";

const e = expected("bart");
const dir = fixtureDir("bart");
const load = () => BartForConditionalGeneration.fromPretrainedDir(dir);
const source = () => ({ inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask) });

function savedKeys(d: string): Record<string, number[]> {
  const f = SafetensorsFile.open(join(d, "model.safetensors"));
  try {
    return Object.fromEntries(f.names.sort().map((n) => [n, [...f.info(n)!.shape]]));
  } finally {
    f.close();
  }
}

test("bart: transformers' checkpoint loads with nothing missing or unused; the Auto class picks BART", () => {
  const m = load();
  assert.deepEqual(m.loadingInfo?.missingKeys, []);
  assert.deepEqual(m.loadingInfo?.unexpectedKeys, []);
  assert.ok(AutoModelForSeq2SeqLM.fromPretrainedDir(dir) instanceof BartForConditionalGeneration);
  assert.ok(isSeq2SeqLM(m));
  assert.equal(m.config.forced_eos_token_id, 2);
  // the three embedding tables and the LM head are one matrix
  assert.equal(m.model.encoder.embed_tokens.weight, m.model.shared.weight);
  assert.equal(m.model.decoder.embed_tokens.weight, m.model.shared.weight);
  assert.equal(m.lm_head.weight, m.model.shared.weight);
});

test("bart: logits, loss with -100 labels, encoder and decoder hidden states match transformers", () => {
  const m = load();
  const out = noGrad(() => m.forward({ ...source(), labels: ids(e.labels), outputHiddenStates: true }));
  assertClose("logits", out.logits, e.logits);
  assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) < 1e-4, `loss ${out.loss!.item()} vs ${e.loss}`);
  assertClose("encoder last hidden state", out.encoderLastHiddenState, e.encoder_last_hidden_state);
  const enc = e.encoder_hidden_states as unknown[];
  const dec = e.decoder_hidden_states as unknown[];
  assert.equal(out.encoderHiddenStates!.length, enc.length);
  assert.equal(out.decoderHiddenStates!.length, dec.length);
  enc.forEach((h, i) => assertClose(`encoder hidden state ${i}`, out.encoderHiddenStates![i], h));
  dec.forEach((h, i) => assertClose(`decoder hidden state ${i}`, out.decoderHiddenStates![i], h));
  assert.equal(out.pastKeyValues, null, "labels turn the cache off, as in transformers");
});

test("bart: gradients of named parameters match transformers (the padding row gets none from the lookups)", () => {
  const m = load();
  const out = m.forward({ ...source(), labels: ids(e.labels) });
  out.loss!.backward();
  const params = new Map(m.namedParameters({ removeDuplicate: false }));
  for (const [name, g] of Object.entries(e.grads as Record<string, unknown>)) {
    const p = params.get(name);
    assert.ok(p, `no parameter ${name}`);
    assert.ok(p.grad, `${name} has no gradient`);
    assertClose(`gradient of ${name}`, p.grad, g);
  }
  assert.equal(m.final_logits_bias.grad, null, "final_logits_bias is a buffer");
});

test("bart: explicit decoder inputs with a decoder attention mask, and decoder inputs shifted from inputIds", () => {
  const m = load();
  noGrad(() => {
    const masked = m.forward({
      ...source(),
      decoderInputIds: ids(e.decoder_input_ids),
      decoderAttentionMask: nested(e.decoder_attention_mask),
    });
    assertClose("logits with a decoder attention mask", masked.logits, e.masked_decoder_logits);
    assertClose("logits from inputIds alone", m.forward(source()).logits, e.logits_from_input_ids);
  });
});

test("bart: save_pretrained's keys exactly, for the LM and the base model; the saved files load back", () => {
  const keys = e.saved_keys as Record<string, Record<string, number[]>>;
  const m = load();
  const d = tmpDir("graft-bart-");
  m.savePretrained(d);
  assert.deepEqual(savedKeys(d), keys.BartForConditionalGeneration);
  // transformers 5's BartConfig refuses an int in its float-only fields
  const json = readFileSync(join(d, "config.json"), "utf8");
  for (const f of ["encoder_layerdrop", "decoder_layerdrop"]) assert.match(json, new RegExp(`"${f}": 0\\.0,`));
  const base = BartModel.fromPretrainedDir(dir);
  assert.deepEqual(base.loadingInfo?.unexpectedKeys, ["final_logits_bias"]);
  const d2 = tmpDir("graft-bart-base-");
  base.savePretrained(d2);
  assert.deepEqual(savedKeys(d2), keys.BartModel);
  // graft's own files give the same logits, and a base checkpoint loads under the LM (only the bias is new)
  const again = BartForConditionalGeneration.fromPretrainedDir(d);
  const fromBase = BartForConditionalGeneration.fromPretrainedDir(d2);
  assert.deepEqual(fromBase.loadingInfo?.missingKeys, ["final_logits_bias"]);
  noGrad(() => {
    assert.ok(maxAbsDiff(again.forward(source()).logits, m.forward(source()).logits) === 0);
  });
});

/** Greedy decoding with BART's forced tokens: forced_bos first, forced_eos at the last step, pad after eos. */
function greedy(m: BartForConditionalGeneration, maxNewTokens: number, useCache: boolean): number[][] {
  const c = m.config;
  const src = source();
  const b = src.inputIds.shape[0];
  return noGrad(() => {
    const enc = m.encode(src);
    const seqs = Array.from({ length: b }, () => [c.decoder_start_token_id!]);
    const done = new Array(b).fill(false);
    let cache: BartCache | null = null;
    for (let step = 0; step < maxNewTokens; step++) {
      const feed = useCache && cache ? seqs.map((s) => [s[s.length - 1]]) : seqs;
      const t = feed[0].length;
      const out = m.forward({
        attentionMask: src.attentionMask,
        encoderOutputs: enc,
        decoderInputIds: tensor(feed.flat(), [b, t], { dtype: "i32" }),
        pastKeyValues: useCache ? cache : null,
        useCache,
      });
      cache = out.pastKeyValues;
      const rows = out.logits.toRows();
      for (let i = 0; i < b; i++) {
        const last = rows[i * t + t - 1];
        let next = last.indexOf(Math.max(...last));
        if (step === 0 && c.forced_bos_token_id !== null) next = c.forced_bos_token_id!;
        if (step === maxNewTokens - 1 && c.forced_eos_token_id !== null) next = c.forced_eos_token_id!;
        if (done[i]) next = c.pad_token_id!;
        seqs[i].push(next);
        if (next === c.eos_token_id) done[i] = true;
      }
      if (done.every(Boolean)) break;
    }
    return seqs;
  });
}

test("bart: greedy decoding gives transformers' generate() tokens, with and without the cache", () => {
  const gen = e.generation as { greedy: number[][]; greedy_settings: { max_new_tokens: number } };
  const m = BartForConditionalGeneration.fromPretrainedDir(dir, { config: { forced_bos_token_id: 0 } });
  const n = gen.greedy_settings.max_new_tokens;
  assert.deepEqual(greedy(m, n, true), gen.greedy);
  assert.deepEqual(greedy(m, n, false), gen.greedy);
});

/** transformers' generate() settings (as the fixture stores them) → generate's options. */
function beamOptions(s: Record<string, number | boolean>) {
  return {
    maxNewTokens: s.max_new_tokens as number,
    minNewTokens: (s.min_new_tokens as number | undefined) ?? 0,
    numBeams: s.num_beams as number,
    lengthPenalty: s.length_penalty as number,
    noRepeatNgramSize: s.no_repeat_ngram_size as number,
    numReturnSequences: s.num_return_sequences as number,
    earlyStopping: s.early_stopping as boolean,
  };
}

test("bart: generate() gives transformers' greedy and beam-search tokens and scores (forced BOS/EOS from generation_config.json)", () => {
  const gen = e.generation as Record<string, unknown> & { greedy: number[][] };
  const m = load();
  assert.equal(m.generationConfig?.forced_bos_token_id, 0);
  for (const useCache of [true, false]) {
    assert.deepEqual(
      generate(m, source(), { maxNewTokens: 10, useCache }).sequences,
      gen.greedy,
      `greedy, cache ${useCache}`,
    );
    for (const name of ["beam", "beam_long"]) {
      const out = generate(m, source(), {
        ...beamOptions(gen[`${name}_settings`] as Record<string, number | boolean>),
        useCache,
      });
      assert.deepEqual(out.sequences, gen[name], `${name}, cache ${useCache}`);
      const want = gen[`${name}_scores`] as number[];
      out.sequencesScores!.forEach((s, i) =>
        assert.ok(Math.abs(s - want[i]) < 1e-4, `${name} score ${i}: ${s} vs ${want[i]}`),
      );
    }
  }
});

test("bart: cached decoding step by step equals full recomputation; reorderCache picks and repeats rows", () => {
  const m = load();
  const src = source();
  const target = [
    [2, 0, 33, 9, 70, 41],
    [2, 0, 88, 5, 17, 60],
  ];
  noGrad(() => {
    const enc = m.encode(src);
    const full = m.forward({
      attentionMask: src.attentionMask,
      encoderOutputs: enc,
      decoderInputIds: tensor(target.flat(), [2, 6], { dtype: "i32" }),
    }).logits; // [2, 6, V]
    const v = full.shape[2];
    const fullRows = full.toRows();
    let cache: BartCache | null = null;
    for (let j = 0; j < 6; j++) {
      const out = m.forward({
        attentionMask: src.attentionMask,
        encoderOutputs: enc,
        decoderInputIds: tensor([target[0][j], target[1][j]], [2, 1], { dtype: "i32" }),
        pastKeyValues: cache,
        useCache: true,
      });
      cache = out.pastKeyValues!;
      assert.equal(cache[0].selfKey.shape[2], j + 1);
      assert.equal(cache[0].crossKey.shape[2], 7, "cross-attention keys are the source's, computed once");
      const step = out.logits.toRows();
      for (let i = 0; i < 2; i++) {
        const want = fullRows[i * 6 + j];
        const d = Math.max(...step[i].map((x, k) => Math.abs(x - want[k])));
        assert.ok(d < 1e-4, `row ${i} step ${j}: cached logits differ by ${d}`);
      }
    }
    assert.equal(v, m.config.vocab_size);
    // rows [1, 0, 1]: the same as decoding that batch from scratch
    const rows = [1, 0, 1];
    const re = m.reorderCache(cache!, rows);
    const pick = (t: Tensor) => nested(rows.map((r) => t.toRows()[r]));
    const next = [7, 8, 9];
    const stepped = m.forward({
      attentionMask: pick(src.attentionMask),
      encoderOutputs: { lastHiddenState: nested(rows.map((r) => nestedRows(enc.lastHiddenState, r))) },
      decoderInputIds: tensor(next, [3, 1], { dtype: "i32" }),
      pastKeyValues: re,
      useCache: true,
    }).logits;
    const recomputed = m
      .forward({
        inputIds: tensor(
          rows.flatMap((r) => (e.input_ids as number[][])[r]),
          [3, 7],
          { dtype: "i32" },
        ),
        attentionMask: pick(src.attentionMask),
        decoderInputIds: tensor(
          rows.flatMap((r, i) => [...target[r], next[i]]),
          [3, 7],
          { dtype: "i32" },
        ),
      })
      .logits.toRows();
    const s = stepped.toRows();
    for (let i = 0; i < 3; i++) {
      const d = Math.max(...s[i].map((x, k) => Math.abs(x - recomputed[i * 7 + 6][k])));
      assert.ok(d < 1e-4, `reordered row ${i} differs by ${d}`);
    }
    assert.throws(() => m.reorderCache(cache!, [2]), /row 2 is outside \[0, 2\)/);
  });
});

/** Row r of a [B, S, H] tensor as nested [S][H] arrays. */
function nestedRows(t: Tensor, r: number): number[][] {
  const [, s] = t.shape;
  return t.toRows().slice(r * s, (r + 1) * s);
}

test("bart: bad inputs are named; a config from scratch builds, and its sizes follow the presets", () => {
  const m = load();
  assert.throws(() => m.forward({ inputIds: tensor([0, 500], [1, 2], { dtype: "i32" }) }), /input.*500/i);
  assert.throws(() => m.forward({ ...source(), labels: ids([[0, 2]]) }), /encoder's output must be \[1, S, 16\]/);
  assert.throws(() => m.forward({}), /give decoderInputIds, labels or inputIds/);
  const c = makeConfig("bart", {
    d_model: 8,
    encoder_layers: 1,
    decoder_layers: 1,
    encoder_attention_heads: 2,
    decoder_attention_heads: 2,
    encoder_ffn_dim: 16,
    decoder_ffn_dim: 16,
    vocab_size: 20,
    max_position_embeddings: 10,
  });
  const fresh = new BartForConditionalGeneration(c);
  assert.equal(
    fresh.numParameters(),
    BART_CONFIG.parameters!(c) + c.vocab_size,
    "the base model, and final_logits_bias",
  );
  assert.throws(
    () => makeConfig("bart", { d_model: 10, encoder_attention_heads: 3 }),
    /multiple of encoder_attention_heads/,
  );
});

test("bart: a preset-sized model trains: dropout and LayerDrop act in training mode, the loss back-propagates to the shared embeddings", () => {
  const c = configOfSize("bart", {
    layers: 2,
    hidden: 8,
    heads: 2,
    ffn: 16,
    positions: 32,
    vocabSize: 40,
    padTokenId: 1,
    eosTokenId: 2,
  });
  assert.deepEqual(
    [
      c.encoder_layers,
      c.decoder_layers,
      c.d_model,
      c.decoder_ffn_dim,
      c.max_position_embeddings,
      c.decoder_start_token_id,
    ],
    [2, 2, 8, 16, 32, 2],
  );
  const m = new BartForConditionalGeneration(
    { ...(c as BartConfig), encoder_layerdrop: 0.5, decoder_layerdrop: 0.5 },
    {
      rng: new Rng(3),
    },
  );
  m.train();
  const inputIds = tensor([0, 5, 6, 7, 2, 0, 9, 2, 1, 1], [2, 5], { dtype: "i32" });
  const labels = tensor([0, 8, 9, 2, 0, 10, 2, -100], [2, 4], { dtype: "i32" });
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) {
    m.zeroGrad();
    const out = m.forward({
      inputIds,
      attentionMask: nested([
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ]),
      labels,
    });
    out.loss!.backward();
    losses.push(out.loss!.item());
  }
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(new Set(losses).size > 1, "dropout changes the loss between steps in training mode");
  assert.ok(m.model.shared.weight.grad, "the shared embeddings get a gradient");
  assert.equal(m.final_logits_bias.grad, null);
});

test("bart: sequence classification reads the decoder at the last eos token, as transformers; saves its keys", () => {
  const ec = expected("bart-cls");
  const m = AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("bart-cls"));
  assert.ok(m instanceof BartForSequenceClassification);
  assert.deepEqual(m.loadingInfo?.missingKeys, []);
  const out = noGrad(() =>
    m.forward({ inputIds: ids(ec.input_ids), attentionMask: nested(ec.attention_mask), labels: ids(ec.labels) }),
  );
  assertClose("classifier logits", out.logits, ec.logits);
  assert.ok(Math.abs(out.loss!.item() - (ec.loss as number)) < 1e-4, `loss ${out.loss!.item()} vs ${ec.loss}`);
  const d = tmpDir("graft-bart-cls-");
  m.savePretrained(d);
  assert.deepEqual(savedKeys(d), ec.saved_keys);
  // the LM's checkpoint gives the backbone; the head is new
  const fromLm = BartForSequenceClassification.fromPretrainedDir(dir, { numLabels: 3 });
  assert.deepEqual(fromLm.loadingInfo?.missingKeys.sort(), [
    "classification_head.dense.bias",
    "classification_head.dense.weight",
    "classification_head.out_proj.bias",
    "classification_head.out_proj.weight",
  ]);
  assert.throws(
    () =>
      m.forward({
        inputIds: ids([
          [0, 5, 2],
          [0, 2, 2],
        ]),
      }),
    /same number \(at least one\) of eos tokens \(2\); the rows hold 1, 2/,
  );
});
