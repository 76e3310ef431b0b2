/**
 * `graft generate` and `graft chat` on a tiny byte-level GPT-2 (stdin not a terminal): the printed text is what the
 * library generates for the same prompt, beams and JSON included; generation_config.json sets the defaults; chat
 * keeps the conversation, /system, /save and /reset act on it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Rng } from "../../src/util/rng.js";
import { generate } from "../../src/models/index.js";
import { ChatSession } from "../../src/cli/chat.js";
import { loadTextGenerator } from "../../src/cli/generate.js";
import { makeTinyGpt2 } from "../models/helpers.js";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "graft-cli-generate-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

function graft(args: string[], input = ""): { code: number; stdout: string; stderr: string } {
  const code = `const { run } = await import(${JSON.stringify(pathToFileURL(MAIN).href)}); process.exitCode = await run(process.argv);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code, "graft", ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A 1-layer byte-level GPT-2 (every byte a token, <|endoftext|> = 256) of `positions` positions. */
const tinyGpt2 = (dir: string, positions = 256): string => makeTinyGpt2(dir, { positions });

const dir = tinyGpt2(mkdtempSync(join(work, "gpt2-")));

test("graft generate --prompt prints the library's continuation; stdin lines each get one; --json and beams", async () => {
  const g = loadTextGenerator(dir);
  const expect = async (prompt: string, opts = {}) => {
    const out = generate(g.model, [await g.encode(prompt)], { maxNewTokens: 6, ...opts });
    return { tokens: out.newTokens, texts: await Promise.all(out.newTokens.map((t) => g.decode(t))), out };
  };
  const one = graft(["generate", "--model", dir, "--prompt", "Once upon", "--max-new-tokens", "6"]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, `${(await expect("Once upon")).texts[0]}\n`);

  const lines = graft(["generate", "--model", dir, "--max-new-tokens", "6", "--json"], "Once upon\n\na time\n");
  assert.equal(lines.code, 0, lines.stderr);
  const rows = lines.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { prompt: string; generated: string; tokens: number[] });
  assert.deepEqual(
    rows.map((r) => r.prompt),
    ["Once upon", "a time"],
    "an empty line is skipped",
  );
  for (const r of rows) {
    const want = await expect(r.prompt);
    assert.deepEqual(r.tokens, want.tokens[0]);
    assert.equal(r.generated, want.texts[0]);
  }

  const beams = graft([
    "generate",
    "--model",
    dir,
    "--prompt",
    "Once upon",
    "--max-new-tokens",
    "6",
    "--num-beams",
    "3",
    "--num-return-sequences",
    "2",
    "--no-repeat-ngram-size",
    "2",
    "--json",
  ]);
  assert.equal(beams.code, 0, beams.stderr);
  const b = JSON.parse(beams.stdout) as { generated: string[]; tokens: number[][]; scores: number[] };
  const want = await expect("Once upon", { numBeams: 3, numReturnSequences: 2, noRepeatNgramSize: 2 });
  assert.deepEqual(b.tokens, want.tokens);
  assert.deepEqual(b.generated, want.texts);
  assert.deepEqual(b.scores, want.out.sequencesScores);

  const sampled = graft(["generate", "--model", dir, "--prompt", "Once", "--do-sample", "--seed", "4", "--json"]);
  const again = graft(["generate", "--model", dir, "--prompt", "Once", "--do-sample", "--seed", "4", "--json"]);
  assert.equal(sampled.code, 0, sampled.stderr);
  assert.equal(sampled.stdout, again.stdout, "sampling is seeded");

  const bad = graft(["generate", "--model", dir, "--prompt", "x", "--num-beams", "2", "--stop", "a"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--stop works with greedy decoding and sampling/);
});

test("graft generate: generation_config.json in the model directory sets the defaults, flags win", () => {
  const withConfig = tinyGpt2(mkdtempSync(join(work, "gpt2-config-")));
  writeFileSync(join(withConfig, "generation_config.json"), JSON.stringify({ max_new_tokens: 3, eos_token_id: null }));
  const three = graft(["generate", "--model", withConfig, "--prompt", "Once", "--json"]);
  assert.equal(three.code, 0, three.stderr);
  assert.equal((JSON.parse(three.stdout) as { tokens: number[] }).tokens.length, 3);
  const five = graft(["generate", "--model", withConfig, "--prompt", "Once", "--json", "--max-new-tokens", "5"]);
  assert.equal((JSON.parse(five.stdout) as { tokens: number[] }).tokens.length, 5);
});

