/**
 * Beam search and the logits processors against transformers 5.x's generate() on the tiny GPT-2 fixture
 * (test/fixtures/models/gpt2/generation.json, written by scripts/fixtures/generation/make_gpt2_generation.py):
 * identical token ids and sequence scores within 1e-4, with the cache and without.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AutoModelForCausalLM,
  type GenerateOptions,
  applyMinP,
  applyNoRepeatNgram,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  generate,
} from "../../src/models/index.js";
import { fixtureDir } from "./helpers.js";

interface Case {
  name: string;
  batch: "batch" | "single";
  kwargs: Record<string, unknown>;
  new_tokens: number[][];
  sequences_scores?: number[];
}
const fixture = JSON.parse(readFileSync(join(fixtureDir("gpt2"), "generation.json"), "utf8")) as {
  prompts: number[][];
  cases: Case[];
  processors: { scores: number[][]; rows: number[][]; outputs: Record<string, (number | null)[][]> };
};

/** transformers' generate kwargs → graft's options. */
function optionsOf(kw: Record<string, unknown>): GenerateOptions {
  const names: Record<string, keyof GenerateOptions> = {
    num_beams: "numBeams",
    max_new_tokens: "maxNewTokens",
    length_penalty: "lengthPenalty",
    early_stopping: "earlyStopping",
    eos_token_id: "eosTokenId",
    pad_token_id: "padTokenId",
    no_repeat_ngram_size: "noRepeatNgramSize",
    num_return_sequences: "numReturnSequences",
    min_new_tokens: "minNewTokens",
    min_length: "minLength",
    repetition_penalty: "repetitionPenalty",
    forced_eos_token_id: "forcedEosTokenId",
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kw)) {
    assert.ok(names[k], `no option for ${k}`);
    out[names[k]] = v;
  }
  return out as GenerateOptions;
}

const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));

for (const c of fixture.cases) {
  test(`gpt2 ${c.name}: tokens and sequence scores equal transformers' generate`, () => {
    const prompts = c.batch === "batch" ? fixture.prompts : [fixture.prompts[0]];
    for (const useCache of [true, false]) {
      const out = generate(model, prompts, { ...optionsOf(c.kwargs), useCache });
      assert.deepEqual(out.newTokens, c.new_tokens, `useCache=${useCache}`);
      if (c.sequences_scores) {
        assert.equal(out.sequencesScores?.length, c.sequences_scores.length);
        c.sequences_scores.forEach((want, i) =>
          assert.ok(
            Math.abs(out.sequencesScores![i] - want) < 1e-4,
            `score ${i}: ${out.sequencesScores![i]} vs ${want} (useCache=${useCache})`,
          ),
        );
      } else assert.equal(out.sequencesScores, undefined);
    }
  });
}

test("each logits processor and warper alone equals transformers' on fixed scores (-inf where it removes a token)", () => {
  const { scores, rows, outputs } = fixture.processors;
  const apply: Record<string, (s: Float64Array, row: number[]) => void> = {
    "repetition_penalty_1.7": (s, row) => applyRepetitionPenalty(s, row, 1.7),
    no_repeat_ngram_2: (s, row) => applyNoRepeatNgram(s, row, 2),
    no_repeat_ngram_3: (s, row) => applyNoRepeatNgram(s, row, 3),
    "temperature_0.7": (s) => applyTemperature(s, 0.7),
    top_k_4_keep_5: (s) => applyTopK(s, 4, 5),
    "top_p_0.6": (s) => applyTopP(s, 0.6),
    "top_p_0.3_keep_3": (s) => applyTopP(s, 0.3, 3),
    "min_p_0.2": (s) => applyMinP(s, 0.2),
    "min_p_0.9_keep_2": (s) => applyMinP(s, 0.9, 2),
  };
  assert.deepEqual(Object.keys(apply).sort(), Object.keys(outputs).sort());
  for (const [name, fn] of Object.entries(apply)) {
    scores.forEach((row, i) => {
      const s = Float64Array.from(row);
      fn(s, rows[i]);
      outputs[name][i].forEach((want, t) => {
        if (want === null) assert.equal(s[t], -Infinity, `${name} row ${i} token ${t} should be removed`);
        else assert.ok(Math.abs(s[t] - want) < 1e-5, `${name} row ${i} token ${t}: ${s[t]} vs ${want}`);
      });
    });
  }
});
