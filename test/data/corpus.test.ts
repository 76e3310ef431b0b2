/** The one corpus reader of tokenizer training, word2vec and pre-training: files, directories, globs, JSONL, gzip. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DataError } from "../../src/util/errors.js";
import { corpusFiles, readCorpus } from "../../src/data/index.js";
import { trainTokenizer } from "../../src/tokenizers/index.js";
import { trainWord2Vec } from "../../src/train/word2vec.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "graft-corpus-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far", "away", "home", "red", "blue"];
const text = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) =>
    Array.from({ length: 6 }, (_, j) => WORDS[(i * 7 + j * 5 + seed) % WORDS.length]).join(" "),
  ).join("\n") + "\n";

// books/            b.txt, a.txt, notes.md (not a corpus file), .hidden.txt
// books/more/       c.jsonl ({"text": ...} per line), d.txt.gz
const books = join(work, "books");
mkdirSync(join(books, "more"), { recursive: true });
writeFileSync(join(books, "b.txt"), text(40, 2));
writeFileSync(join(books, "a.txt"), text(40, 1));
writeFileSync(join(books, "notes.md"), "# not read\n");
writeFileSync(join(books, ".hidden.txt"), "hidden\n");
writeFileSync(
  join(books, "more", "c.jsonl"),
  text(20, 3)
    .trim()
    .split("\n")
    .map((t) => JSON.stringify({ id: 1, text: t }))
    .join("\n") + "\n",
);
writeFileSync(join(books, "more", "d.txt.gz"), gzipSync(Buffer.from(text(20, 4))));

test("corpusFiles: files, directories (recursive, sorted), globs; a missing path is one clear error", () => {
  const all = [
    join(books, "a.txt"),
    join(books, "b.txt"),
    join(books, "more", "c.jsonl"),
    join(books, "more", "d.txt.gz"),
  ];
  assert.deepEqual(corpusFiles([books]), all);
  assert.deepEqual(corpusFiles(books), all, "a string is a list of one");
  assert.deepEqual(corpusFiles([join(books, "notes.md")]), [join(books, "notes.md")], "a named file is read as given");
  assert.deepEqual(corpusFiles([join(books, "*.txt")]), [join(books, "a.txt"), join(books, "b.txt")]);
  assert.deepEqual(corpusFiles([join(books, "**", "*.jsonl")]), [join(books, "more", "c.jsonl")]);
  assert.deepEqual(corpusFiles([join(books, "b.txt"), books]), [
    join(books, "b.txt"),
    ...all.filter((f) => !f.endsWith("b.txt")),
  ]);
  assert.throws(
    () => corpusFiles([join(work, "nope")]),
    (e: Error) => e instanceof DataError && /nope: corpus path does not exist/.test(e.message),
  );
  assert.throws(() => corpusFiles([join(work, "*.none")]), /no file matches the pattern/);
  mkdirSync(join(work, "emptydir"));
  assert.throws(() => corpusFiles([join(work, "emptydir")]), /no corpus files in the directory/);
});

test("readCorpus: text lines, JSONL records' text, gzip decompressed; a corrupt .gz names the file", async () => {
  const lines: string[] = [];
  for await (const l of readCorpus(corpusFiles(books))) lines.push(l.text);
  assert.equal(lines.length, 40 + 40 + 20 + 20);
  assert.equal(lines[80], text(20, 3).split("\n")[0], "a JSONL record gives its text field");
  assert.equal(lines[100], text(20, 4).split("\n")[0], "a .gz file is decompressed");
  writeFileSync(join(work, "bad.txt.gz"), "not gzip at all\n");
  await assert.rejects(async () => {
    for await (const _ of readCorpus([join(work, "bad.txt.gz")]));
  }, /bad\.txt\.gz: not a valid gzip file/);
});

test("tokenizer training and word2vec read a directory; a failed tokenizer training leaves no output directory", async () => {
  const tok = await trainTokenizer(books, join(work, "tok"), { type: "wordpiece", vocabSize: 60, minFrequency: 1 });
  assert.ok(tok.vocabSize > 12);
  const missing = join(work, "tok-missing");
  await assert.rejects(
    trainTokenizer([join(work, "nope")], missing, { type: "bpe", vocabSize: 300 }),
    /does not exist/,
  );
  assert.equal(existsSync(missing), false);
  const empty = join(work, "tok-empty");
  writeFileSync(join(work, "blank.txt"), "\n\n");
  await assert.rejects(trainTokenizer(join(work, "blank.txt"), empty, { type: "bpe", vocabSize: 300 }), /no words/);
  assert.equal(existsSync(empty), false);
  const w2v = await trainWord2Vec(books, { dim: 8, minCount: 1, epochs: 1, sample: 0 });
  assert.equal(w2v.stats.corpusWords, 120 * 6);
});

test("CLI: graft tokenizer train --corpus DIR works; a missing corpus is one line and leaves no output directory", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  const out = join(work, "cli-tok");
  const ok = run("tokenizer", "train", "--corpus", books, "--out", out, "--vocab-size", "60", "--json");
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8")).model.vocab);
  const bad = join(work, "cli-tok-bad");
  const r = run("tokenizer", "train", "--corpus", join(work, "nope"), "--out", bad);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /corpus path does not exist/);
  assert.doesNotMatch(r.stderr, /EISDIR|\n\s+at /);
  assert.equal(existsSync(bad), false);
});
