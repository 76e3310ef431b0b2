/** A tiny BERT checkpoint (random weights, a word-level WordPiece vocabulary) and synthetic task files. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng, manualSeed } from "../../src/util/rng.js";
import { makeConfig } from "../../src/models/index.js";
import { AutoModelForMaskedLM } from "../../src/models/index.js";

export const POSITIVE = ["good", "great", "fine", "lovely", "superb"];
export const NEGATIVE = ["bad", "awful", "poor", "dull", "terrible"];
export const FILLER = ["the", "movie", "was", "plot", "actors", "and", "very", "really", "it", "a", "film", "story"];
export const NAMES = ["alice", "bob", "carol", "dave"];
export const PLACES = ["paris", "rome", "oslo"];

export function makeTinyBert(dir: string, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const words = [...POSITIVE, ...NEGATIVE, ...FILLER, ...NAMES, ...PLACES, "visited", "met", "in", ".", ","];
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...words];
  writeFileSync(join(dir, "vocab.txt"), vocab.join("\n") + "\n");
  manualSeed(seed);
  const config = makeConfig("bert", {
    vocab_size: vocab.length,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  });
  AutoModelForMaskedLM.fromConfig(config).savePretrained(dir);
  return dir;
}

function sentence(r: Rng, key: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(FILLER[r.int(FILLER.length)]);
  out.splice(r.int(n + 1), 0, key[r.int(key.length)]);
  return out;
}

/** CSV of "text,label" with pos/neg decided by which word list appears. */
export function sentimentCsv(path: string, n: number, seed: number, opts: { labels?: [string, string] } = {}): void {
  const r = new Rng(seed);
  const [neg, pos] = opts.labels ?? ["neg", "pos"];
  const lines = ["text,label"];
  for (let i = 0; i < n; i++) {
    const positive = r.uniform() < 0.5;
    lines.push(`${sentence(r, positive ? POSITIVE : NEGATIVE, 3 + r.int(4)).join(" ")},${positive ? pos : neg}`);
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

/** JSONL with a numeric target: the number of positive words. */
export function regressionJsonl(path: string, n: number, seed: number): void {
  const r = new Rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(4);
    const words = sentence(r, FILLER, 3);
    for (let j = 0; j < k; j++) words.splice(r.int(words.length + 1), 0, POSITIVE[r.int(POSITIVE.length)]);
    lines.push(JSON.stringify({ text: words.join(" "), label: k }));
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

/** CoNLL (token, tag) with names as PER and places as LOC. */
export function nerConll(path: string, n: number, seed: number): void {
  const r = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const who = NAMES[r.int(NAMES.length)],
      where = PLACES[r.int(PLACES.length)];
    const toks: [string, string][] = [
      [who, "B-PER"],
      [r.uniform() < 0.5 ? "visited" : "met", "O"],
      ...(r.uniform() < 0.5
        ? [["a", "O"] as [string, string], ["film", "O"] as [string, string], ["in", "O"] as [string, string]]
        : []),
      [where, "B-LOC"],
      [".", "O"],
    ];
    for (const [t, g] of toks) out.push(`${t} ${g}`);
    out.push("");
  }
  writeFileSync(path, out.join("\n"));
}
