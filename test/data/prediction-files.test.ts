/** Prediction and reference files (data/readers/predictions.ts): formats, value kinds, and errors naming the place. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseValues, readValueFile, valueFormatOf } from "../../src/data/index.js";
import { DataError } from "../../src/util/errors.js";

const dir = mkdtempSync(join(tmpdir(), "graft-values-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

/** The DataError fn throws, with its message. */
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    return e;
  }
  assert.fail("no error");
}

test("text files: one value per line, trailing whitespace dropped, blank lines kept, no item after the last newline", () => {
  const vf = readValueFile(file("h.txt", "The cat .  \r\n\n\ufeffBOM stays\u0085\nlast\t"));
  assert.equal(vf.format, "text");
  assert.deepEqual(
    vf.items.map((i) => [i.value, i.line]),
    [
      ["The cat .", 1],
      ["", 2],
      ["\ufeffBOM stays", 3],
      ["last", 4],
    ],
  );
  assert.equal(readValueFile(file("two.txt", "a\nb\n")).items.length, 2);
  assert.equal(valueFormatOf("x.NDJSON"), "jsonl");
  assert.equal(valueFormatOf("x.jsonl", "text"), "text");
});

test("JSONL: a dotted field or the whole record; blank lines skipped; errors name file, line and field", () => {
  const p = file("r.jsonl", '{"a": {"b": "x"}, "n": 1}\n\n{"a": {"b": "y"}, "n": 2}\n');
  assert.deepEqual(
    readValueFile(p, { field: "a.b" }).items.map((i) => [i.value, i.line]),
    [
      ["x", 1],
      ["y", 3],
    ],
  );
  assert.deepEqual(readValueFile(p).items[1]!.value, { a: { b: "y" }, n: 2 });
  let e = dataError(() => readValueFile(p, { field: "a.c" }));
  assert.match(e.message, /r\.jsonl, line 1, field "a\.c": no field "a\.c" in this record/);
  e = dataError(() => readValueFile(file("bad.jsonl", '{"a": 1}\n{oops\n'), { field: "a" }));
  assert.match(e.message, /bad\.jsonl, line 2: not valid JSON/);
  e = dataError(() => parseValues(readValueFile(p, { field: "n" }), "text"));
  assert.match(e.message, /r\.jsonl, line 1, field "n": expected a string, got 1/);
  e = dataError(() => readValueFile(join(dir, "missing.txt")));
  assert.match(e.message, /missing\.txt: file not found/);
});

test("value kinds: labels, scores, numbers, tags, items, relevance", () => {
  const lines = (name: string, ...ls: string[]) => readValueFile(file(name, `${ls.join("\n")}\n`));
  assert.deepEqual(parseValues(lines("l.txt", "spam", " 1 ", "[0, 1]"), "label"), ["spam", "1", [0, 1]]);
  assert.deepEqual(parseValues(lines("s.txt", "0.5", "0.1 0.9", "[0.2, 0.8]"), "scores"), [
    0.5,
    [0.1, 0.9],
    [0.2, 0.8],
  ]);
  assert.deepEqual(parseValues(lines("n.txt", "1.5", "-2e3"), "number"), [1.5, -2000]);
  assert.deepEqual(parseValues(lines("t.txt", "B-PER  O", ""), "tags"), [["B-PER", "O"], []]);
  assert.deepEqual(parseValues(lines("i.txt", "a b", "[1, 2]"), "items"), [
    ["a", "b"],
    [1, 2],
  ]);
  assert.deepEqual(parseValues(lines("g.txt", '{"a": 2}', "x"), "relevance"), [{ a: 2 }, ["x"]]);
  const j = readValueFile(file("k.jsonl", '{"p": true, "t": ["B-X", "O"], "s": [0.1, 0.9]}\n'), { field: "p" });
  assert.deepEqual(parseValues(j, "label"), [true]);
  assert.match(dataError(() => parseValues(lines("e.txt", "x", ""), "label")).message, /e\.txt, line 2: empty label/);
  assert.match(
    dataError(() => parseValues(lines("nan.txt", "0.5", "nan"), "scores")).message,
    /nan\.txt, line 2: expected finite scores, got "nan"/,
  );
  assert.match(
    dataError(() => parseValues(lines("nn.txt", "1", "one"), "number")).message,
    /nn\.txt, line 2: expected a finite number, got "one"/,
  );
  assert.match(
    dataError(() => parseValues(lines("ii.txt", "{x"), "items")).message,
    /ii\.txt, line 1: not valid JSON: \{x/,
  );
  assert.match(
    dataError(() => parseValues(lines("gg.txt", '{"a": 1}'), "items")).message,
    /expected a list of item ids, got/,
  );
});

test("loss records: fields by name, characters only when asked for, bare numbers as one token", () => {
  const vf = readValueFile(file("loss.jsonl", '{"l": 10, "n": 5, "c": 20}\n{"l": 2, "n": 5}\n'));
  assert.deepEqual(parseValues(vf, "losses", { loss: "l", tokens: "n" }), [
    { loss: 10, tokens: 5 },
    { loss: 2, tokens: 5 },
  ]);
  const e = dataError(() => parseValues(vf, "losses", { loss: "l", tokens: "n", characters: "c" }));
  assert.match(e.message, /loss\.jsonl, line 2, field "c": no field "c" in this record/);
  assert.equal(e.hint, "set --loss-field / --tokens-field / --chars-field");
  const bad = readValueFile(file("lossbad.jsonl", '{"l": "x", "n": 5}\n'));
  assert.match(
    dataError(() => parseValues(bad, "losses", { loss: "l", tokens: "n" })).message,
    /line 1, field "l": expected a finite number, got "x"/,
  );
  assert.deepEqual(parseValues(readValueFile(file("loss.txt", "1.5\n")), "losses"), [{ loss: 1.5, tokens: 1 }]);
});

test("bytes that are not UTF-8 are an error naming the line; a written U+FFFD is text", () => {
  const p = file("latin1.txt", Buffer.concat([Buffer.from("ok\ncaf"), Buffer.from([0xe9]), Buffer.from("\n")]));
  assert.match(dataError(() => readValueFile(p)).message, /latin1\.txt, line 2: invalid UTF-8 at byte 4 of the line/);
  assert.deepEqual(
    readValueFile(file("fffd.txt", "a\ufffdb\n")).items.map((i) => i.value),
    ["a\ufffdb"],
  );
});
