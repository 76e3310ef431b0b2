/**
 * Tokenizer training: WordPiece (BERT-style) and byte-level BPE (GPT-2-style), written as tokenizer.json that
 * Hugging Face's libraries load. Both learn merges with the BPE algorithm (as Hugging Face's WordPiece trainer
 * does): start from characters (WordPiece marks word-inner pieces with "##"; byte-level starts from the 256
 * byte symbols), and repeatedly add the most frequent adjacent pair until the vocabulary is full.
 *
 * The corpus (data/readers/corpus.ts) is streamed line by line and reduced to word counts, so memory depends on the number of distinct
 * words, not on the corpus size; past `maxWords` distinct words the rarest are pruned (counts stay exact for
 * the words kept). Pair counts are updated incrementally: a merge touches only the words that contain the pair.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { corpusFiles, readCorpus } from "../data/index.js";
import { byteLevelBpeTokenizerJson, wordPieceTokenizerJson } from "./convert.js";
import { loadTokenizer } from "./auto.js";
import type { Tokenizer } from "./tokenizer.js";

export interface TrainTokenizerOptions {
  type: "wordpiece" | "bpe";
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged. */
  minFrequency?: number;
  /** WordPiece: lowercase (default true) and strip accents (default: as lowercase). */
  lowercase?: boolean;
  stripAccents?: boolean;
  /** WordPiece: the most frequent characters kept as the initial alphabet (default 1000). */
  limitAlphabet?: number;
  /** Special tokens, first in the vocabulary (default: BERT's or GPT-2's). */
  specialTokens?: string[];
  /** Longest input the model will see, written as model_max_length. */
  modelMaxLength?: number;
  /** Distinct words kept while counting (default 2,000,000). */
  maxWords?: number;
  /** Called every 100k lines while counting, and every 1000 merges. */
  onProgress?: (phase: "count" | "merge", done: number) => void;
}

