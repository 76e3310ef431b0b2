import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError } from "../../src/util/errors.js";
import { readExamples, detectFormat } from "../../src/data/readers/examples.js";
import { readLines, firstInvalidUtf8 } from "../../src/data/readers/lines.js";
import { collect, tmpFile } from "./helpers.js";

test("JSONL: every kind of bad line is reported with its line and the good ones kept", async () => {
  const f = tmpFile(
    "a.jsonl",
    [
      '{"text": "good one", "label": 1}',
      "",
      '{"text": "broken", "label": ',
      '["not", "an", "object"]',
      '{"label": 0}',
      '{"text": 42, "label": 0}',
      '{"text": "  ", "label": 0}',
      '{"text": "no label"}',
      '{"text": "bool label", "label": true}\r',
    ].join("\n"),
  );
  await assert.rejects(
    readExamples(f),
    (e: unknown) => e instanceof DataError && e.line === 3 && /invalid JSON/.test(e.message),
  );
  const { examples, report } = await readExamples(f, { onBadRow: "skip" });
  assert.deepEqual(examples, [
    { text: "good one", label: "1", line: 1 },
    { text: "bool label", label: "true", line: 9 },
  ]);
  assert.deepEqual(
    report.skipped.map((r) => [r.line, r.reason.replace(/: .*JSON.*/, ": invalid JSON")]),
    [
      [3, "invalid JSON: invalid JSON"],
      [4, "expected a JSON object per line, got an array"],
      [5, 'field "text": missing field'],
      [6, 'field "text": text is a number, expected a string'],
      [7, 'field "text": empty text'],
      [8, 'field "label": missing field'],
    ],
  );
  assert.equal(report.blankLines, 1);
  assert.equal(report.rows, 8);
});

test("JSONL: invalid UTF-8, a 10 MB line and an empty file", async () => {
  const bad = tmpFile(
    "b.jsonl",
    Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]),
  );
  await assert.rejects(readExamples(bad), /b\.jsonl, line 2: invalid UTF-8 at byte 10/);
  const big = tmpFile("c.jsonl", JSON.stringify({ text: "x".repeat(10 * 1024 * 1024), label: "a" }) + "\n");
  assert.equal((await readExamples(big)).examples[0]!.text.length, 10 * 1024 * 1024);
  await assert.rejects(readExamples(tmpFile("d.jsonl", "")), /d\.jsonl: the file is empty/);
});

test("plain text: one example per non-blank line, blank lines counted, CRLF and BOM removed", async () => {
  const f = tmpFile("e.txt", "\uFEFFfirst line\r\n\r\nsecond line\r\n   \r\nthird");
  const { examples, report } = await readExamples(f);
  assert.equal(report.format, "text");
  assert.deepEqual(examples, [
    { text: "first line", line: 1 },
    { text: "second line", line: 3 },
    { text: "third", line: 5 },
  ]);
  assert.equal(report.blankLines, 2);
  const bad = tmpFile(
    "f.txt",
    Buffer.concat([Buffer.from("fine\n"), Buffer.from([0x61, 0xc3, 0x28]), Buffer.from("\nalso fine\n")]),
  );
  await assert.rejects(readExamples(bad), /f\.txt, line 2: invalid UTF-8 at byte 2/);
  const kept = await readExamples(bad, { onBadRow: "skip" });
  assert.deepEqual(
    kept.examples.map((x) => x.line),
    [1, 3],
  );
  const big = tmpFile("g.txt", "y".repeat(10 * 1024 * 1024));
  assert.equal((await readExamples(big)).examples[0]!.text.length, 10 * 1024 * 1024);
  await assert.rejects(readExamples(tmpFile("h.txt", "")), /the file is empty/);
});

test("lines split across read chunks, and the over-long-line limit names the line", async () => {
  const f = tmpFile("i.txt", "abc\ndefghij\r\nk\n\nlast");
  const lines = await collect(readLines(f, { chunkBytes: 3 }));
  assert.deepEqual(
    lines.map((l) => l.text),
    ["abc", "defghij", "k", "", "last"],
  );
  await assert.rejects(
    collect(readLines(f, { maxLineBytes: 5, chunkBytes: 2 })),
    /i\.txt, line 2: line is longer than 5 bytes/,
  );
  await assert.rejects(collect(readLines("/nonexistent/x.txt")), /x\.txt: file not found/);
});

test("firstInvalidUtf8 rejects overlong forms, surrogates and truncated sequences", () => {
  assert.equal(firstInvalidUtf8(Buffer.from("héllo €𝄞")), -1);
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0xc0, 0x80])), 1); // overlong NUL
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xed, 0xa0, 0x80])), 0); // UTF-16 surrogate
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0x42, 0xe2, 0x82])), 2); // cut off
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xf4, 0x90, 0x80, 0x80])), 0); // > U+10FFFF
});

test("format detection: extension first, then a look at the content", () => {
  assert.equal(detectFormat(tmpFile("x.csv", "")), "csv");
  assert.equal(detectFormat(tmpFile("x.ndjson", "")), "jsonl");
  assert.equal(detectFormat(tmpFile("SMSSpamCollection", "ham\thi\nspam\twin\n")), "tsv");
  assert.equal(detectFormat(tmpFile("notes", "a line, with a comma\nanother\n")), "text");
  assert.equal(detectFormat(tmpFile("rows.txt", '{"text": "a"}\n')), "jsonl");
});
