/** Tiny model directories for the server's tests (random weights; a word-level WordPiece vocabulary), and a client. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Rng, manualSeed } from "../../src/util/rng.js";
import { AutoModelForSequenceClassification, GPT2LMHeadModel, makeConfig } from "../../src/models/index.js";
import { makeTinyBert } from "../tasks/fixtures.js";

/** An encoder without a task head (BertForMaskedLM): it embeds texts. */
export function makeEncoder(dir: string): string {
  return makeTinyBert(dir, 1);
}

/** A two-label sentiment classifier (neg, pos) over the tiny BERT's vocabulary. */
export function makeClassifier(dir: string, encoderDir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(encoderDir, "vocab.txt"), join(dir, "vocab.txt"));
  manualSeed(2);
  const config = makeConfig("bert", {
    vocab_size: readFileSync(join(dir, "vocab.txt"), "utf8").trim().split("\n").length,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    id2label: { 0: "neg", 1: "pos" },
    label2id: { neg: 0, pos: 1 },
  });
  AutoModelForSequenceClassification.fromConfig(config).savePretrained(dir);
  return dir;
}

/** The base URL of a listening server on 127.0.0.1 (port 0: any free port). */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: "127.0.0.1", port: 0 });
}

/** An answer: its status, headers and body (parsed as JSON when it is). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, body: json };
}

/**
 * A tiny GPT-2 over a byte-level vocabulary (every byte one token, no merges, <|endoftext|> = 256), so a prompt's
 * token count is its UTF-8 length; with `chatTemplate`, tokenizer_config.json holds it.
 */
export function makeTinyGpt2(dir: string, opts: { positions?: number; chatTemplate?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  const bytes = [
    ...Array.from({ length: 94 }, (_, i) => 33 + i),
    ...Array.from({ length: 12 }, (_, i) => 161 + i),
    ...Array.from({ length: 82 }, (_, i) => 174 + i),
  ];
  const cs = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bytes.includes(b)) {
      bytes.push(b);
      cs.push(256 + n++);
    }
  const vocab: Record<string, number> = {};
  bytes.forEach((b, i) => (vocab[String.fromCodePoint(cs[i])] = b));
  vocab["<|endoftext|>"] = 256;
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), "#version: 0.2\n");
  if (opts.chatTemplate)
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ chat_template: opts.chatTemplate }));
  const config = makeConfig("gpt2", {
    vocab_size: 257,
    n_positions: opts.positions ?? 64,
    n_embd: 16,
    n_layer: 1,
    n_head: 2,
    bos_token_id: 256,
    eos_token_id: 256,
  });
  new GPT2LMHeadModel(config, { rng: new Rng(1) }).savePretrained(dir);
  return dir;
}

/** The events of a server-sent-events body (the JSON of each `data:` line; "[DONE]" as it is). */
export function sseEvents(body: string): unknown[] {
  return body
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}