// ---- pre-tokenization as the tokenizers' own normalizers and pre-tokenizers do it

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const BERT_PUNCT = /^[\p{P}!-/:-@[-`{-~]$/u;

/** BertNormalizer + BertPreTokenizer: clean control characters, isolate CJK, lowercase/strip accents, split on whitespace and punctuation. */
export function bertWords(line: string, lowercase: boolean, stripAccents: boolean): string[] {
  let text = "";
  for (const ch of line) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || (/\p{Cc}/u.test(ch) && !/\s/.test(ch))) continue;
    text += isCjk(cp) ? ` ${ch} ` : /\s/.test(ch) ? " " : ch;
  }
  if (lowercase) text = text.toLowerCase();
  if (stripAccents) text = text.normalize("NFD").replace(/\p{Mn}/gu, "");
  const words: string[] = [];
  for (const chunk of text.split(" ")) {
    if (!chunk) continue;
    let cur = "";
    for (const ch of chunk) {
      if (BERT_PUNCT.test(ch)) {
        if (cur) words.push(cur);
        words.push(ch);
        cur = "";
      } else cur += ch;
    }
    if (cur) words.push(cur);
  }
  return words;
}

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to code points from 256 up. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return table;
}

const BYTE_CHARS = bytesToUnicode();
const utf8 = new TextEncoder();

/** ByteLevel pre-tokenizer (GPT-2 regex, no prefix space): words as byte-level strings. */
export function byteLevelWords(line: string): string[] {
  return (line.match(GPT2_SPLIT) ?? []).map((w) => Array.from(utf8.encode(w), (b) => BYTE_CHARS[b]).join(""));
}

async function countWords(
  files: readonly string[],
  split: (line: string) => string[],
  maxWords: number,
  onProgress?: TrainTokenizerOptions["onProgress"],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let lines = 0;
  for await (const { text } of readCorpus(files)) {
    for (const w of split(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    if (++lines % 100_000 === 0) onProgress?.("count", lines);
    if (counts.size > maxWords) {
      // keep memory bounded: drop the words seen once so far
      for (const [w, c] of counts) if (c <= 1) counts.delete(w);
    }
  }
  if (counts.size === 0) throw new DataError(`the corpus has no words (${files.join(", ")})`);
  return counts;
}

// ---- BPE merges over word counts

class MaxHeap {
  private items: [number, number][] = []; // [count, pairKey]
  push(count: number, key: number): void {
    const a = this.items;
    a.push([count, key]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  /** Higher count first; ties broken by the smaller pair key, so training is deterministic. */
  private before(x: [number, number], y: [number, number]): boolean {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
}

const KEY = 1 << 22; // > any vocabulary size we train

interface MergeResult {
  tokens: string[];
  merges: [string, string][];
}

function learnMerges(
  words: Map<string, number>,
  alphabet: string[],
  specials: string[],
  vocabSize: number,
  minFrequency: number,
  pieces: (w: string) => string[] | null,
  join2: (a: string, b: string) => string,
  onProgress?: TrainTokenizerOptions["onProgress"],
): MergeResult {
  const tokens = [...specials];
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const idOf = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const a of alphabet) idOf(a);
  const seqs: Int32Array[] = [];
  const freq: number[] = [];
  for (const [w, c] of words) {
    const p = pieces(w);
    if (!p) continue;
    seqs.push(Int32Array.from(p, idOf));
    freq.push(c);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const s = seqs[wi];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] * KEY + s[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[wi]);
      if (sign > 0) {
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < seqs.length; wi++) addPairs(wi, 1);
  const heap = new MaxHeap();
  for (const [k, c] of pairCount) heap.push(c, k);
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    const current = pairCount.get(key) ?? 0;
    if (current !== count) {
      if (current > 0) heap.push(current, key); // stale entry: requeue with the true count
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(key / KEY),
      b = key % KEY;
    const merged = join2(tokens[a], tokens[b]);
    const c = idOf(merged);
    merges.push([tokens[a], tokens[b]]);
    const touched = new Set<number>();
    for (const wi of where.get(key) ?? []) {
      const s = seqs[wi];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++)
        if (s[i] === a && s[i + 1] === b) {
          has = true;
          break;
        }
      if (!has) continue;
      addPairs(wi, -1);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(c);
          i++;
        } else out.push(s[i]);
      }
      seqs[wi] = Int32Array.from(out);
      addPairs(wi, 1);
      for (let i = 0; i + 1 < out.length; i++) touched.add(out[i] * KEY + out[i + 1]);
    }
    pairCount.delete(key);
    where.delete(key);
    for (const k of touched) {
      const v = pairCount.get(k) ?? 0;
      if (v > 0) heap.push(v, k);
    }
    if (merges.length % 1000 === 0) onProgress?.("merge", merges.length);
  }
  return { tokens, merges };
}

/**
 * Trains a tokenizer on a corpus and writes tokenizer.json (+ vocab files and tokenizer_config.json) into outDir.
 * The corpus is files, directories and globs (.txt / .jsonl, optionally .gz: the shared corpus reader). On failure
 * nothing is left behind: an output directory this call created is removed.
 */
export async function trainTokenizer(
  corpus: string | readonly string[],
  outDir: string,
  o: TrainTokenizerOptions,
): Promise<Tokenizer> {
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 50)
    throw new ArgumentError(`vocabSize must be an integer >= 50, got ${o.vocabSize}`);
  const files = corpusFiles(corpus);
  const created = !existsSync(outDir);
  try {
    return await trainInto(files, outDir, o);
  } catch (e) {
    if (created) rmSync(outDir, { recursive: true, force: true });
    throw e;
  }
}

async function trainInto(files: readonly string[], outDir: string, o: TrainTokenizerOptions): Promise<Tokenizer> {
  const minFrequency = o.minFrequency ?? 2;
  const maxWords = o.maxWords ?? 2_000_000;
  mkdirSync(outDir, { recursive: true });
  if (o.type === "wordpiece") {
    const lowercase = o.lowercase ?? true;
    const strip = o.stripAccents ?? lowercase;
    const specials = o.specialTokens ?? ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    const words = await countWords(files, (l) => bertWords(l, lowercase, strip), maxWords, o.onProgress);
    // the initial alphabet: the most frequent characters, each as word-initial and as "##" continuation
    const charFreq = new Map<string, number>();
    for (const [w, c] of words) for (const ch of w) charFreq.set(ch, (charFreq.get(ch) ?? 0) + c);
    const chars = [...charFreq]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, o.limitAlphabet ?? 1000)
      .map(([ch]) => ch);
    const allowed = new Set(chars);
    const alphabet = [...chars.flatMap((ch) => [ch, `##${ch}`])].sort();
    const { tokens } = learnMerges(
      words,
      alphabet,
      specials,
      o.vocabSize,
      minFrequency,
      (w) => {
        const cs = [...w];
        return cs.every((ch) => allowed.has(ch)) ? cs.map((ch, i) => (i === 0 ? ch : `##${ch}`)) : null;
      },
      (a, b) => a + (b.startsWith("##") ? b.slice(2) : b),
      o.onProgress,
    );
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    const json = wordPieceTokenizerJson(vocab, {
      lowercase,
      stripAccents: o.stripAccents ?? null,
      unkToken: specials[1],
      padToken: specials[0],
      clsToken: specials[2],
      sepToken: specials[3],
      maskToken: specials[4],
    });
    writeJsonAtomic(join(outDir, "tokenizer.json"), json);
    writeFileSync(join(outDir, "vocab.txt"), tokens.join("\n") + "\n");
    writeJsonAtomic(join(outDir, "tokenizer_config.json"), {
      tokenizer_class: "BertTokenizerFast",
      do_lower_case: lowercase,
      strip_accents: o.stripAccents ?? null,
      tokenize_chinese_chars: true,
      pad_token: specials[0],
      unk_token: specials[1],
      cls_token: specials[2],
      sep_token: specials[3],
      mask_token: specials[4],
      model_max_length: o.modelMaxLength ?? 512,
    });
  } else {
    const specials = o.specialTokens ?? ["<|endoftext|>"];
    const words = await countWords(files, byteLevelWords, maxWords, o.onProgress);
    const alphabet = [...BYTE_CHARS].sort();
    const { tokens, merges } = learnMerges(
      words,
      alphabet,
      [],
      o.vocabSize - specials.length,
      minFrequency,
      (w) => [...w],
      (a, b) => a + b,
      o.onProgress,
    );
    // GPT-2 puts its special token after the learned vocabulary
    const all = [...tokens, ...specials];
    const vocab = Object.fromEntries(all.map((t, i) => [t, i]));
    writeJsonAtomic(
      join(outDir, "tokenizer.json"),
      byteLevelBpeTokenizerJson(vocab, merges, { specialTokens: specials }),
    );
    writeJsonAtomic(join(outDir, "vocab.json"), vocab);
    writeFileSync(
      join(outDir, "merges.txt"),
      "#version: 0.2\n" + merges.map(([a, b]) => `${a} ${b}`).join("\n") + "\n",
    );
    const eos = specials[0];
    writeJsonAtomic(join(outDir, "tokenizer_config.json"), {
      tokenizer_class: "GPT2TokenizerFast",
      bos_token: eos,
      eos_token: eos,
      unk_token: eos,
      model_max_length: o.modelMaxLength ?? 1024,
      add_prefix_space: false,
    });
  }
  return loadTokenizer(outDir);
}
