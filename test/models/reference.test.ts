/**
 * Our forward passes against the reference outputs in test/fixtures/models (tiny random checkpoints, a padded
 * batch). The reference is scripts/fixtures/models/make_fixtures.py: transformers' modeling code re-implemented
 * line by line in PyTorch (transformers itself is not installable on the build machine), checked against
 * transformers 5 by check_with_transformers.py. Tolerance 1e-4 absolute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Tensor, noGrad } from "../../src/tensor/index.js";
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  BertForSequenceClassification,
  GPT2LMHeadModel,
  RobertaModel,
  GraftLstmForSequenceClassification,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, ids, nested, rowsOf } from "./helpers.js";

function batch(e: Record<string, unknown>, withTypes = false) {
  return {
    inputIds: ids(e.input_ids),
    attentionMask: nested(e.attention_mask),
    tokenTypeIds: withTypes && e.token_type_ids ? ids(e.token_type_ids) : null,
  };
}

function assertLoss(what: string, loss: Tensor | null, want: unknown): void {
  assert.ok(loss, `${what}: no loss returned`);
  assert.ok(Math.abs(loss.item() - (want as number)) <= 1e-4, `${what}: loss ${loss.item()} vs reference ${want}`);
}

for (const family of ["bert", "roberta", "distilbert"] as const) {
  test(`${family}: last hidden state${family === "distilbert" ? "" : ", pooler output"}, MLM, sequence and token logits match the reference on a padded batch`, () => {
    const e = expected(family);
    const dir = fixtureDir(family);
    const inputs = batch(e, family === "bert");
    noGrad(() => {
      const encoder = AutoModel.fromPretrainedDir(dir);
      const base = encoder.forward(inputs);
      assertClose(`${family} last_hidden_state`, base.lastHiddenState, e.last_hidden_state);
      const i32Mask = encoder.forward({ ...inputs, attentionMask: ids(e.attention_mask) }).lastHiddenState; // as tokenizers give it
      assertClose(`${family} last_hidden_state, i32 mask`, i32Mask, e.last_hidden_state);
      if (family === "distilbert") assert.equal(base.poolerOutput, null);
      else assertClose(`${family} pooler_output`, base.poolerOutput!, e.pooler_output);

      const mlm = AutoModelForMaskedLM.fromPretrainedDir(dir);
      assertClose(`${family} MLM logits`, mlm.forward(inputs).logits, e.mlm_logits);

      const seq = AutoModelForSequenceClassification.fromPretrainedDir(dir);
      assert.deepEqual(
        seq.loadingInfo!.missingKeys,
        [],
        "the fixture holds the classifier: nothing is newly initialized",
      );
      assertClose(`${family} sequence logits`, seq.forward(inputs).logits, e.seq_logits);

      if (e.token_logits) {
        const tok = AutoModelForTokenClassification.fromPretrainedDir(dir);
        assertClose(`${family} token logits`, tok.forward(inputs).logits, e.token_logits);
      }
    });
  });

  test(`${family}: losses equal the reference (MLM, single-label, multi-label, token)`, () => {
    const e = expected(family);
    const dir = fixtureDir(family);
    const inputs = batch(e, family === "bert");
    noGrad(() => {
      const seq = AutoModelForSequenceClassification.fromPretrainedDir(dir);
      const losses = e.seq_loss as { single_label: number; multi_label: number };
      assertLoss("single-label", seq.forward({ ...inputs, labels: ids(e.seq_labels) }).loss, losses.single_label);
      assert.equal(
        seq.config.problem_type,
        "single_label_classification",
        "integer labels with 3 classes infer single-label, remembered in the config",
      );
      const multi = AutoModelForSequenceClassification.fromPretrainedDir(dir);
      assertLoss("multi-label", multi.forward({ ...inputs, labels: nested(e.multi_labels) }).loss, losses.multi_label);
      assert.equal(multi.config.problem_type, "multi_label_classification");
      if (e.mlm_loss !== undefined) {
        assertLoss(
          "MLM",
          AutoModelForMaskedLM.fromPretrainedDir(dir).forward({ ...inputs, labels: ids(e.mlm_labels) }).loss,
          e.mlm_loss,
        );
      }
      if (e.token_loss !== undefined) {
        assertLoss(
          "token",
          AutoModelForTokenClassification.fromPretrainedDir(dir).forward({ ...inputs, labels: ids(e.token_labels) })
            .loss,
          e.token_loss,
        );
      }
    });
  });
}

test("bert: token types change the output (the pair in row 0), defaulting to zeros", () => {
  const e = expected("bert");
  const model = BertForSequenceClassification.fromPretrainedDir(fixtureDir("bert"));
  noGrad(() => {
    const withTypes = model.forward(batch(e, true)).logits;
    const without = model.forward(batch(e, false)).logits;
    assert.ok(Math.abs(withTypes.toArray()[0] - without.toArray()[0]) > 1e-3, "row 0 has segment B tokens");
    assert.deepEqual(rowsOf(withTypes, 1, 0, 1), rowsOf(without, 1, 0, 1), "row 1 is all segment A");
  });
});

test("roberta: positions count real tokens from padding_idx + 1, so left padding leaves real tokens' states unchanged", () => {
  const e = expected("roberta");
  const model = RobertaModel.fromPretrainedDir(fixtureDir("roberta"));
  noGrad(() => {
    const left = model.forward({
      inputIds: ids(e.left_input_ids),
      attentionMask: nested(e.left_attention_mask),
    }).lastHiddenState;
    assertClose("roberta left-padded last_hidden_state", left, e.left_last_hidden_state);
    const right = model.forward(batch(e)).lastHiddenState;
    const lengths = (e.attention_mask as number[][]).map((r) => r.reduce((s, v) => s + v, 0));
    const T = lengths.length && (e.attention_mask as number[][])[0].length;
    lengths.forEach((n, b) => {
      const a = rowsOf(right, b, 0, n),
        c = rowsOf(left, b, T - n, T);
      assert.ok(
        a.every((v, i) => Math.abs(v - c[i]) < 1e-4),
        `row ${b}: real tokens differ between right and left padding`,
      );
    });
  });
});

test("gpt2: last hidden state, LM logits and loss, sequence logits (last non-pad token) match the reference", () => {
  const e = expected("gpt2");
  const dir = fixtureDir("gpt2");
  const inputs = batch(e);
  noGrad(() => {
    assertClose(
      "gpt2 last_hidden_state",
      AutoModel.fromPretrainedDir(dir).forward(inputs).lastHiddenState,
      e.last_hidden_state,
    );
    const lm = AutoModelForCausalLM.fromPretrainedDir(dir);
    assert.ok(lm instanceof GPT2LMHeadModel);
    const out = lm.forward({ ...inputs, labels: ids(e.lm_labels) });
    assertClose("gpt2 LM logits", out.logits, e.lm_logits);
    assertLoss("gpt2 LM", out.loss, e.lm_loss);
    const seq = AutoModelForSequenceClassification.fromPretrainedDir(dir);
    assertClose("gpt2 sequence logits", seq.forward(inputs).logits, e.seq_logits);
    const losses = e.seq_loss as { single_label: number; multi_label: number };
    assertLoss("gpt2 single-label", seq.forward({ ...inputs, labels: ids(e.seq_labels) }).loss, losses.single_label);
  });
});

test("gpt2: left padding — real tokens as the reference, and padding before the first token gets a zero context (as transformers' SDPA)", () => {
  const e = expected("gpt2");
  noGrad(() => {
    const h = AutoModel.fromPretrainedDir(fixtureDir("gpt2")).forward({
      inputIds: ids(e.left_input_ids),
      attentionMask: nested(e.left_attention_mask),
    }).lastHiddenState;
    assertClose("gpt2 left-padded last_hidden_state", h, e.left_last_hidden_state);
  });
});

test("graft-lstm: LM logits and loss, concat-pooling classifier match torch.nn.LSTM on each sequence's real tokens", () => {
  const e = expected("graft-lstm");
  const dir = fixtureDir("graft-lstm");
  const inputs = batch(e);
  noGrad(() => {
    const base = AutoModel.fromPretrainedDir(dir).forward(inputs);
    assertClose("lstm last_hidden_state", base.lastHiddenState, e.last_hidden_state);
    const lm = AutoModelForCausalLM.fromPretrainedDir(dir);
    const out = lm.forward({ ...inputs, labels: ids(e.lm_labels) });
    assertClose("lstm LM logits", out.logits, e.lm_logits);
    assertLoss("lstm LM", out.loss, e.lm_loss);
    const seq = AutoModelForSequenceClassification.fromPretrainedDir(dir);
    assert.ok(seq instanceof GraftLstmForSequenceClassification);
    assertClose("lstm sequence logits", seq.forward(inputs).logits, e.seq_logits);
    assertClose(
      "lstm sequence logits, i32 mask",
      seq.forward({ ...inputs, attentionMask: ids(e.attention_mask) }).logits,
      e.seq_logits,
    );
  });
});

// ---- output_hidden_states / output_attentions, against transformers' tuples (make_fixtures.py, checked with
// transformers 5 by check_with_transformers.py)

for (const family of ["bert", "roberta", "distilbert", "gpt2"] as const) {
  test(`${family}: hidden states (embeddings + each layer) and attention probabilities match the reference`, () => {
    const e = expected(family);
    const dir = fixtureDir(family);
    const inputs = batch(e, family === "bert");
    const wantStates = e.hidden_states as unknown[];
    const wantAttn = e.attentions as unknown[];
    noGrad(() => {
      const base = AutoModel.fromPretrainedDir(dir);
      const plain = base.forward(inputs);
      assert.equal(plain.hiddenStates ?? null, null, "not asked, not returned");
      assert.equal(plain.attentions ?? null, null);
      const out = base.forward({ ...inputs, outputHiddenStates: true, outputAttentions: true });
      assert.equal(out.hiddenStates!.length, wantStates.length, "num_layers + 1 hidden states");
      assert.equal(out.attentions!.length, wantAttn.length, "one attention tensor per layer");
      out.hiddenStates!.forEach((h, i) => assertClose(`${family} hidden_states[${i}]`, h, wantStates[i]));
      out.attentions!.forEach((a, i) => assertClose(`${family} attentions[${i}]`, a, wantAttn[i]));
      assert.equal(out.hiddenStates!.at(-1), out.lastHiddenState, "the last hidden state is lastHiddenState");
      assertClose(`${family} last_hidden_state with outputs`, out.lastHiddenState, e.last_hidden_state);
      // a head returns its base model's tuples too
      const seq = AutoModelForSequenceClassification.fromPretrainedDir(dir);
      const s = seq.forward({ ...inputs, outputHiddenStates: true, outputAttentions: true });
      assert.equal(s.hiddenStates!.length, wantStates.length);
      assertClose(`${family} head hidden_states[last]`, s.hiddenStates!.at(-1)!, wantStates.at(-1));
      assertClose(`${family} head attentions[0]`, s.attentions![0], wantAttn[0]);
      assertClose(`${family} head logits with outputs`, s.logits, e.seq_logits);
    });
  });
}

test("attention probabilities: each row sums to 1 and padding keys get exactly 0", () => {
  const e = expected("bert");
  const mask = e.attention_mask as number[][];
  noGrad(() => {
    const out = AutoModel.fromPretrainedDir(fixtureDir("bert")).forward({ ...batch(e, true), outputAttentions: true });
    for (const a of out.attentions!) {
      const [B, H, T] = a.shape;
      const p = a.toArray();
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let q = 0; q < T; q++) {
            const row = p.slice(((b * H + h) * T + q) * T, ((b * H + h) * T + q + 1) * T);
            assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5, `row ${b}/${h}/${q} sums to 1`);
            row.forEach((v, k) => {
              if (!mask[b][k]) assert.equal(v, 0, `padding key ${k} of row ${b} gets 0`);
            });
          }
    }
  });
});

test("graft-lstm: hidden states are the embeddings' output and each layer's, as torch.nn.LSTM layer by layer", () => {
  const e = expected("graft-lstm");
  const want = e.hidden_states as unknown[];
  noGrad(() => {
    const lm = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("graft-lstm"));
    const out = lm.forward({ ...batch(e), outputHiddenStates: true });
    assert.equal(out.hiddenStates!.length, want.length, "num_layers + 1");
    out.hiddenStates!.forEach((h, i) => assertClose(`lstm hidden_states[${i}]`, h, want[i]));
    assertClose("lstm LM logits with outputs", out.logits, e.lm_logits);
  });
});
