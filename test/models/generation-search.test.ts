/**
 * Beam search on hand-built models whose best beam is known by arithmetic (greedy picks another first token), the
 * encoder-decoder path (encoder once, decoder from its start token, cache reordered with the beams), stop strings
 * that span token boundaries, and the cache changing nothing but the cost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AutoModelForCausalLM, GPT2LMHeadModel, generate, generateStream, makeConfig } from "../../src/models/index.js";
import { Rng, manualSeed } from "../../src/util/rng.js";
import { fixtureDir } from "./helpers.js";
import { BigramLM, TableSeq2Seq, logProbs } from "./toy-generators.js";

const V = 6; // 0 pad, 1 prompt, 2 A, 3 B, 4 C, 5 end
function bigram(): BigramLM {
  const uniform = logProbs(V, {});
  const table = [
    uniform,
    logProbs(V, { 2: 0.55, 3: 0.45, 0: 0, 1: 0, 4: 0, 5: 0 }),
    logProbs(V, { 5: 0.35, 2: 0.3, 3: 0.2, 4: 0.15, 0: 0, 1: 0 }),
    logProbs(V, { 4: 0.9, 5: 0.1, 0: 0, 1: 0, 2: 0, 3: 0 }),
    logProbs(V, { 5: 1, 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 }),
    uniform,
  ];
  return new BigramLM(table, 5, 0);
}

test("beam search finds the best sequence greedy misses; scores are sum(log p) / length; pad 0 fills with the end token", () => {
  const model = bigram();
  const greedy = generate(model, [[1]], { maxNewTokens: 3 });
  assert.deepEqual(greedy.newTokens, [[2, 5]], "greedy takes A (0.55), then the end token");
  const beams = generate(model, [[1]], { maxNewTokens: 3, numBeams: 2, numReturnSequences: 2 });
  assert.deepEqual(beams.newTokens, [
    [3, 4, 5],
    [2, 5, 5],
  ]);
  assert.deepEqual(beams.sequences[0], [1, 3, 4, 5]);
  const want = [(Math.log(0.45) + Math.log(0.9) + Math.log(1)) / 3, (Math.log(0.55) + Math.log(0.35)) / 2];
  beams.sequencesScores!.forEach((s, i) => assert.ok(Math.abs(s - want[i]) < 1e-6, `score ${i}: ${s} vs ${want[i]}`));
  // length penalty 0: raw sums, same order here; a large one prefers the longer hypothesis even more
  const raw = generate(model, [[1]], { maxNewTokens: 3, numBeams: 2, lengthPenalty: 0 });
  assert.ok(Math.abs(raw.sequencesScores![0] - (Math.log(0.45) + Math.log(0.9))) < 1e-6);
  // with a pad ≠ 0 the shorter hypothesis is padded with it
  const padded = generate(model, [[1]], { maxNewTokens: 3, numBeams: 2, numReturnSequences: 2, padTokenId: 4 });
  assert.deepEqual(padded.newTokens[1], [2, 5, 4]);
});

test("beam search with and without the cache: same beams, fewer tokens read with it", () => {
  const a = bigram();
  const b = bigram();
  const opts = { maxNewTokens: 3, numBeams: 3, numReturnSequences: 3 };
  const cached = generate(a, [[1], [1, 2]], { ...opts, useCache: true });
  const full = generate(b, [[1], [1, 2]], { ...opts, useCache: false });
  assert.deepEqual(cached.newTokens, full.newTokens);
  assert.deepEqual(cached.sequencesScores, full.sequencesScores);
  assert.ok(a.tokensRead < b.tokensRead, `${a.tokensRead} tokens read with the cache, ${b.tokensRead} without`);
});

test("graft-lstm: beam search with the reordered state equals re-reading the sequences", () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("graft-lstm"));
  const prompts = [
    [5, 17, 33, 8, 9],
    [61, 2],
  ];
  const opts = { maxNewTokens: 6, numBeams: 3, numReturnSequences: 2, eosTokenId: null, noRepeatNgramSize: 2 };
  const cached = generate(model, prompts, { ...opts, useCache: true });
  const full = generate(model, prompts, { ...opts, useCache: false });
  assert.deepEqual(cached.newTokens, full.newTokens);
  cached.sequencesScores!.forEach((s, i) => assert.ok(Math.abs(s - full.sequencesScores![i]) < 1e-5));
});

// ---- encoder-decoder

const SV = 8; // 0 pad, 1 end, 2 decoder start, 3..7 words
function seq2seq(forcedBos: number | null = null): TableSeq2Seq {
  const only = (p: Record<number, number>) => {
    const full: Record<number, number> = {};
    for (let t = 0; t < SV; t++) full[t] = p[t] ?? 0;
    return logProbs(SV, full);
  };
  return new TableSeq2Seq(
    {
      3: {
        2: only({ 4: 0.6, 5: 0.4 }),
        4: only({ 6: 0.55, 7: 0.45 }),
        5: only({ 6: 0.95, 1: 0.05 }),
        6: only({ 1: 1 }),
        7: only({ 1: 1 }),
      },
      7: { 2: only({ 3: 0.9, 1: 0.1 }), 3: only({ 1: 1 }) },
    },
    SV,
    { eos: 1, pad: 0, start: 2, forcedBos },
  );
}

test("encoder-decoder greedy: the encoder runs once, sequences start with the decoder start token", () => {
  for (const useCache of [true, false]) {
    const model = seq2seq();
    const out = generate(model, [[3, 4, 5], [7]], { maxNewTokens: 5, useCache });
    assert.deepEqual(out.sequences, [
      [2, 4, 6, 1],
      [2, 3, 1, 0],
    ]);
    assert.deepEqual(out.newTokens, [
      [4, 6, 1],
      [3, 1, 0],
    ]);
    assert.equal(model.encodeCalls, 1);
    assert.equal(model.decoderTokensRead, useCache ? 2 * 3 : 2 * (1 + 2 + 3));
  }
});

test("encoder-decoder beam search: best beams known, encoder rows repeated per beam, cache on/off the same", () => {
  const results = [true, false].map((useCache) => {
    const model = seq2seq();
    const out = generate(model, [[3, 4, 5], [7]], { maxNewTokens: 5, numBeams: 2, useCache });
    assert.equal(model.encodeCalls, 1);
    assert.deepEqual(model.lastSources, [3, 3, 7, 7], "each input's beams read that input's encoder output");
    return out;
  });
  for (const out of results) {
    assert.deepEqual(out.sequences, [
      [2, 5, 6, 1],
      [2, 3, 1, 1],
    ]);
    const want = [(Math.log(0.4) + Math.log(0.95)) / 3, Math.log(0.9) / 2];
    out.sequencesScores!.forEach((s, i) => assert.ok(Math.abs(s - want[i]) < 1e-6, `${s} vs ${want[i]}`));
  }
});

test("encoder-decoder: forced BOS from the config, forced EOS at the length limit, a missing start token", () => {
  const model = seq2seq(7);
  assert.deepEqual(generate(model, [[3]], { maxNewTokens: 4 }).sequences, [[2, 7, 1]]);
  assert.deepEqual(generate(model, [[3]], { maxNewTokens: 4, forcedBosTokenId: null }).sequences, [[2, 4, 6, 1]]);
  assert.deepEqual(generate(model, [[3]], { maxNewTokens: 2, forcedBosTokenId: null, forcedEosTokenId: 1 }).sequences, [
    [2, 4, 1],
  ]);
  assert.throws(() => generate(model, [[3]], { decoderStartTokenId: null }), /the model has no decoder_start_token_id/);
  assert.throws(() => generate(model, [new Array(17).fill(3)]), /an input of 17 tokens exceeds the 16 positions/);
});

// ---- stop strings and stop ids

test("stop strings stop when the text contains them, across token boundaries; stop ids end rows", () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  const piece = (t: number) => (t === 37 ? "ab" : t === 51 ? "cd" : t === 81 ? "ef" : `<${t}>`);
  const decode = (ids: number[]) => ids.map(piece).join("");
  const prompts = [
    [5, 17, 33, 8],
    [61, 2],
  ];
  const free = generate(model, prompts, { maxNewTokens: 6, eosTokenId: null });
  assert.deepEqual(free.newTokens[0], [37, 37, 37, 37, 37, 37]);
  assert.deepEqual(free.newTokens[1].slice(0, 3), [51, 81, 81]);
  // "ba" spans two 37s ("ab"+"ab"): row 0 stops after its 2nd token; "fe" spans 81 81: row 1 after its 3rd
  const out = generate(model, prompts, { maxNewTokens: 6, eosTokenId: null, stopStrings: ["ba", "fe"], decode });
  assert.deepEqual(out.newTokens, [
    [37, 37, 98],
    [51, 81, 81],
  ]);
  // a stop string inside one token stops at that token
  assert.deepEqual(
    generate(model, [[61, 2]], { maxNewTokens: 6, eosTokenId: null, stopStrings: "d", decode }).newTokens,
    [[51]],
  );
  // stop ids end a row as the end token does
  assert.deepEqual(generate(model, [[61, 2]], { maxNewTokens: 6, eosTokenId: null, stopTokenIds: [81] }).newTokens, [
    [51, 81],
  ]);
  // beam search finishes a hypothesis at its stop string (it is not extended past it)
  const beam = generate(model, [[5, 17, 33, 8]], {
    maxNewTokens: 6,
    eosTokenId: null,
    numBeams: 3,
    numReturnSequences: 3,
    stopStrings: ["b<", "fe"],
    decode,
  });
  const texts = beam.newTokens.map((row) => decode(row));
  const stopAt = (t: string) => Math.max(t.indexOf("b<"), t.indexOf("fe"));
  assert.ok(
    texts.some((t) => stopAt(t) >= 0),
    `some hypothesis hit a stop string: ${texts}`,
  );
  beam.newTokens.forEach((row, i) => {
    const at = stopAt(texts[i]);
    if (at >= 0)
      assert.ok(at + 2 > decode(row.slice(0, -1)).length, `hypothesis ${i} went on after its stop: ${texts[i]}`);
  });
  assert.throws(() => generate(model, [[1]], { stopStrings: "x" }), /stopStrings need a decode function/);
});

test("generate option errors name the option", () => {
  const model = bigram();
  assert.throws(() => generate(model, [[1]], { numBeams: 0 }), /numBeams must be a positive integer/);
  assert.throws(() => generate(model, [[1]], { numBeams: 2, numReturnSequences: 3 }), /cannot exceed numBeams/);
  assert.throws(() => generate(model, [[1]], { numReturnSequences: 2 }), /greedy decoding gives one sequence/);
  assert.throws(() => generate(model, [[1]], { earlyStopping: "soon" as never }), /earlyStopping must be/);
  assert.throws(() => generate(model, [[1]], { minP: 2 }), /minP must be in \[0, 1\]/);
  assert.throws(() => generate(model, [[1]], { repetitionPenalty: 0 }), /repetitionPenalty must be > 0/);
  assert.throws(() => generate(model, []), /no prompts/);
});

test("beam sampling is seeded and its hypotheses are scored like beam search's; outputScores are the processed scores", () => {
  const model = bigram();
  const opts = { maxNewTokens: 3, numBeams: 2, numReturnSequences: 2, doSample: true, topK: 0 };
  const a = generate(model, [[1]], { ...opts, rng: new Rng(3) });
  assert.deepEqual(generate(model, [[1]], { ...opts, rng: new Rng(3) }), a);
  const lp = (from: number, to: number) => model.table[from][to];
  a.newTokens.forEach((row, i) => {
    const gen = row.slice(0, row.indexOf(5) + 1 || row.length);
    let sum = 0;
    let prev = 1;
    for (const t of gen) {
      sum += lp(prev, t);
      prev = t;
    }
    assert.ok(Math.abs(a.sequencesScores![i] - sum / gen.length) < 1e-6, `hypothesis ${i}: ${row}`);
  });

  const scored = generate(model, [[1]], {
    maxNewTokens: 2,
    repetitionPenalty: 2,
    outputScores: true,
    outputLogits: true,
  });
  assert.equal(scored.scores!.length, 2);
  const raw = scored.logits![0].toRows()[0];
  const processed = scored.scores![0].toRows()[0];
  // token 1 (the prompt) is penalized: -inf stays -inf, finite scores are divided or multiplied by 2
  processed.forEach((s, t) => {
    const want = t === 1 ? (raw[t] < 0 ? raw[t] * 2 : raw[t] / 2) : raw[t];
    assert.ok(s === want || Math.abs(s - want) < 1e-5, `token ${t}: ${s} vs ${want}`);
  });
});

test("sampling with numReturnSequences draws that many continuations per prompt, side by side", () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  const opts = { maxNewTokens: 5, doSample: true, topK: 0, eosTokenId: null, numReturnSequences: 3 };
  const out = generate(
    model,
    [
      [5, 17, 33],
      [61, 2],
    ],
    { ...opts, rng: new Rng(9) },
  );
  assert.equal(out.newTokens.length, 6);
  assert.deepEqual(
    out.sequences.map((s) => s.slice(0, -5)),
    [
      [5, 17, 33],
      [5, 17, 33],
      [5, 17, 33],
      [61, 2],
      [61, 2],
      [61, 2],
    ],
  );
  const repeated = generate(
    model,
    [
      [5, 17, 33],
      [5, 17, 33],
      [5, 17, 33],
      [61, 2],
      [61, 2],
      [61, 2],
    ],
    {
      ...opts,
      numReturnSequences: 1,
      rng: new Rng(9),
    },
  );
  assert.deepEqual(out.newTokens, repeated.newTokens, "the same as repeating the prompts");
  assert.ok(new Set(out.newTokens.slice(0, 3).map(String)).size > 1, "different samples of one prompt");
});

test("encoder-decoder streaming: the encoder once, the decoder's tokens one by one; the model's mode is restored", async () => {
  const model = seq2seq();
  model.train(true);
  let sawTraining = false;
  const encode = model.encode.bind(model);
  model.encode = (inputs) => {
    sawTraining ||= model.training;
    return encode(inputs);
  };
  const tokens: (number | null)[] = [];
  let reason: string | undefined;
  for await (const c of generateStream(model, [3, 4, 5], { maxNewTokens: 5 })) {
    tokens.push(c.tokenId);
    reason = c.reason;
  }
  assert.deepEqual(tokens, [4, 6, 1, null]);
  assert.equal(reason, "eos");
  assert.equal(model.encodeCalls, 1);
  assert.equal(sawTraining, false, "the encoder ran in eval mode");
  assert.equal(model.training, true, "train mode is back afterwards");
});

test("greedy picks from the logits' argmax op equal picks from the processed scores, processors switching in and out", () => {
  // a random GPT-2 whose end token comes early: min new tokens and a forced end switch the host path on for some steps
  manualSeed(0);
  const model = new GPT2LMHeadModel(
    makeConfig("gpt2", {
      vocab_size: 40,
      n_positions: 64,
      n_embd: 16,
      n_layer: 1,
      n_head: 2,
      eos_token_id: 3,
      pad_token_id: 0,
    }),
  );
  const r = new Rng(5);
  const prompts = Array.from({ length: 5 }, (_, i) => Array.from({ length: 2 + i }, () => 4 + r.int(36)));
  const outputs = new Set<string>();
  for (const opts of [{}, { minNewTokens: 4 }, { forcedEosTokenId: 3 }, { repetitionPenalty: 1.3 }]) {
    const fast = generate(model, prompts, { maxNewTokens: 7, eosTokenId: 3, ...opts });
    // asking for the scores reads every row's logits back and processes them, the slow path
    const slow = generate(model, prompts, { maxNewTokens: 7, eosTokenId: 3, outputScores: true, ...opts });
    assert.deepEqual(fast.sequences, slow.sequences, JSON.stringify(opts));
    outputs.add(JSON.stringify(fast.sequences));
  }
  assert.equal(outputs.size, 4, "each processor changes some row here, so a wrong shortcut would show");
});
