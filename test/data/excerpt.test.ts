/** Error messages quote a field or a line of the user's file in at most ~200 characters, with its full length. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXCERPT_CHARS, excerpt, quoted } from "../../src/util/excerpt.js";
import { parseValues, readConll, readExamples } from "../../src/data/index.js";

const work = mkdtempSync(join(tmpdir(), "graft-excerpt-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const BIG = 1_000_000;
/** The error's message, which must stay short however long the input. */
async function messageOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail("expected an error");
}
const short = (m: string) => assert.ok(m.length < 3 * EXCERPT_CHARS, `${m.length} characters: ${m.slice(0, 300)}`);

test("excerpt and quoted cut long input with an ellipsis and the full length", () => {
  assert.equal(excerpt("abc"), "abc");
  assert.equal(quoted("abc"), '"abc"');
  const long = "x".repeat(1234);
  assert.equal(excerpt(long), `${"x".repeat(200)}… (1,234 characters)`);
  assert.equal(quoted(long, 5), '"xxxxx…" (1,234 characters)');
  // a surrogate pair is never split
  assert.equal(excerpt(`${"a".repeat(4)}😀xyz`, 5), "aaaa… (9 characters)");
});

test("a huge header line, field, label or CoNLL line is quoted in at most ~200 characters", async () => {
  // one header "column" of a million characters (no delimiter in it): the columns are listed in the error
  writeFileSync(join(work, "header.csv"), `${"h".repeat(BIG)}\nsome text\n`);
  let m = await messageOf(readExamples(join(work, "header.csv")));
  assert.match(m, /no text column found; the columns are "h+…" \(1,000,000 characters\)/);
  short(m);
  m = await messageOf(readExamples(join(work, "header.csv"), { textColumn: "text" }));
  short(m);
  // many columns: the list is cut too
  writeFileSync(join(work, "wide.csv"), `${Array.from({ length: 50_000 }, (_, i) => `c${i}`).join(",")}\n`);
  short(await messageOf(readExamples(join(work, "wide.csv"))));
  // a huge label that does not parse
  writeFileSync(
    join(work, "label.jsonl"),
    `${JSON.stringify({ text: "hi", label: "9".repeat(10) + "x".repeat(BIG) })}\n`,
  );
  m = await messageOf(readExamples(join(work, "label.jsonl"), { labelType: "int" }));
  assert.match(m, /expected an integer, got "9{10}x+…" \(1,000,010 characters\)/);
  short(m);
  // a huge column name as the bad row's field
  writeFileSync(join(work, "field.jsonl"), `${JSON.stringify({ ["t".repeat(BIG)]: "" })}\n`);
  short(await messageOf(readExamples(join(work, "field.jsonl"), { textColumn: "t".repeat(BIG) })));
  // a CoNLL line of one huge token
  writeFileSync(join(work, "one.conll"), `${"w".repeat(BIG)}\n`);
  short(await messageOf(readConll(join(work, "one.conll"))));
  // a JSONL line that is not JSON
  writeFileSync(join(work, "broken.jsonl"), `{"text": "${"z".repeat(BIG)}\n`);
  short(await messageOf(readExamples(join(work, "broken.jsonl"))));
  // a prediction file's value that is not a number
  short(
    await messageOf(() =>
      parseValues({ file: "p.txt", format: "text", items: [{ value: "n".repeat(BIG), line: 1 }] }, "number"),
    ),
  );
});
