/**
 * Generation metrics of the sft kind (`--generation-metrics`): for each test record with a reference answer — a
 * {prompt, completion}, or a conversation ending with an assistant turn — the model's greedy reply to the prompt
 * (the conversation before that turn, rendered with the generation prompt) is scored against the reference with
 * BLEU-1 and BLEU-2 (sacrebleu, corpus level) and distinct-1 and distinct-2 from the metric registry.
 */
import { computeMetric } from "../../../metrics/index.js";
import type { Module } from "../../../nn/index.js";
import { type CausalLM, generate } from "../../../models/index.js";
import type { Tokenizer } from "../../../tokenizers/index.js";
import { type ChatTemplate, renderChat } from "../../../chat/index.js";
import type { SftRecord } from "./data.js";

export interface ReplyCase {
  prompt: number[];
  reference: string;
}

/** The prompt ids and reference answer of a record, or null for a record without one ({text}). */
export async function replyCase(
  rec: SftRecord,
  tok: Tokenizer,
  template: ChatTemplate | null,
): Promise<ReplyCase | null> {
  if (rec.shape === "prompt")
    return { prompt: (await tok.encode(rec.prompt, null, { addSpecialTokens: true })).ids, reference: rec.completion };
  if (rec.shape !== "messages" || !template) return null;
  const last = rec.messages[rec.messages.length - 1];
  if (last.role !== "assistant" || rec.messages.length < 2) return null;
  const text = renderChat(template, rec.messages.slice(0, -1), { addGenerationPrompt: true });
  return { prompt: (await tok.encode(text, null, { addSpecialTokens: false })).ids, reference: last.content };
}

export interface ReplyScores {
  metrics: Record<string, number>;
  replies: { reference: string; reply: string }[];
}

/** Greedy replies to each case (batches of `batchSize`), decoded without special tokens, and their scores. */
export async function scoreReplies(
  model: Module,
  tok: Tokenizer,
  cases: readonly ReplyCase[],
  opts: { maxNewTokens: number; batchSize: number; stopIds: number[] },
): Promise<ReplyScores> {
  const lm = model as unknown as CausalLM;
  const limit = lm.maxPositions === null ? Infinity : lm.maxPositions - opts.maxNewTokens;
  const replies: string[] = [];
  for (let i = 0; i < cases.length; i += opts.batchSize) {
    const chunk = cases.slice(i, i + opts.batchSize);
    // keep the end of a prompt too long for the context (left truncation, as for training records)
    const prompts = chunk.map((c) => (c.prompt.length > limit ? c.prompt.slice(c.prompt.length - limit) : c.prompt));
    const out = generate(lm, prompts, { maxNewTokens: opts.maxNewTokens, eosTokenId: opts.stopIds });
    for (const fresh of out.newTokens) {
      const end = fresh.findIndex((id) => opts.stopIds.includes(id)); // padding follows an end token
      replies.push((await tok.decode(end < 0 ? fresh : fresh.slice(0, end), { skipSpecialTokens: true })).trim());
    }
  }
  const references = cases.map((c) => c.reference);
  return {
    metrics: {
      bleu_1: computeMetric("bleu-1", replies, references),
      bleu_2: computeMetric("bleu-2", replies, references),
      distinct_1: computeMetric({ metric: "distinct", value: "distinct-1" }, replies, []),
      distinct_2: computeMetric({ metric: "distinct", value: "distinct-2" }, replies, []),
    },
    replies: references.map((reference, i) => ({ reference, reply: replies[i] })),
  };
}
