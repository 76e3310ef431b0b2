import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError } from "../../src/util/errors.js";
import { readConll } from "../../src/data/readers/conll.js";
import { readParallel } from "../../src/data/readers/parallel.js";
import { tmpFile } from "./helpers.js";

const CONLL = [
  "-DOCSTART- -X- -X- O",
  "",
  "EU NNP B-NP B-ORG",
  "rejects VBZ B-VP O",
  "German JJ B-NP B-MISC",
  "",
  "Peter NNP B-NP B-PER",
  "Blackburn NNP I-NP I-PER",
  "",
  "",
  "-DOCSTART- -X- -X- O",
  "",
  "# NN B-NP O",
  "",
].join("\n");

test("CoNLL: sentences by blank lines, -DOCSTART- counts documents, tag is the last column", async () => {
  const { sentences, report } = await readConll(tmpFile("a.conll", CONLL));
  assert.deepEqual(
    sentences.map((s) => [s.line, s.document, s.tokens, s.tags]),
    [
      [3, 0, ["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]],
      [7, 0, ["Peter", "Blackburn"], ["B-PER", "I-PER"]],
      [13, 1, ["#"], ["O"]],
    ],
  );
  assert.deepEqual(sentences[0]!.columns[0], ["EU", "NNP", "B-NP", "B-ORG"]);
  assert.equal(report.rows, 3);
  assert.equal(report.blankLines, 3); // after each -DOCSTART- line and the second of two blank lines
  const pos = await readConll(tmpFile("b.conll", CONLL), { tagColumn: 1 });
  assert.deepEqual(pos.sentences[0]!.tags, ["NNP", "VBZ", "JJ"]);
});

test("CoNLL: a mismatched column count names the line; skip drops only that sentence", async () => {
  const text = "a DT O\nb NN\nc NN O\n\nd NN O\r\ne NN O\n";
  const f = tmpFile("c.conll", text);
  await assert.rejects(
    readConll(f),
    (e: unknown) =>
      e instanceof DataError && e.line === 2 && /expected 3 columns \(as on line 1\), found 2/.test(e.message),
  );
  const { sentences, report } = await readConll(f, { onBadRow: "skip" });
  assert.deepEqual(
    sentences.map((s) => s.tokens),
    [["d", "e"]],
  );
  assert.deepEqual(
    report.skipped.map((r) => r.line),
    [2],
  );
  assert.equal(report.rows, 2);
  assert.equal(report.blankLines, 0, "the blank line ending the bad sentence is a separator, not a blank row");
  const bad = tmpFile(
    "d.conll",
    Buffer.concat([Buffer.from("a DT O\n\n"), Buffer.from([0x80]), Buffer.from(" NN O\n")]),
  );
  await assert.rejects(readConll(bad), /d\.conll, line 3: invalid UTF-8/);
  await assert.rejects(readConll(tmpFile("e.conll", "")), /no sentences/);
  await assert.rejects(readConll(tmpFile("f.conll", "lonely\n")), /f\.conll, line 1: expected at least 2 columns/);
});

test("parallel files: aligned pairs; a misaligned file is an error naming the file and line", async () => {
  const en = tmpFile("a.en", "A dog runs.\nTwo men.\n\nA cat.\n");
  const de = tmpFile("a.de", "Ein Hund rennt.\nZwei Männer.\n\nEine Katze.\n");
  const { pairs, report } = await readParallel(en, de);
  assert.deepEqual(pairs, [
    { source: "A dog runs.", target: "Ein Hund rennt.", line: 1 },
    { source: "Two men.", target: "Zwei Männer.", line: 2 },
    { source: "A cat.", target: "Eine Katze.", line: 4 },
  ]);
  assert.equal(report.blankLines, 1);
  const short = tmpFile("b.de", "Ein Hund rennt.\nZwei Männer.\n");
  await assert.rejects(readParallel(en, short), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, en);
    assert.equal(e.line, 3);
    assert.match(e.message, /misaligned parallel files: .*b\.de ends after 2 lines/);
    return true;
  });
});

test("parallel files: a line empty on one side only is a bad row; a TSV with two columns works too", async () => {
  const en = tmpFile("c.en", "one\ntwo\nthree\n");
  const de = tmpFile("c.de", "eins\n\ndrei\n");
  await assert.rejects(readParallel(en, de), /c\.de, line 2: empty target line/);
  const { pairs, report } = await readParallel(en, de, { onBadRow: "skip" });
  assert.deepEqual(
    pairs.map((p) => p.line),
    [1, 3],
  );
  assert.equal(report.skipped.length, 1);
  const tsv = tmpFile("d.tsv", "en\tde\nhello\thallo\n\tleer\n");
  await assert.rejects(
    readParallel(tsv, { sourceColumn: "en", targetColumn: "de" }),
    /d\.tsv, line 3, field "en": empty text/,
  );
  const ok = await readParallel(tsv, { sourceColumn: "en", targetColumn: "de" }, { onBadRow: "skip" });
  assert.deepEqual(ok.pairs, [{ source: "hello", target: "hallo", line: 2 }]);
});
