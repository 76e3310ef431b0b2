/** Shared by the model tests: fixture directories, their expected outputs, tensor builders, comparisons, temp dirs. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { Tensor } from "../../src/tensor/index.js";
import { Rng } from "../../src/util/rng.js";
import { GPT2LMHeadModel, makeConfig } from "../../src/models/index.js";
import { bytesToUnicode } from "../../src/tokenizers/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** test/fixtures/models/<name>: checkpoints written by scripts/fixtures/models/make_fixtures.py. */
export function fixtureDir(name: string): string {
  return join(root, "test", "fixtures", "models", name);
}

export type Expected = Record<string, unknown>;

export function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(fixtureDir(name), "expected.json"), "utf8")) as Expected;
}

/** Nested number arrays → a Tensor of their shape. */
export function nested(v: unknown, dtype: "f32" | "i32" = "f32"): Tensor {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flat = (v as unknown[]).flat(Infinity) as number[];
  return new Tensor(dtype === "i32" ? Int32Array.from(flat) : Float32Array.from(flat), shape);
}

export const ids = (v: unknown) => nested(v, "i32");

/** Largest |a - b| after checking the shapes agree. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.shape], [...b.shape], `shapes differ: ${a.shape} vs ${b.shape}`);
  let m = 0;
  const av = a.toFloat32Array(),
    bv = b.toFloat32Array();
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(av[i] - bv[i]));
  return m;
}

export function assertClose(what: string, actual: Tensor, want: Tensor | unknown, atol = 1e-4): void {
  const w = want instanceof Tensor ? want : nested(want);
  const d = maxAbsDiff(actual, w);
  assert.ok(d <= atol, `${what}: max |difference| ${d.toExponential(3)} exceeds ${atol}`);
}

/** Rows [from, to) of each batch item along axis 1 of a [B, T, ...] tensor, as plain arrays (to compare real tokens only). */
export function rowsOf(t: Tensor, b: number, from: number, to: number): number[] {
  const [, T] = t.shape;
  const inner = t.size / (t.shape[0] * T);
  return t.toArray().slice((b * T + from) * inner, (b * T + to) * inner);
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = "graft-models-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/**
 * A 1-layer GPT-2 (seeded random weights) over a byte-level vocabulary: every byte one token (GPT-2's byte-to-unicode
 * table), no merges, <|endoftext|> = 256, so a prompt's token count is its UTF-8 length. With `chatTemplate`,
 * tokenizer_config.json holds it.
 */
export function makeTinyGpt2(dir: string, opts: { positions?: number; chatTemplate?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((char, byte) => {
    vocab[char] = byte;
  });
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
