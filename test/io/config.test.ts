/** io/config.ts alone: the schema language an architecture declares its config with, and reading config.json generically. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildConfig,
  defineConfig,
  field,
  headsDivide,
  nullable,
  oneOf,
  posInt,
  positive,
  prob,
  readConfigJson,
  writeConfigJson,
  type Fail,
} from "../../src/io/config.js";
import { FormatError } from "../../src/util/errors.js";
import { tmpDir } from "./helpers.js";

const schema = defineConfig(
  "demo",
  {
    width: field(posInt, 8),
    heads: field(posInt, 2),
    kind: field(oneOf("a", "b"), "a"),
    extra: field(nullable(posInt), null),
  },
  { baseDefaults: { pad_token_id: 3 }, aliases: { hidden_size: "width" }, rule: headsDivide("width", "heads") },
);
const fail: Fail = (msg) => {
  throw new FormatError(msg);
};

test("buildConfig fills defaults (the common fields, the architecture's), folds aliases, sets labels, checks fields and the rule", () => {
  const c = buildConfig({ hidden_size: 12, heads: 3, custom: "kept" }, schema, fail);
  assert.deepEqual(
    [c.model_type, c.width, c.heads, c.kind, c.extra, c.pad_token_id, c.eos_token_id, c.tie_word_embeddings, c.custom],
    ["demo", 12, 3, "a", null, 3, null, true, "kept"],
  );
  assert.equal("hidden_size" in c, false);
  assert.deepEqual(c.id2label, { 0: "LABEL_0", 1: "LABEL_1" });
  assert.throws(() => buildConfig({ kind: "c" }, schema, fail), /field "kind" must be one of "a", "b", got "c"/);
  assert.throws(() => buildConfig({ width: 7 }, schema, fail), /width \(7\) must be a multiple of heads \(2\)/);
  assert.throws(
    () => buildConfig({ width: 8, hidden_size: 4 }, schema, fail),
    /"hidden_size" \(4\) is an alias of "width"/,
  );
});

test("readConfigJson reads any JSON object and names the file otherwise; writeConfigJson sorts the keys", () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "config.json"), "[1, 2]");
  assert.throws(() => readConfigJson(dir), /config\.json: expected a JSON object/);
  writeConfigJson(dir, buildConfig({}, schema, fail));
  const { json, path } = readConfigJson(dir);
  assert.equal(path, join(dir, "config.json"));
  assert.deepEqual(Object.keys(json), Object.keys(json).sort());
  assert.equal(json.model_type, "demo");
});

test("writeConfigJson keeps a decimal point on whole values of fields marked float (Python's json reads 0 as an int)", () => {
  const floats = defineConfig("floaty", {
    layerdrop: field(prob, 0, { float: true }),
    factor: field(positive, 1, { float: true }),
    dropout: field(prob, 0),
  });
  const dir = tmpDir();
  const c = buildConfig({ factor: 2, label: "0" }, floats, fail);
  writeConfigJson(dir, c, floats);
  const text = readFileSync(join(dir, "config.json"), "utf8");
  assert.match(text, /"layerdrop": 0\.0,/);
  assert.match(text, /"factor": 2\.0,/);
  assert.match(text, /"dropout": 0,/, "a field not marked float is written as JavaScript writes it");
  assert.match(text, /"label": "0"/, "strings are untouched");
  assert.deepEqual(readConfigJson(dir).json, JSON.parse(JSON.stringify(c)), "the values read back are the same");
  writeConfigJson(dir, c);
  assert.match(readFileSync(join(dir, "config.json"), "utf8"), /"layerdrop": 0,/, "without the schema: plain JSON");
});
