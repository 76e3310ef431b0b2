/**
 * Packing without cross-talk: with segmentIds, a causal LM's token attends only to earlier tokens of its own sample,
 * and positions restart per sample. The loss of one packed sample has zero gradient with respect to the other
 * sample's token embeddings (without segment ids it does not: the test can fail), and the packed logits and loss
 * equal those of each sample run alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { manualSeed } from "../../src/util/rng.js";
import { type Tensor, noGrad, slice, tensor } from "../../src/tensor/index.js";
import { AutoModelForCausalLM, causalLmLoss, makeConfig } from "../../src/models/index.js";
import { segmentPositions } from "../../src/models/interfaces.js";
import type { Module, Parameter } from "../../src/nn/index.js";

type LM = Module & {
  forward(inputs: Record<string, unknown>): { logits: Tensor; loss: Tensor | null };
  config: { hidden_size?: number; n_embd?: number };
};

// untied: the embedding's gradient then comes from the input lookups only, not from the LM head's softmax
const MODELS: Record<string, () => Record<string, unknown>> = {
  gpt2: () =>
    makeConfig("gpt2", {
      vocab_size: 40,
      n_embd: 12,
      n_layer: 2,
      n_head: 3,
      n_positions: 32,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      tie_word_embeddings: false,
    }) as unknown as Record<string, unknown>,
  llama: () =>
    makeConfig("llama", {
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 20,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 32,
      tie_word_embeddings: false,
    }) as unknown as Record<string, unknown>,
};

function tiny(kind: string): LM {
  manualSeed(7);
  return AutoModelForCausalLM.fromConfig(MODELS[kind]() as never) as unknown as LM;
}

function embedding(model: LM): Parameter {
  const p = model.namedParameters().find(([n]) => /(wte|embed_tokens)\.weight$/.test(n));
  return p![1];
}

const A = [1, 2, 3, 4, 5];
const B = [20, 21, 22, 23];
const ids = (xs: number[]) => tensor(xs, [1, xs.length], { dtype: "i32" });

/** Labels of the packed row learning only sample `which` (its first token is never a target). */
function labelsFor(which: "A" | "B"): Tensor {
  const l = [
    ...A.map((t, i) => (which === "A" && i > 0 ? t : -100)),
    ...B.map((t, i) => (which === "B" && i > 0 ? t : -100)),
  ];
  return tensor(l, [1, l.length], { dtype: "i32" });
}

function wteGradRows(model: LM, rows: number[]): number {
  const g = embedding(model).grad!.toArray();
  const h = embedding(model).shape[1];
  let s = 0;
  for (const r of rows) for (let k = 0; k < h; k++) s += Math.abs(g[r * h + k]);
  return s;
}

test("segment positions restart at each new segment", () => {
  const p = segmentPositions(tensor([1, 1, 1, 2, 2, 0, 0, 3], [1, 8], { dtype: "i32" }));
  assert.deepEqual(Array.from(p.toArray()), [0, 1, 2, 0, 1, 0, 1, 0]);
});

for (const kind of Object.keys(MODELS)) {
  test(`${kind} packed: the loss of one sample has zero gradient with respect to the other sample's tokens`, () => {
    const model = tiny(kind);
    const segmentIds = tensor([...A.map(() => 1), ...B.map(() => 2)], [1, A.length + B.length], { dtype: "i32" });
    for (const packed of [true, false]) {
      model.zeroGrad();
      const out = model.forward({
        inputIds: ids([...A, ...B]),
        ...(packed ? { segmentIds } : {}),
        labels: labelsFor("B"),
      });
      out.loss!.backward();
      const other = wteGradRows(model, A);
      const own = wteGradRows(model, B);
      assert.ok(own > 0, "B's loss depends on B's tokens");
      if (packed) assert.equal(other, 0, "with segment ids, B's loss does not depend on A's tokens");
      else assert.ok(other > 0, "without segment ids B sees A (so the check can fail)");
    }
  });

  test(`${kind} packed logits and losses equal each sample run alone; a padded packed batch too`, () => {
    const model = tiny(kind);
    model.eval();
    noGrad(() => {
      const packedIds = ids([...A, ...B, 0, 0]);
      const segmentIds = tensor([...A.map(() => 1), ...B.map(() => 2), 0, 0], [1, 11], { dtype: "i32" });
      const attentionMask = tensor([...A.map(() => 1), ...B.map(() => 1), 0, 0], [1, 11]);
      const packed = model.forward({ inputIds: packedIds, segmentIds, attentionMask }).logits; // [1, 11, V]
      const alone = [A, B].map((s) => model.forward({ inputIds: ids(s) }).logits);
      const pa = slice(packed, 1, 0, A.length).toArray();
      const pb = slice(packed, 1, A.length, A.length + B.length).toArray();
      const close = (x: Float32Array | ArrayLike<number>, y: ArrayLike<number>) => {
        for (let i = 0; i < y.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-5, `${x[i]} vs ${y[i]} at ${i}`);
      };
      close(pa, alone[0].toArray());
      close(pb, alone[1].toArray());
      // the packed loss over both samples = the token-weighted mean of the per-sample losses
      const labels = tensor(
        [...A.map((t, i) => (i ? t : -100)), ...B.map((t, i) => (i ? t : -100)), -100, -100],
        [1, 11],
        {
          dtype: "i32",
        },
      );
      const packedLoss = causalLmLoss(packed, labels).item();
      const la = causalLmLoss(alone[0], ids(A)).item();
      const lb = causalLmLoss(alone[1], ids(B)).item();
      const expected = (la * (A.length - 1) + lb * (B.length - 1)) / (A.length + B.length - 2);
      assert.ok(Math.abs(packedLoss - expected) < 1e-5, `${packedLoss} vs ${expected}`);
    });
  });

  test(`${kind}: segmentIds of the wrong shape are refused`, () => {
    const model = tiny(kind);
    assert.throws(
      () => model.forward({ inputIds: ids(A), segmentIds: tensor([1, 1], [1, 2], { dtype: "i32" }) }),
      /segmentIds must be i32 \[1, 5\]/,
    );
  });
}

test("graft-lstm refuses packed rows rather than carrying one sample's state into the next", () => {
  manualSeed(1);
  const lstm = AutoModelForCausalLM.fromConfig(
    makeConfig("graft-lstm", { vocab_size: 40, embedding_size: 8, hidden_size: 8, num_layers: 1 }) as never,
  ) as unknown as LM;
  assert.throws(
    () => lstm.forward({ inputIds: ids(A), segmentIds: tensor([1, 1, 1, 2, 2], [1, 5], { dtype: "i32" }) }),
    /packed rows \(segmentIds\) are not supported/,
  );
});
