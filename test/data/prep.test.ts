import { test } from "node:test";
import assert from "node:assert/strict";
import { TextPreparer, MASKS } from "../../src/data/prep/prepare.js";
import { stopWords, resolveStopWords, readStopWordFile } from "../../src/data/prep/stopwords.js";
import { Lexicon } from "../../src/data/prep/lexicon.js";
import {
  compareCodePoints,
  isCombining,
  stripAccentsUnicode,
  pySplit,
  collapseSpaceRuns,
} from "../../src/data/prep/unicode.js";
import { tmpFile } from "./helpers.js";

test("Unicode normalization: NFC composes, NFKC also folds compatibility forms", () => {
  assert.equal(new TextPreparer({ normalize: "NFC" }).prepare("Cafe\u0301 ﬁne"), "Café ﬁne");
  assert.equal(new TextPreparer({ normalize: "NFKC" }).prepare("Cafe\u0301 ﬁne ²"), "Café fine 2");
});

test("lowercasing and accent stripping (unicode keeps non-Latin letters, ascii drops them)", () => {
  assert.equal(
    new TextPreparer({ lowercase: true, stripAccents: "unicode" }).prepare("Crème BRÛLÉE Ελληνικά"),
    "creme brulee ελληνικα",
  );
  assert.equal(new TextPreparer({ stripAccents: "ascii" }).prepare("Crème Ελληνικά ok"), "Creme  ok");
  assert.equal(stripAccentsUnicode("naïve façade"), "naive facade");
  assert.equal(isCombining(0x301), true);
  assert.equal(isCombining(0x0e31), false); // Thai vowel sign: a mark with combining class 0, kept by scikit-learn
  assert.equal(isCombining(0x344), true);
});

test("URL, e-mail and number masking", () => {
  const p = new TextPreparer({ maskUrls: true, maskEmails: true, maskNumbers: true });
  assert.equal(
    p.prepare(
      "See https://example.org/a?b=1, or www.test.de. Mail bob.smith@mail.example.com by 5:30 for 1,000.50 EUR; mp3 and 4G stay.",
    ),
    `See ${MASKS.url}, or ${MASKS.url}. Mail ${MASKS.email} by ${MASKS.number} for ${MASKS.number} EUR; mp3 and 4G stay.`,
  );
});

test("stop words: English, German, French and Spanish lists from stopwords-iso, plus custom files", async () => {
  for (const [lang, word] of [
    ["en", "the"],
    ["de", "und"],
    ["fr", "les"],
    ["es", "los"],
    ["german", "der"],
  ] as const)
    assert.ok(stopWords(lang).includes(word), `${lang} has "${word}"`);
  assert.throws(() => stopWords("xx"), /no built-in stop-word list for "xx"; available: .*en/);
  const file = tmpFile("stop.txt", "# my list\nfoo\nBar  # trailing comment\n\nbaz\n");
  assert.deepEqual(await readStopWordFile(file), ["foo", "Bar", "baz"]);
  await assert.rejects(
    readStopWordFile(tmpFile("bad.txt", "ok\ntwo words\n")),
    /bad\.txt, line 2: one stop word per line/,
  );
  const words = await resolveStopWords(["en"], [file]);
  assert.ok(words.includes("bar") && words.includes("the"));
  const p = new TextPreparer({ stopWords: ["the", "a", "don't", "bar"] });
  assert.equal(p.prepare("The cat sat on a mat, don't BAR it"), "cat sat on mat, it");
});

test("lexicons: categories and scores as features, phrases and emoticons matched longest-first", async () => {
  const cat = await Lexicon.load(
    tmpFile(
      "cats.tsv",
      "term\tcategory\ngood\tpositive\nnot good\tnegative\nbad\tnegative\ngreat\tpositive\ngreat\tintense\n",
    ),
  );
  assert.equal(cat.kind, "category");
  assert.deepEqual(cat.featureNames(), ["lexicon:intense", "lexicon:negative", "lexicon:positive"]);
  // 5 words: "not good" is one negative match, "Great" is positive and intense
  assert.deepEqual(Array.from(cat.features("Not good. Great food, though!")), [1 / 5, 1 / 5, 1 / 5]);
  const score = await Lexicon.load(tmpFile("scores.csv", "# valence\nlove,3.2\nhate,-2.7\n:),2\nsort of,-0.3\n"));
  assert.equal(score.kind, "score");
  const f = score.features("I love it :) but hate the sort of ending");
  assert.ok(Math.abs(f[0]! - (3.2 - 2.7 + 2 - 0.3) / 9) < 1e-12);
  assert.deepEqual([f[1], f[2]], [2 / 9, 2 / 9]);
  assert.deepEqual(
    Lexicon.fromJSON(JSON.parse(JSON.stringify(score.toJSON()))).features("love"),
    score.features("love"),
  );
});

test("lexicons: term normalization, and file errors name the line", async () => {
  const norm = await Lexicon.load(tmpFile("norm.tsv", "colour\tcolor\nu\tyou\nNew York City\tNYC\n"), {
    kind: "normalize",
  });
  assert.equal(norm.normalize("The Colour of new york   city, u know"), "The color of NYC, you know");
  assert.equal(new TextPreparer({ normalizeTerms: norm.toJSON(), stopWords: ["you"] }).prepare("u know"), "know");
  await assert.rejects(Lexicon.load(tmpFile("a.tsv", "good\tpositive\nbad\n")), /a\.tsv, line 2: expected 2 columns/);
  await assert.rejects(
    Lexicon.load(tmpFile("b.tsv", "good\t1\nbad\tlow\n"), { kind: "score" }),
    /b\.tsv, line 2: score for "bad" is not a number/,
  );
  await assert.rejects(
    Lexicon.load(tmpFile("c.tsv", "u\tyou\nU\tyour\n"), { kind: "normalize" }),
    /c\.tsv, line 2: "U" is listed twice with different values \("you" on line 1/,
  );
  await assert.rejects(Lexicon.load(tmpFile("d.tsv", "# nothing\n")), /d\.tsv: the lexicon has no entries/);
  assert.deepEqual(norm.featureNames(), []);
  assert.throws(
    () => Lexicon.fromEntries("category", [["good", "positive"]]).normalize("good"),
    /a category lexicon cannot normalize terms/,
  );
  assert.throws(() => Lexicon.fromEntries("score", [["good", "high"]]), /the score of "good" is not a number/);
});

test("Python-compatible string helpers", () => {
  assert.equal(collapseSpaceRuns("a\tb  c\u00a0\u00a0d\x1c\x1de"), "a\tb c d e");
  assert.deepEqual(pySplit(" a\x85b\ufeffc\u3000d "), ["a", "b\ufeffc", "d"]);
  const words = ["b", "\uffff", "😀", "a", "\ue000"];
  assert.deepEqual(words.sort(compareCodePoints), ["a", "b", "\ue000", "\uffff", "😀"]);
});
