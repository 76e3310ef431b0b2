/**
 * Chat templates against transformers (scripts/fixtures/chat/make_fixtures.py): renderings equal
 * apply_chat_template(tokenize=False) on ChatML, Llama-3 and Zephyr templates with and without the generation
 * prompt, and the assistant masks graft derives by rendering (from the templates WITHOUT markers) equal the masks
 * transformers computes from {% generation %} markers; plus the errors a user meets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import {
  type ChatMessage,
  type ChatTemplate,
  ChatTemplateError,
  checkConversation,
  loadChatTemplate,
  renderChat,
  renderWithAssistantSpans,
  tokenMaskFromSpans,
  tokenizeChat,
} from "../../src/chat/index.js";
import { DataError } from "../../src/util/errors.js";
import { fixture, tmpDir } from "../io/helpers.js";

interface Expected {
  templates: Record<string, string>;
  tokens: Record<string, { bos_token: string; eos_token: string }>;
  conversations: ChatMessage[][];
  renders: { template: string; conversation: number; add_generation_prompt: boolean; text: string }[];
  masks: { template: string; plain: string; conversation: number; input_ids: number[]; assistant_masks: number[] }[];
}
const expected = JSON.parse(readFileSync(fixture("chat", "expected.json"), "utf8")) as Expected;

function templateOf(name: string): ChatTemplate {
  const family = name.split("_")[0];
  return { text: expected.templates[name], source: name, specialTokens: { ...expected.tokens[family] } };
}

test("renderChat equals transformers' apply_chat_template(tokenize=False) on ChatML, Llama-3 and Zephyr", () => {
  assert.equal(expected.renders.length, 6 * 4 * 2);
  for (const r of expected.renders) {
    const family = r.template.split("_")[0];
    const text = renderChat(expected.templates[r.template], expected.conversations[r.conversation], {
      addGenerationPrompt: r.add_generation_prompt,
      bosToken: expected.tokens[family].bos_token,
      eosToken: expected.tokens[family].eos_token,
    });
    assert.equal(
      text,
      r.text,
      `${r.template}, conversation ${r.conversation}, generation prompt ${r.add_generation_prompt}`,
    );
  }
});

test("trim follows Python's str.strip: U+0085 and U+001C..U+001F are stripped, U+FEFF is kept", () => {
  const t = "{{ messages[0]['content'] | trim }}|{{ messages[0]['content'].strip() }}";
  const out = renderChat(t, [{ role: "user", content: "\u0085\u001c a\ufeff b \ufeff" }]);
  assert.equal(out, "a\ufeff b \ufeff|a\ufeff b \ufeff");
  assert.equal(renderChat(t, [{ role: "user", content: "\ufeff x \u0085" }]), "\ufeff x|\ufeff x");
  // characters that are not trimmed come back unchanged, stand-ins included
  const keep = "{{ messages[0]['content'] }}";
  const s = "\u2000\u0085mid\ufeff\u001fdle\u3000";
  assert.equal(renderChat(keep, [{ role: "user", content: s }]), s);
});

test("assistant masks derived by rendering equal transformers' {% generation %} masks", async () => {
  const tok = loadTokenizer(fixture("chat"));
  let marked = 0;
  for (const m of expected.masks) {
    const r = await tokenizeChat(tok, templateOf(m.plain), expected.conversations[m.conversation]);
    assert.deepEqual(r.ids, m.input_ids, `${m.plain} conversation ${m.conversation}: ids`);
    assert.deepEqual(r.assistantMask, m.assistant_masks, `${m.plain} conversation ${m.conversation}: mask`);
    marked += m.assistant_masks.reduce((a, b) => a + b, 0);
  }
  assert.ok(marked > 100, "the fixtures mark assistant tokens");
});

test("assistant spans cover each assistant turn and nothing else", () => {
  const conv = expected.conversations[1];
  const r = renderWithAssistantSpans(templateOf("chatml"), conv);
  assert.deepEqual(
    r.assistantSpans.map(([s, e]) => r.text.slice(s, e)),
    ["Hi! How can I help?<|im_end|>\n", "Why did the tensor cross the road? To broadcast.<|im_end|>\n"],
  );
});

test("a template that renders earlier turns differently falls back to searching the content", () => {
  // the last assistant turn gets a tag the earlier ones lack: a prefix rendering is not a prefix of the whole
  const t: ChatTemplate = {
    text:
      "{% for m in messages %}<{{ m['role'] }}>{% if m['role'] == 'assistant' and loop.last %}[final]{% endif %}" +
      "{% if m['role'] == 'assistant' %}{{ m['content'].split('</think>')[-1] }}{% else %}{{ m['content'] }}{% endif %}" +
      "</s>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
    source: "test",
    specialTokens: { eos_token: "</s>" },
  };
  const conv: ChatMessage[] = [
    { role: "user", content: "q1" },
    { role: "assistant", content: "a1" },
    { role: "user", content: "q2" },
    { role: "assistant", content: "a2" },
  ];
  const r = renderWithAssistantSpans(t, conv);
  assert.equal(r.text, "<user>q1</s><assistant>a1</s><user>q2</s><assistant>[final]a2</s>");
  assert.deepEqual(
    r.assistantSpans.map(([s, e]) => r.text.slice(s, e)),
    ["a1</s>", "[final]a2</s>"],
  );
  // a turn whose content the template rewrites (reasoning dropped from an earlier turn) cannot be located
  const thinking = [...conv];
  thinking[1] = { role: "assistant", content: "<think>x</think>a1" };
  assert.throws(() => renderWithAssistantSpans(t, thinking), /assistant turn 1 .* cannot be located/);
});

test("token masks mark the tokens overlapping a span", () => {
  assert.deepEqual(
    tokenMaskFromSpans(
      [
        [0, 2],
        [2, 5],
        [5, 6],
        [6, 9],
      ],
      [[3, 6]],
    ),
    [0, 1, 1, 0],
  );
});

test("a template's raise_exception surfaces as a ChatTemplateError with its message", () => {
  const t =
    "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
    "{{ m['content'] }}{% endfor %}";
  assert.throws(
    () =>
      renderChat(t, [
        { role: "user", content: "a" },
        { role: "user", content: "b" },
      ]),
    (e: unknown) => e instanceof ChatTemplateError && /roles must alternate/.test((e as Error).message),
  );
  assert.throws(() => renderChat(t, []), ChatTemplateError);
  assert.throws(() => renderChat("{% for %}", [{ role: "user", content: "a" }]), /does not parse/);
});

test("checkConversation names the line and field of an unknown role, an empty conversation, a bad content", () => {
  const where = { file: "c.jsonl", line: 3 };
  assert.throws(
    () => checkConversation([], where),
    (e: unknown) => e instanceof DataError && /c\.jsonl, line 3.*empty/.test((e as Error).message),
  );
  assert.throws(
    () => checkConversation([{ role: "robot", content: "x" }], where),
    /c\.jsonl, line 3, field "messages\[0\]\.role": unknown role "robot"/,
  );
  assert.throws(() => checkConversation([{ role: "user", content: 3 }], where), /messages\[0\]\.content/);
  assert.throws(() => checkConversation({ role: "user" }, where), /must be a list/);
  assert.equal(checkConversation([{ role: "user", content: "hi" }], where).length, 1);
});

test("loadChatTemplate: override file, chat_template.jinja, tokenizer_config.json, and a clear error without one", () => {
  const dir = tmpDir("graft-chat-");
  mkdirSync(join(dir, "m"));
  const m = join(dir, "m");
  assert.throws(() => loadChatTemplate(m), /has no chat template[\s\S]*/);
  try {
    loadChatTemplate(m);
  } catch (e) {
    assert.match((e as { hint: string }).hint, /--chat-template FILE/);
  }
  writeFileSync(
    join(m, "tokenizer_config.json"),
    JSON.stringify({
      chat_template: [{ name: "default", template: "{{ bos_token }}{{ messages[0]['content'] }}" }],
      bos_token: { content: "<s>", special: true },
      eos_token: "</s>",
    }),
  );
  const fromConfig = loadChatTemplate(m);
  assert.equal(renderChat(fromConfig, [{ role: "user", content: "hi" }]), "<s>hi");
  assert.equal(renderChat(fromConfig, [{ role: "user", content: "hi" }], { bosToken: "[B]" }), "[B]hi");
  writeFileSync(join(m, "chat_template.jinja"), "J{{ eos_token }}");
  assert.equal(renderChat(loadChatTemplate(m), [{ role: "user", content: "hi" }]), "J</s>");
  const override = join(dir, "t.jinja");
  writeFileSync(override, "O{{ messages | length }}");
  assert.equal(renderChat(loadChatTemplate(m, override), [{ role: "user", content: "hi" }]), "O1");
  assert.throws(() => loadChatTemplate(m, join(dir, "missing.jinja")), /does not exist/);
});
