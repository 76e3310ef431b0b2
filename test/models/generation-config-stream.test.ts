/**
 * generation_config.json (read, checked, written, and the defaults of generate with explicit options winning) and
 * token streaming (the same tokens as generate, text deltas that add up, stop strings held back, abort).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AutoModelForCausalLM,
  GPT2LMHeadModel,
  type StreamChunk,
  generate,
  generateStream,
  generationConfigFromOptions,
  parseGenerationConfig,
  readGenerationConfig,
  writeGenerationConfig,
} from "../../src/models/index.js";
import { fixtureDir, tmpDir } from "./helpers.js";

function gpt2Dir(generationConfig?: unknown): string {
  const dir = tmpDir("graft-genconfig-");
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(join(fixtureDir("gpt2"), f), join(dir, f));
  if (generationConfig !== undefined)
    writeFileSync(join(dir, "generation_config.json"), JSON.stringify(generationConfig));
  return dir;
}

test("generation_config.json sets generate's defaults; explicit options win", () => {
  const prompts = [
    [5, 17, 33, 8],
    [61, 2],
  ];
  const plain = AutoModelForCausalLM.fromPretrainedDir(gpt2Dir());
  assert.equal(plain.generationConfig, null);
  const beams = generate(plain, prompts, { maxNewTokens: 5, numBeams: 3, noRepeatNgramSize: 2, eosTokenId: null });

  const dir = gpt2Dir({
    max_new_tokens: 5,
    num_beams: 3,
    no_repeat_ngram_size: 2,
    eos_token_id: null,
    transformers_version: "5.18.0",
    output_scores: false,
  });
  const model = AutoModelForCausalLM.fromPretrainedDir(dir);
  assert.deepEqual(model.generationConfig?.num_beams, 3);
  const fromConfig = generate(model, prompts);
  assert.deepEqual(fromConfig.newTokens, beams.newTokens);
  assert.deepEqual(fromConfig.sequencesScores, beams.sequencesScores);
  const greedy = generate(plain, prompts, { maxNewTokens: 2, eosTokenId: null, noRepeatNgramSize: 2 });
  assert.deepEqual(generate(model, prompts, { numBeams: 1, maxNewTokens: 2 }).newTokens, greedy.newTokens);
  assert.deepEqual(
    generate(model, prompts, { generationConfig: null, maxNewTokens: 2, eosTokenId: null }).newTokens,
    generate(plain, prompts, { maxNewTokens: 2, eosTokenId: null }).newTokens,
    "generationConfig: null ignores the file",
  );

  // saved back, kept unused-but-known fields included
  const out = tmpDir("graft-genconfig-save-");
  const files = model.savePretrained(out);
  assert.ok(files.includes(join(out, "generation_config.json")));
  assert.deepEqual(JSON.parse(readFileSync(join(out, "generation_config.json"), "utf8")), {
    eos_token_id: null,
    max_new_tokens: 5,
    no_repeat_ngram_size: 2,
    num_beams: 3,
    output_scores: false,
    transformers_version: "5.18.0",
  });
  assert.deepEqual(GPT2LMHeadModel.fromPretrainedDir(out).generationConfig, model.generationConfig);
});

test("generation config errors name the file and the field; options map to transformers' names", () => {
  const dir = gpt2Dir({ num_beam: 4 });
  assert.throws(
    () => AutoModelForCausalLM.fromPretrainedDir(dir),
    (e: Error) =>
      /generation_config\.json: unknown generation setting "num_beam"/.test(e.message) &&
      /num_beams/.test(String((e as { hint?: string }).hint ?? e.message)),
  );
  assert.throws(
    () => parseGenerationConfig({ top_p: 1.5 }, "g.json"),
    /g\.json: top_p must be a number in \[0, 1\], got 1\.5/,
  );
  assert.throws(
    () => parseGenerationConfig({ early_stopping: "soon" }),
    /early_stopping must be true, false or "never"/,
  );
  assert.throws(() => parseGenerationConfig([1]), /must be a JSON object/);
  const bad = gpt2Dir();
  writeFileSync(join(bad, "generation_config.json"), "{ nope");
  assert.throws(() => readGenerationConfig(bad), /generation_config\.json: not valid JSON/);

  const cfg = generationConfigFromOptions({ maxNewTokens: 7, numBeams: 4, earlyStopping: "never", topP: 0.9 });
  assert.deepEqual(cfg, { max_new_tokens: 7, num_beams: 4, early_stopping: "never", top_p: 0.9 });
  const d = tmpDir("graft-genconfig-write-");
  writeGenerationConfig(d, cfg);
  assert.deepEqual(readGenerationConfig(d), cfg);
});

// ---- streaming

const piece = (t: number) => (t === 37 ? "ab" : t === 51 ? "cd" : t === 81 ? "ef" : `<${t}>`);
const decode = (ids: number[]) => ids.map(piece).join("");

async function collect(it: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

test("streaming yields generate's tokens one step at a time; the text deltas add up to the decoded text", async () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  const prompt = [61, 2];
  const want = generate(model, [prompt], { maxNewTokens: 6, eosTokenId: null }).newTokens[0];
  const chunks = await collect(generateStream(model, prompt, { maxNewTokens: 6, eosTokenId: null, decode }));
  assert.deepEqual(
    chunks.filter((c) => !c.done).map((c) => c.tokenId),
    want,
  );
  const last = chunks.at(-1)!;
  assert.equal(last.done, true);
  assert.equal(last.reason, "length");
  assert.deepEqual(last.tokenIds, want);
  assert.equal(chunks.map((c) => c.text).join(""), decode(want));
});

test("streaming: a stop string is held back and cut, the end token's text left out, abort stops between steps", async () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  // tokens 51 81 81 …: "cd" "ef" "ef"; the stop string "fe" spans the two 81s
  const chunks = await collect(
    // an asynchronous decode, as a tokenizer's
    generateStream(model, [61, 2], {
      maxNewTokens: 6,
      eosTokenId: null,
      decode: async (i) => decode(i),
      stopStrings: "fe",
    }),
  );
  assert.deepEqual(
    chunks.map((c) => c.text),
    ["cd", "e", "", ""],
    "the 'f' of 'ef' waits: it may begin 'fe'; then the stop string and what follows are cut",
  );
  assert.equal(chunks.at(-1)!.reason, "stop");
  assert.deepEqual(chunks.at(-1)!.tokenIds, [51, 81, 81]);

  const eos = await collect(generateStream(model, [61, 2], { maxNewTokens: 6, eosTokenId: 81, decode }));
  assert.deepEqual(
    eos.map((c) => [c.tokenId, c.text]),
    [
      [51, "cd"],
      [81, ""],
      [null, ""],
    ],
  );
  assert.equal(eos.at(-1)!.reason, "eos");

  const ac = new AbortController();
  const seen: StreamChunk[] = [];
  for await (const c of generateStream(model, [61, 2], { maxNewTokens: 20, eosTokenId: null, signal: ac.signal })) {
    seen.push(c);
    if (seen.length === 2) ac.abort();
  }
  assert.equal(seen.length, 3);
  assert.equal(seen.at(-1)!.reason, "abort");
  await assert.rejects(() => collect(generateStream(model, [1], { numBeams: 2 })), /beam search cannot stream/);
});
