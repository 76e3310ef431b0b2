/** Tiny model directories for the server's tests (random weights; a word-level WordPiece vocabulary), and a client. */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { manualSeed } from "../../src/util/rng.js";
import { AutoModelForSequenceClassification, makeConfig } from "../../src/models/index.js";
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

/** A tiny byte-level GPT-2 (the models tests' helper). */
export { makeTinyGpt2 } from "../models/helpers.js";

/** The events of a server-sent-events body (the JSON of each `data:` line; "[DONE]" as it is). */
export function sseEvents(body: string): unknown[] {
  return body
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}
