/** The pre-training corpus builder: every format, duplicates across sources, the manifest, and bad specs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCorpus, checkCorpusSpec, readCorpus, type CorpusSpec } from "../../src/data/index.js";
import { ROOT } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-corpus-"));
const root = join(work, "datasets");
const put = (rel: string, text: string) => {
  mkdirSync(join(root, rel, ".."), { recursive: true });
  writeFileSync(join(root, rel), text);
};
put("books/a.txt", "First paragraph,\nwrapped over two lines.\n\nSecond  paragraph.\n\n\nok\n");
put("books/b.txt", "second paragraph.\n\nA new one here.\n");
put("table/train.tsv", "label\tsentence\n1\tA sentence from a table.\n0\tFirst paragraph, wrapped over two lines.\n\n");
put("ner/train.txt", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n");
put("dialog/dialogues.txt", "Hi there . __eou__ Hello , how are you ? __eou__\nSecond dialogue . __eou__\n");
put("mono/train.en", "A line of text.\n\nAnother line of text.\n");
put("records.jsonl", '{"body": "From a JSON record."}\n\n{"body": "A LINE of   text."}\n');

const spec = (over: Partial<CorpusSpec> = {}): CorpusSpec => ({
  root,
  minChars: 3,
  sources: [
    { name: "books", files: ["books/*.txt"], format: "paragraphs", licence: "public domain" },
    { name: "table", files: ["table/train.tsv"], format: "column", field: "sentence", licence: "CC0" },
    { name: "ner", files: ["ner/train.txt"], format: "conll", licence: "research" },
    { name: "dialog", files: ["dialog/dialogues.txt"], format: "dialogues", licence: "CC BY-NC-SA 4.0" },
    { name: "mono", files: ["mono/train.en"], format: "lines", licence: "MIT", note: "training side" },
    { name: "records", files: ["records.jsonl"], format: "jsonl", field: "body", licence: "MIT" },
  ],
  excluded: ["the test split"],
  ...over,
});

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { text: string; source: string });

test("each format cuts its documents; duplicates across sources and short documents are dropped, counted", async () => {
  const out = join(work, "out");
  const m = await buildCorpus(spec(), out);
  const expected = [
    { text: "First paragraph, wrapped over two lines.", source: "books" },
    { text: "Second  paragraph.", source: "books" },
    { text: "A new one here.", source: "books" },
    { text: "A sentence from a table.", source: "table" },
    { text: "EU rejects", source: "ner" },
    { text: "Peter Blackburn", source: "ner" },
    { text: "Hi there .\nHello , how are you ?", source: "dialog" },
    { text: "Second dialogue .", source: "dialog" },
    { text: "A line of text.", source: "mono" },
    { text: "Another line of text.", source: "mono" },
    { text: "From a JSON record.", source: "records" },
  ];
  assert.deepEqual(lines(join(out, "corpus.jsonl")), expected);
  const by = Object.fromEntries(m.sources.map((s) => [s.name, s]));
  // "ok" is short; b.txt's "second paragraph." repeats a.txt's up to case and spacing
  assert.deepEqual([by.books.documents, by.books.shortDropped, by.books.duplicatesDropped], [3, 1, 1]);
  assert.equal(by.table.duplicatesDropped, 1, "the table repeats a book's paragraph");
  assert.equal(by.records.duplicatesDropped, 1, "case and whitespace do not make a new document");
  assert.equal(m.documents, 11);
  assert.equal(m.duplicatesDropped, 3);
  assert.equal(
    m.characters,
    expected.reduce((a, d) => a + d.text.length, 0),
  );
  assert.deepEqual(
    by.books.files.map((f) => f.path),
    ["books/a.txt", "books/b.txt"],
  );
  const sha = createHash("sha256")
    .update(readFileSync(join(root, "books/a.txt")))
    .digest("hex");
  assert.equal(by.books.files[0].sha256, sha);
  assert.equal(by.mono.note, "training side");
  assert.deepEqual(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).excluded, ["the test split"]);
  const table = readFileSync(join(out, "SOURCES.md"), "utf8");
  assert.match(table, /\| books \| books\/\*\.txt \(2 files\) \| 3 \|/);
  assert.match(table, /- the test split/);
  // pre-training reads it as it is
  const read: string[] = [];
  for await (const l of readCorpus([join(out, "corpus.jsonl")])) read.push(l.text);
  assert.equal(read.length, 11);
  assert.equal(read[6], "Hi there .\nHello , how are you ?");
  // the same spec gives the same bytes
  const again = join(work, "again");
  await buildCorpus(spec(), again);
  assert.equal(readFileSync(join(again, "corpus.jsonl"), "utf8"), readFileSync(join(out, "corpus.jsonl"), "utf8"));
});

test("a bad spec or a bad file is an error naming the file, line or field; nothing half-written stays", async () => {
  const f = join(work, "spec.yaml");
  const base = { root: "datasets", sources: [{ name: "a", files: "books/a.txt", format: "lines", licence: "x" }] };
  assert.equal(checkCorpusSpec(base, f).root, root, "root is relative to the spec file");
  assert.throws(() => checkCorpusSpec({ ...base, minchars: 2 }, f), /spec\.yaml, field "minchars": unknown key/);
  assert.throws(
    () => checkCorpusSpec({ ...base, sources: [{ ...base.sources[0], format: "csv" }] }, f),
    /field "sources\[0\]\.format": must be one of lines, paragraphs/,
  );
  assert.throws(
    () => checkCorpusSpec({ ...base, sources: [{ ...base.sources[0], licence: "" }] }, f),
    /field "sources\[0\]\.licence": must say the licence/,
  );
  assert.throws(
    () => checkCorpusSpec({ ...base, sources: [{ ...base.sources[0], format: "column" }] }, f),
    /a column source names its column/,
  );
  assert.throws(
    () => checkCorpusSpec({ ...base, sources: [base.sources[0], base.sources[0]] }, f),
    /names two sources/,
  );

  put("bad.jsonl", '{"text": "fine"}\n{"text": 3}\n');
  const out = join(work, "bad-out");
  await assert.rejects(
    buildCorpus(spec({ sources: [{ name: "j", files: ["bad.jsonl"], format: "jsonl", licence: "x" }] }), out),
    /bad\.jsonl, line 2, field "text": missing or not a string/,
  );
  await assert.rejects(
    buildCorpus(
      spec({ sources: [{ name: "t", files: ["table/train.tsv"], format: "column", field: "text", licence: "x" }] }),
      out,
    ),
    /train\.tsv, line 1: no column "text" in the header \(label, sentence\)/,
  );
  await assert.rejects(
    buildCorpus(spec({ sources: [{ name: "n", files: ["nothing/*.txt"], format: "lines", licence: "x" }] }), out),
    /no file matches the pattern/,
  );
  assert.deepEqual(
    spawnSync("ls", ["-A", out], { encoding: "utf8" }).stdout.trim(),
    "",
    "no corpus.jsonl or temp file is left behind",
  );
});

test("graft corpus builds from a spec file and prints what it wrote", () => {
  const f = join(work, "spec.yaml");
  writeFileSync(
    f,
    "root: datasets\nsources:\n  - name: mono\n    files: mono/train.en\n    format: lines\n    licence: MIT\n",
  );
  const out = join(work, "cli-out");
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "bin/graft.js"), "corpus", "--spec", f, "--output", out, "--quiet"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 documents, 36 characters from 1 sources/);
  assert.equal(lines(join(out, "corpus.jsonl")).length, 2);
});
