/**
 * Continuous batching (generation/continuous.ts): sequences that join a running decode batch between steps, with
 * prompts shorter and longer than the batch's cache, give the tokens each gives decoded alone (generateStream),
 * greedy and seeded sampling, on GPT-2 and Llama; ended and aborted sequences leave the batch while the others go on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import {
  ContinuousBatcher,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  generateStream,
  makeConfig,
  type StreamChunk,
  type StreamOptions,
} from "../../src/models/index.js";

const gpt = new GPT2LMHeadModel(
  makeConfig("gpt2", {
    vocab_size: 40,
    n_positions: 96,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    eos_token_id: 1,
    bos_token_id: 1,
  }),
  { rng: new Rng(5) },
).eval();
const llama = new LlamaForCausalLM(
  makeConfig("llama", {
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 96,
    eos_token_id: 1,
    bos_token_id: 1,
    pad_token_id: 0,
  }),
  { rng: new Rng(6) },
).eval();

const prompt = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 2 + ((i * 7 + seed * 13) % 37));

async function alone(model: GPT2LMHeadModel | LlamaForCausalLM, p: number[], opts: StreamOptions) {
  let last: StreamChunk | undefined;
  for await (const c of generateStream(model, p, opts)) last = c;
  return last!;
}

/** Reads a stream; after `after` token chunks, runs `then` once (to start another sequence mid-stream). */
async function read(gen: AsyncGenerator<StreamChunk>, after = -1, then?: () => void) {
  let n = 0;
  let last: StreamChunk | undefined;
  for await (const c of gen) {
    last = c;
    if (!c.done && ++n === after) then?.();
  }
  return last!;
}

for (const [name, model] of [
  ["gpt2", gpt],
  ["llama", llama],
] as const)
  test(`continuous batching (${name}): sequences joining mid-batch decode as they do alone`, async () => {
    const batcher = new ContinuousBatcher(model, { maxBatchSize: 8 });
    const asks: { p: number[]; opts: () => StreamOptions }[] = [
      { p: prompt(6, 1), opts: () => ({ maxNewTokens: 30, eosTokenId: null }) },
      // shorter than the batch's cache when it joins: padded on the left
      { p: prompt(3, 2), opts: () => ({ maxNewTokens: 12, eosTokenId: null, repetitionPenalty: 1.3 }) },
      // longer: the running rows are padded instead
      { p: prompt(25, 3), opts: () => ({ maxNewTokens: 9, eosTokenId: null }) },
      // seeded sampling, and a sequence that may end on its end token
      { p: prompt(5, 4), opts: () => ({ maxNewTokens: 15, doSample: true, temperature: 0.8, rng: new Rng(11) }) },
      { p: prompt(8, 5), opts: () => ({ maxNewTokens: 20 }) },
    ];
    const results: Promise<StreamChunk>[] = [];
    const start = (i: number) => {
      const chunk = read(
        batcher.stream(asks[i].p, asks[i].opts()),
        2,
        i + 1 < asks.length ? () => start(i + 1) : undefined,
      );
      results[i] = chunk;
    };
    start(0);
    // every sequence has started once the first has read 2 tokens and each started the next after 2 of its own
    while (results.length < asks.length) await new Promise((r) => setImmediate(r));
    const got = await Promise.all(results);
    for (const [i, a] of asks.entries()) {
      const want = await alone(model, a.p, a.opts());
      assert.deepEqual(got[i].tokenIds, want.tokenIds, `sequence ${i}`);
      assert.equal(got[i].reason, want.reason, `sequence ${i}'s end`);
    }
    assert.equal(got[0].joinedRunning, false);
    for (const g of got.slice(1)) assert.equal(g.joinedRunning, true, "joined a running batch");
    assert.equal(batcher.stats.joined, asks.length - 1);
    assert.ok(batcher.stats.largestBatch >= 4, `largest batch ${batcher.stats.largestBatch}`);
    assert.deepEqual(batcher.size, { running: 0, waiting: 0 });
  });

test("continuous batching: an aborted sequence and a reader that stops leave; the rest decode on", async () => {
  const batcher = new ContinuousBatcher(gpt, { maxBatchSize: 2 });
  const ac = new AbortController();
  const opts = { maxNewTokens: 20, eosTokenId: null };
  const a = read(batcher.stream(prompt(4, 1), { ...opts, signal: ac.signal }), 3, () => ac.abort());
  const b = batcher.stream(prompt(7, 2), opts);
  const bFirst = await b.next();
  assert.equal(bFirst.done, false);
  await b.return(undefined); // this reader stops after one token
  // a third waits for a place (maxBatchSize 2), then takes one
  const c = read(batcher.stream(prompt(5, 3), opts));
  const [ga, gc] = await Promise.all([a, c]);
  assert.equal(ga.reason, "abort");
  assert.ok(ga.tokenIds.length >= 3 && ga.tokenIds.length < 20, `${ga.tokenIds.length} tokens before the abort`);
  assert.deepEqual(gc.tokenIds, (await alone(gpt, prompt(5, 3), opts)).tokenIds);
  assert.equal(gc.reason, "length");
  assert.deepEqual(batcher.size, { running: 0, waiting: 0 });
  assert.ok(batcher.stats.largestBatch <= 2);
});

test("continuous batching: greedy picks from the logits' argmax op equal picks from the processed scores", async () => {
  // the end token is one a prompt picks early, so that min new tokens and a forced end change some rows' tokens
  const eos = (await alone(gpt, prompt(3, 0), { maxNewTokens: 2, eosTokenId: null })).tokenIds![1];
  const kinds: StreamOptions[] = [
    {},
    { minNewTokens: 4 },
    { forcedEosTokenId: eos },
    { repetitionPenalty: 1.3 },
    { doSample: true, temperature: 0.8 },
  ];
  const run = async (extra: StreamOptions) => {
    const batcher = new ContinuousBatcher(gpt, { maxBatchSize: 16 });
    const seqs = kinds.flatMap((k, i) =>
      [3, 4, 5].map((n) =>
        read(batcher.stream(prompt(n, i), { maxNewTokens: 7, eosTokenId: eos, rng: new Rng(10 + n), ...k, ...extra })),
      ),
    );
    const got = (await Promise.all(seqs)).map((c) => c.tokenIds);
    const picks = got.reduce((a, t) => a + t!.length, 0);
    return { got, picks, rowsRead: batcher.stats.rowsRead, largest: batcher.stats.largestBatch };
  };
  const fast = await run({});
  // an n-gram longer than any row bans nothing, but it is a processor: every row is read back and processed
  const slow = await run({ noRepeatNgramSize: 1000 });
  assert.deepEqual(fast.got, slow.got);
  assert.equal(slow.rowsRead, slow.picks, "the slow path reads every row");
  // plain greedy rows are never read back; the others are, while their processors act
  const plain = fast.got.slice(0, 3).reduce((a, t) => a + t!.length, 0);
  assert.ok(
    plain > 0 && fast.rowsRead <= fast.picks - plain,
    `the fast path read ${fast.rowsRead} of ${fast.picks} rows`,
  );
  assert.ok(fast.largest >= 10, `largest batch ${fast.largest}`);
  const byKind = new Set(kinds.slice(0, 4).map((_, i) => JSON.stringify(fast.got.slice(i * 3, i * 3 + 3))));
  assert.equal(byKind.size, 4, "each processor changes some row here, so a wrong shortcut would show");
});
