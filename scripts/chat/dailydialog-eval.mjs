// Scores a causal LM on held-out conversations the way the sft task kind does (docs/chat.md, "Recipe: DailyDialog"):
// perplexity of the assistant turns (assistant-only tokens, the template's end-of-turn token included), and, on
// the first N conversations, greedy replies to the last user turn scored with BLEU-1/2 and distinct-1/2 (the sft
// kind's own generation-metrics code). Works on any model directory, so the pre-trained model (no chat template of
// its own: give --chat-template) is scored exactly as the fine-tuned ones.
//
// Usage (after `npm run build`):
//   node scripts/chat/dailydialog-eval.mjs --model DIR --data FILE.jsonl [--chat-template FILE] [--generate N]
//     [--limit N] [--max-new-tokens 32] [--max-length 256] [--batch-size 16] [--samples 5] [--json OUT.json]
// --limit scores only the first N conversations of --data (perplexity too); --generate N <= that generates for the
// first N of them.
import { writeFileSync } from "node:fs";
import { AutoModelForCausalLM, causalLmLoss } from "../../dist/src/models/index.js";
import { AutoTokenizer } from "../../dist/src/tokenizers/index.js";
import { loadChatTemplate } from "../../dist/src/chat/index.js";
import { noGrad } from "../../dist/src/tensor/index.js";
import { padRows } from "../../dist/src/tasks/encode.js";
import { encodeSftRecords, readSftFile } from "../../dist/src/tasks/kinds/sft/data.js";
import { replyCase, scoreReplies } from "../../dist/src/tasks/kinds/sft/generation.js";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return args[i + 1];
};
const modelDir = flag("model");
const dataFile = flag("data");
const templateFile = flag("chat-template", null);
const generateN = Number(flag("generate", "0"));
const maxNewTokens = Number(flag("max-new-tokens", "32"));
const maxLength = Number(flag("max-length", "256"));
const batchSize = Number(flag("batch-size", "16"));
const sampleCount = Number(flag("samples", "5"));
const jsonOut = flag("json", null);
const limit = Number(flag("limit", "0"));

const t0 = performance.now();
const tokenizer = await AutoTokenizer.fromPretrained(modelDir);
const model = AutoModelForCausalLM.fromPretrainedDir(modelDir);
model.eval();
const template = loadChatTemplate(modelDir, templateFile ?? undefined);
const all = readSftFile(dataFile);
const records = limit > 0 ? all.slice(0, limit) : all;
const enc = await encodeSftRecords(records, dataFile, {
  tokenizer,
  template,
  maxLength,
  trainOn: "auto",
  overLength: "truncate",
});

// perplexity over the learned (assistant) tokens of every record
const padId = tokenizer.specialTokenId("pad") ?? tokenizer.specialTokenId("eos") ?? 0;
let lossSum = 0;
let tokens = 0;
noGrad(() => {
  for (let s = 0; s < enc.rows.length; s += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, enc.rows.length - s) }, (_, i) => s + i);
    const b = padRows(enc.rows, idx, padId);
    const logits = model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask }).logits;
    let n = 0;
    for (const r of idx) n += enc.rows[r].labels.filter((l, i) => i > 0 && l !== -100).length;
    lossSum += causalLmLoss(logits, b.tokenLabels).item() * n;
    tokens += n;
  }
});
const loss = lossSum / tokens;
const result = {
  model: modelDir,
  data: dataFile,
  records: enc.rows.length,
  truncated: enc.report.truncated,
  assistant_tokens: tokens,
  loss,
  perplexity: Math.exp(loss),
};

// greedy replies to the first N conversations' last user turn
if (generateN > 0) {
  const cases = [];
  const asked = []; // the records behind the cases
  for (const rec of records.slice(0, generateN)) {
    const c = await replyCase(rec, tokenizer, template);
    if (c) {
      cases.push(c);
      asked.push(rec);
    }
  }
  const stopIds = [tokenizer.specialTokenId("eos"), tokenizer.tokenToId(template.specialTokens.eos_token ?? "")].filter(
    (x) => x !== null && x !== undefined,
  );
  const s = await scoreReplies(model, tokenizer, cases, { maxNewTokens, batchSize, stopIds });
  Object.assign(result, { generated: cases.length, ...s.metrics });
  const lastUser = (rec) => rec.messages.at(-2).content;
  result.samples = s.replies
    .slice(0, sampleCount)
    .map((r, i) => ({ user: lastUser(asked[i]), reference: r.reference, reply: r.reply }));
  result.mean_reply_words =
    s.replies.reduce((a, r) => a + r.reply.split(/\s+/).filter(Boolean).length, 0) / cases.length;
}
result.seconds = (performance.now() - t0) / 1000;
const text = JSON.stringify(result, null, 2);
if (jsonOut) writeFileSync(jsonOut, text + "\n");
process.stdout.write(text + "\n");
