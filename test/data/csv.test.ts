import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError } from "../../src/util/errors.js";
import { readExamples } from "../../src/data/readers/examples.js";
import { sniffDelimiter } from "../../src/data/readers/delimited.js";
import { tmpFile } from "./helpers.js";

test("quoted fields with embedded newlines and doubled quotes keep their text and their starting line", async () => {
  const f = tmpFile("a.csv", 'text,label\n"two\nlines",pos\n"say ""hi""",neg\nplain,pos\n');
  const { examples, report } = await readExamples(f);
  assert.deepEqual(examples, [
    { text: "two\nlines", label: "pos", line: 2 },
    { text: 'say "hi"', label: "neg", line: 4 },
    { text: "plain", label: "pos", line: 5 },
  ]);
  assert.deepEqual(report.columns, ["text", "label"]);
  assert.equal(report.rows, 3);
  assert.equal(report.kept, 3);
});

test("BOM and CRLF line endings are removed, also inside quoted fields and in unquoted TSV", async () => {
  const csv = tmpFile("b.csv", '\uFEFFtext,label\r\n"a\r\nb",x\r\nc,y\r\n');
  const { examples, report } = await readExamples(csv);
  assert.deepEqual(report.columns, ["text", "label"]);
  assert.deepEqual(examples, [
    { text: "a\nb", label: "x", line: 2 },
    { text: "c", label: "y", line: 4 },
  ]);
  const tsv = tmpFile("b.tsv", "\uFEFFsentence\tlabel\r\nhello \t1\r\n");
  assert.deepEqual((await readExamples(tsv)).examples, [{ text: "hello", label: "1", line: 2 }]);
});

test("an unbalanced quote stops reading with the line where the broken row starts, whatever the policy", async () => {
  const f = tmpFile("c.csv", 'text,label\nok,1\n"never closed,1\nmore,0\nrows,1\n');
  for (const onBadRow of ["fail", "skip"] as const) {
    await assert.rejects(readExamples(f, { onBadRow }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.line, 3);
      assert.match(e.message, /c\.csv, line 3: unbalanced quote/);
      assert.match(e.hint ?? "", /--quote none/);
      return true;
    });
  }
  const stray = tmpFile("d.csv", 'text,label\nok,1\nbad "quote",1\n');
  await assert.rejects(readExamples(stray), /d\.csv, line 3: unexpected quote/);
});

test("ragged rows fail by default with file and line; with skip every one is reported and the rest kept", async () => {
  const f = tmpFile("e.csv", "text,label\na,1\nb,1,extra\nc\nd,0\n");
  await assert.rejects(
    readExamples(f),
    (e: unknown) =>
      e instanceof DataError && e.line === 3 && /ragged row: 3 fields where the header has 2/.test(e.message),
  );
  const { examples, report } = await readExamples(f, { onBadRow: "skip" });
  assert.deepEqual(
    examples.map((x) => x.text),
    ["a", "d"],
  );
  assert.deepEqual(
    report.skipped.map((r) => r.line),
    [3, 4],
  );
  assert.equal(report.rows, 4);
  assert.equal(report.kept + report.skipped.length, report.rows);
});

test("invalid UTF-8 names its line, in quoted CSV, in unquoted TSV and inside a multi-line field", async () => {
  const bad = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + Latin-1 é
  const csv = tmpFile(
    "f.csv",
    Buffer.concat([Buffer.from('text,label\ngood,1\n"x\n'), bad, Buffer.from('",0\nfine,1\n')]),
  );
  await assert.rejects(
    readExamples(csv),
    (e: unknown) => e instanceof DataError && e.line === 4 && /invalid UTF-8 at byte 4/.test(e.message),
  );
  const skipped = await readExamples(csv, { onBadRow: "skip" });
  assert.deepEqual(
    skipped.examples.map((x) => x.text),
    ["good", "fine"],
  );
  assert.deepEqual(
    skipped.report.skipped.map((r) => r.line),
    [4],
  );

  const tsv = tmpFile("f.tsv", Buffer.concat([Buffer.from("text\tlabel\n"), bad, Buffer.from("\t1\nok\t0\n")]));
  await assert.rejects(readExamples(tsv), /f\.tsv, line 2: invalid UTF-8/);
  assert.deepEqual(
    (await readExamples(tsv, { onBadRow: "skip" })).examples.map((x) => x.line),
    [3],
  );
});

test("a 10 MB single-line field is read whole", async () => {
  const big = "w".repeat(10 * 1024 * 1024);
  const f = tmpFile("g.csv", `text,label\n"${big}",1\nsmall,0`);
  const { examples } = await readExamples(f);
  assert.equal(examples.length, 2);
  assert.equal(examples[0]!.text.length, big.length);
  assert.deepEqual(examples[1], { text: "small", label: "0", line: 3 });
});