test("graft chat reads stdin line by line: replies are the library's, history kept, /system /save /reset", async () => {
  const saved1 = join(work, "chat1.json");
  const saved2 = join(work, "chat2.json");
  const input = [
    "Hello",
    "/system Be brief",
    "How are you",
    `/save ${saved1}`,
    "/reset",
    "Bye",
    `/save ${saved2}`,
    "/nope",
    "",
  ].join("\n");
  const r = graft(["chat", "--model", dir, "--max-new-tokens", "8"], input);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /conversation cleared/);
  assert.match(r.stderr, /unknown command \/nope/);

  // the same conversation through the library
  const g = loadTextGenerator(dir);
  const s = new ChatSession(g, { maxNewTokens: 8, rng: new Rng(0) });
  const out: string[] = [];
  const write = (t: string) => out.push(t);
  const r1 = await s.turn("Hello", write);
  s.system = "Be brief";
  const r2 = await s.turn("How are you", write);
  const first = JSON.parse(readFileSync(saved1, "utf8")) as { messages: { role: string; content: string }[] };
  assert.deepEqual(first.messages, [
    { role: "system", content: "Be brief" },
    { role: "user", content: "Hello" },
    { role: "assistant", content: r1 },
    { role: "user", content: "How are you" },
    { role: "assistant", content: r2 },
  ]);
  s.history = [];
  const r3 = await s.turn("Bye", write);
  const second = JSON.parse(readFileSync(saved2, "utf8")) as { messages: { role: string; content: string }[] };
  assert.deepEqual(second.messages, [
    { role: "system", content: "Be brief" },
    { role: "user", content: "Bye" },
    { role: "assistant", content: r3 },
  ]);
  for (const reply of [r1, r2, r3])
    assert.ok(r.stdout.includes(reply), `stdout holds the reply ${JSON.stringify(reply)}`);
});

test("the plain transcript a model without a chat template reads", async () => {
  const { renderTranscript } = await import("../../src/cli/chat.js");
  assert.equal(
    renderTranscript([
      { role: "system", content: "Be brief" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Bye" },
    ]),
    "System: Be brief\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:",
  );
});

test("chat drops the oldest turns when the conversation outgrows the model's positions; a message too long alone is refused", async () => {
  const small = loadTextGenerator(tinyGpt2(mkdtempSync(join(work, "gpt2-small-")), 64));
  const s = new ChatSession(small, { maxNewTokens: 8, rng: new Rng(0), eosTokenId: null });
  await s.turn("Hello there", () => {});
  assert.equal(s.history.length, 2);
  await s.turn("How are you today", () => {});
  assert.deepEqual(
    s.history.map((m) => m.role),
    ["user", "assistant"],
    "the first exchange was dropped to fit 64 positions",
  );
  assert.equal(s.history[0].content, "How are you today");
  await assert.rejects(() => s.turn("x".repeat(60), () => {}), /exceeds the model's 64 positions/);
  assert.equal(s.history.length, 2, "a refused message leaves the history as it was");
});

test("graft chat renders the model's chat template (or --chat-template FILE) for the prompt, without the transcript's stops", async () => {
  const chatml =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const file = join(work, "chatml.jinja");
  writeFileSync(file, chatml);
  const g = loadTextGenerator(dir);
  const { findChatTemplate } = await import("../../src/chat/index.js");
  assert.equal(findChatTemplate(dir), null); // the tiny model has none: the plain transcript
  const template = findChatTemplate(dir, file)!;
  const s = new ChatSession(g, { maxNewTokens: 6, rng: new Rng(0) }, "Be brief", template);
  const ids = await s.encode(s.messages([{ role: "user", content: "Hi" }]));
  const text = "<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
  assert.deepEqual(ids, Array.from((await g.tokenizer.encode(text, null, { addSpecialTokens: false })).ids));
  const reply = await s.turn("Hi", () => {});
  const expected = await g.decode(generate(g.model, [ids], { maxNewTokens: 6 }).newTokens[0]);
  assert.equal(reply, expected.trim());

  // the CLI takes the same template from the model directory
  const withTemplate = mkdtempSync(join(work, "gpt2-chatml-"));
  cpSync(dir, withTemplate, { recursive: true });
  writeFileSync(join(withTemplate, "chat_template.jinja"), chatml);
  const r = graft(["chat", "--model", withTemplate, "--max-new-tokens", "6", "--system", "Be brief"], "Hi\n");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), expected.trim());
});
