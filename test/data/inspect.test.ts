import { test } from "node:test";
import assert from "node:assert/strict";
import { inspectFile, inspectConll, percentile } from "../../src/data/inspect.js";
import { summarizeBadRows } from "../../src/data/badrows.js";
import { tmpFile } from "./helpers.js";
import { fixture } from "./fixtures.js";

test("percentiles interpolate linearly like numpy.percentile", () => {
  const s = [1, 2, 3, 4];
  assert.equal(percentile(s, 25), 1.75);
  assert.equal(percentile(s, 50), 2.5);
  assert.equal(percentile(s, 95), 3.8499999999999996); // numpy 1.24 gives the same rounding
  assert.equal(percentile([7], 5), 7);
});

test("inspect: rows, skipped rows with reasons, label distribution, lengths, duplicates, overlap", async () => {
  const train = tmpFile(
    "train.tsv",
    [
      "text\tlabel",
      "good movie\tpos",
      "Good  movie\tpos",
      "bad movie\tneg",
      "awful\tneg",
      "\tpos",
      "great fun overall\tpos",
      "good movie\tneg",
      "too\tmany\tfields",
    ].join("\n"),
  );
  const test_ = tmpFile("test.tsv", "text\tlabel\ngood movie\tpos\nfresh text\tneg\nawful\tneg\n");
  const r = await inspectFile(train, {}, { file: test_ });
  assert.equal(r.format, "tsv");
  assert.deepEqual(r.roles, { text: "text", label: "label" });
  assert.equal(r.rows, 8);
  assert.equal(r.kept, 6);
  assert.equal(r.skipped.total, 2);
  assert.deepEqual(
    r.skipped.first.map((b) => b.line),
    [6, 9],
  );
  assert.deepEqual(r.labels, [
    { label: "neg", count: 3, share: 0.5 },
    { label: "pos", count: 3, share: 0.5 },
  ]);
  // "good movie" three times (one with another label): 2 extra rows, 1 distinct text, 1 conflict
  assert.deepEqual(r.duplicates, { rows: 2, distinctDuplicated: 1, conflictingLabels: 1 });
  assert.deepEqual(r.overlap, { file: test_, rows: 3, rowsAlsoInFile: 2, distinctShared: 2 });
  assert.equal(r.length!.words.max, 3);
  assert.equal(r.length!.chars.min, 5);
});

test("inspect on a real sample: the SMS spam fixture", async () => {
  const r = await inspectFile(fixture("sms_spam_train.tsv"));
  assert.equal(r.kept, 1000);
  assert.deepEqual(
    r.labels!.map((l) => [l.label, l.count]),
    [
      ["ham", 866],
      ["spam", 134],
    ],
  );
  assert.ok(r.length!.chars.p50 > 20 && r.length!.chars.p50 < 120);
});

test("inspect a CoNLL file: sentences, tag distribution, tokens per sentence, bad sentences", async () => {
  const f = tmpFile(
    "a.conll",
    "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\nBlackburn NNP\n\nEU NNP B-ORG\nrejects VBZ O\n",
  );
  const r = await inspectConll(f);
  assert.equal(r.unit, "sentence");
  assert.deepEqual([r.rows, r.kept, r.skipped.total], [3, 2, 1]);
  assert.deepEqual(
    r.skipped.first.map((b) => b.line),
    [7],
  );
  assert.deepEqual(
    r.labels!.map((l) => [l.label, l.count]),
    [
      ["B-ORG", 2],
      ["O", 2],
    ],
  );
  assert.equal(r.length!.words.max, 2);
  assert.equal(r.duplicates.rows, 1);
});

test("skipped rows are summarized by the shape of their reason", () => {
  const s = summarizeBadRows([
    { file: "f", line: 3, reason: 'field "label": unparsable label: expected an integer, got "x"' },
    { file: "f", line: 9, reason: 'field "label": unparsable label: expected an integer, got "yy"' },
    { file: "f", line: 12, reason: "ragged row: 3 fields where the header has 2" },
  ]);
  assert.deepEqual(s, {
    total: 3,
    byReason: {
      'field "label": unparsable label: expected an integer, got "…"': 2,
      "ragged row: N fields where the header has N": 1,
    },
  });
});