test("an empty file and a header-only file are errors naming the file", async () => {
  await assert.rejects(readExamples(tmpFile("empty.csv", "")), /empty\.csv: the file is empty/);
  await assert.rejects(readExamples(tmpFile("head.csv", "text,label\n")), /head\.csv: no data rows \(only a header\)/);
  await assert.rejects(readExamples(tmpFile("blank.tsv", "\n\n")), /the file is empty/);
});

test("missing text, empty text and unparsable labels are rejected with the field named", async () => {
  const f = tmpFile("h.csv", "text,label\n,1\n   ,1\nok,x\nfine,2\n");
  await assert.rejects(readExamples(f), /h\.csv, line 2, field "text": empty text/);
  await assert.rejects(readExamples(f, { labelType: "int", onBadRow: "fail", textColumn: "text" }), /line 2/);
  const { examples, report } = await readExamples(f, { labelType: "int", onBadRow: "skip" });
  assert.deepEqual(examples, [{ text: "fine", label: "2", line: 5 }]);
  assert.deepEqual(
    report.skipped.map((r) => [r.line, r.reason]),
    [
      [2, 'field "text": empty text'],
      [3, 'field "text": empty text'],
      [4, 'field "label": unparsable label: expected an integer, got "x"'],
    ],
  );
  const allowed = await readExamples(tmpFile("i.csv", "text,label\na,pos\nb,neutral\n"), {
    labels: ["pos", "neg"],
    onBadRow: "skip",
  });
  assert.deepEqual(
    allowed.report.skipped.map((r) => r.line),
    [3],
  );
  const missing = tmpFile("j.csv", "text,label\na,\n");
  await assert.rejects(readExamples(missing), /line 2, field "label": missing label/);
});

test("columns map by name or by 0-based index; unknown columns list the ones there are", async () => {
  const noHeader = tmpFile("spam", 'ham\tsee you at 5\nspam\tWIN "money" now\n');
  const { examples, report } = await readExamples(noHeader, { header: false, labelColumn: "0", textColumn: "1" });
  assert.equal(report.format, "tsv");
  assert.deepEqual(examples, [
    { text: "see you at 5", label: "ham", line: 1 },
    { text: 'WIN "money" now', label: "spam", line: 2 },
  ]);
  const pairs = tmpFile("k.csv", "sentence1,sentence2,label\na,b,entail\n");
  assert.deepEqual((await readExamples(pairs)).examples, [{ text: "a", textPair: "b", label: "entail", line: 2 }]);
  await assert.rejects(
    readExamples(pairs, { textColumn: "body" }),
    /no text column "body"; the columns are "sentence1", "sentence2", "label"/,
  );
  await assert.rejects(readExamples(tmpFile("l.csv", "a,b\n1,2\n")), /no text column found/);
});

test("delimiters: a flag, the extension, or a look at the first rows", async () => {
  assert.equal(sniffDelimiter("a;b;c\n1;2;3\n4;5;6\n"), ";");
  assert.equal(sniffDelimiter('text,label\n"a; b; c",1\n"d; e",0\n'), ",");
  assert.equal(sniffDelimiter("just words\nmore words\n"), undefined);
  const semi = tmpFile("m.csv", 'text;label\n"a, b";1\n');
  assert.deepEqual((await readExamples(semi)).examples, [{ text: "a, b", label: "1", line: 2 }]);
  const pipe = tmpFile("n.txt", "text|label\nx|1\n");
  assert.deepEqual((await readExamples(pipe, { format: "csv", delimiter: "|" })).examples, [
    { text: "x", label: "1", line: 2 },
  ]);
});

test("TSV is unquoted by default, so a leading quote is text; --quote turns quoting on", async () => {
  const f = tmpFile("o.tsv", 'text\tlabel\n"Big Blue" may earn it\tSci\n');
  assert.equal((await readExamples(f)).examples[0]!.text, '"Big Blue" may earn it');
  const q = tmpFile("p.tsv", 'text\tlabel\n"a\tb"\tx\n');
  assert.equal((await readExamples(q, { quote: '"' })).examples[0]!.text, "a\tb");
});

test("--group-column reads a group per row; a missing group is a bad row", async () => {
  const f = tmpFile("q.csv", "text,label,user\na,x,u1\nb,y,\nc,x,u2\n");
  await assert.rejects(readExamples(f, { groupColumn: "user" }), /q\.csv, line 3, field "user": missing group/);
  const { examples } = await readExamples(f, { groupColumn: "user", onBadRow: "skip" });
  assert.deepEqual(
    examples.map((e) => e.group),
    ["u1", "u2"],
  );
  await assert.rejects(readExamples(f, { groupColumn: "customer" }), /no group column "customer"/);
});
