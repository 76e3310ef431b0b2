/** Option schemas: the inferred type, defaults, nested validation, did-you-mean hints, ranges and merging. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Input,
  type Resolved,
  adjustOptions,
  closestName,
  mergeOptions,
  opt,
  optionDefaults,
  optionPaths,
  resolveOptions,
  suggestKey,
  validateOptions,
} from "../../src/util/options.js";
import { ArgumentError } from "../../src/util/errors.js";

const S = {
  name: opt.string({ required: true, nonEmpty: true }),
  maxLength: opt.integer({ default: 128, min: 8, aliases: ["maxSeqLength"] }),
  ratio: opt.number({ default: 0.1, min: 0, lt: 1 }),
  note: opt.string({}),
  dropout: opt.number({ default: null, nullable: true, min: 0, lt: 1 }),
  mode: opt.enum(["fast", "slow"], { default: "fast" }),
  tags: opt.list("string", { default: ["a"], separator: "," }),
  every: opt.value<number | "epoch">({
    default: "epoch",
    describe: 'a positive integer or "epoch"',
    check: (v) => v === "epoch" || (Number.isInteger(v) && (v as number) > 0),
  }),
  training: opt.group({
    lr: opt.number({ default: 5e-5, gt: 0, aliases: ["learningRate"] }),
    maxSteps: opt.integer({ default: 0, min: 0 }),
  }),
  lora: opt.group({ r: opt.integer({ default: 8, min: 1 }) }, { nullable: true }),
};

// compile-time checks: the resolved type follows from the schema literal
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expect = <T extends true>(_: T) => {};
type R = Resolved<typeof S>;
expect<Equal<R["name"], string>>(true);
expect<Equal<R["maxLength"], number>>(true);
expect<Equal<R["dropout"], number | null>>(true);
expect<Equal<R["mode"], "fast" | "slow">>(true);
expect<Equal<R["tags"], string[]>>(true);
expect<Equal<R["every"], number | "epoch">>(true);
expect<Equal<R["training"], { lr: number; maxSteps: number }>>(true);
expect<Equal<R["lora"], { r: number } | null>>(true);
expect<Equal<R["note"], string | undefined>>(true);
expect<Equal<Input<typeof S>["training"], { lr?: number; maxSteps?: number } | undefined>>(true);

test("defaults: every default, groups filled with theirs, nullable groups null, no-default keys absent", () => {
  assert.deepEqual(optionDefaults(S), {
    maxLength: 128,
    ratio: 0.1,
    dropout: null,
    mode: "fast",
    tags: ["a"],
    every: "epoch",
    training: { lr: 5e-5, maxSteps: 0 },
    lora: null,
  });
  const r = resolveOptions(S, { name: "x", training: { maxSteps: 5 }, lora: {} });
  assert.deepEqual(r.training, { lr: 5e-5, maxSteps: 5 });
  assert.deepEqual(r.lora, { r: 8 });
  assert.equal("note" in r, false);
  // a default list is a copy: changing one result never changes the schema
  r.tags.push("b");
  assert.deepEqual(resolveOptions(S, { name: "y" }).tags, ["a"]);
});

test("an unknown key anywhere is an error naming its path, with the closest known key", () => {
  const msg = (raw: unknown) => {
    try {
      validateOptions(S, raw, { source: "config.yaml" });
    } catch (e) {
      assert.ok(e instanceof ArgumentError);
      return `${e.message} | ${e.hint}`;
    }
    return "accepted";
  };
  assert.match(msg({ maxLenght: 64 }), /^unknown setting "maxLenght" in config\.yaml \(did you mean "maxLength"\?\)/);
  assert.match(msg({ training: { learningRate: 1 } }), /unknown setting "training\.learningRate" .*"training\.lr"/);
  assert.match(
    msg({ maxSteps: 10 }),
    /unknown setting "maxSteps" in config\.yaml \(did you mean "training\.maxSteps"\?\)/,
  );
  assert.match(msg({ max_seq_length: 10 }), /did you mean "maxLength"/); // an alias, spelt in snake case
  assert.match(msg({ lora: { rank: 4 } }), /unknown setting "lora\.rank"/);
  assert.match(msg({ zzzzzz: 1 }), /^unknown setting "zzzzzz" in config\.yaml \| known settings: name, maxLength/);
  assert.match(msg({ training: { qqqq: 1 } }), /\| known settings of training: lr, maxSteps$/);
  // settings nested in another file's key are named by their full path
  assert.throws(
    () => validateOptions(S, { maxLenght: 1 }, { source: "study.json", at: "objective.config" }),
    /unknown setting "objective\.config\.maxLenght" in study\.json \(did you mean "objective\.config\.maxLength"\?\)/,
  );
});

test("wrong types and ranges name the key and what it must be", () => {
  const bad: [unknown, RegExp][] = [
    [{ maxLength: 4 }, /maxLength in c\.json must be an integer >= 8, got 4/],
    [{ maxLength: 12.5 }, /maxLength in c\.json must be an integer >= 8/],
    [{ ratio: 1 }, /ratio in c\.json must be a number in \[0, 1\), got 1/],
    [{ mode: "medium" }, /mode in c\.json must be one of fast, slow, got "medium"/],
    [{ tags: "a,b" }, /tags in c\.json must be a list of strings/],
    [{ every: 0 }, /every in c\.json must be a positive integer or "epoch", got 0/],
    [{ training: { lr: -1 } }, /training\.lr in c\.json must be a positive number, got -1/],
    [{ training: 3 }, /training in c\.json must be an object of settings, got 3/],
    [{ name: "" }, /name in c\.json must be a non-empty string/],
  ];
  for (const [raw, re] of bad) assert.throws(() => validateOptions(S, raw, { source: "c.json" }), re);
  assert.throws(() => resolveOptions(S, {}), /name is required/);
  assert.equal(resolveOptions(S, { name: "n", dropout: null }).dropout, null);
  assert.equal(resolveOptions(S, { name: "n", every: 20 }).every, 20);
  // long values are cut in messages
  assert.throws(
    () => validateOptions(S, { mode: "x".repeat(10_000) }),
    (e: Error) => e.message.length < 300,
  );
});

test("merging layers: a later layer wins key by key, groups merge field by field, undefined never overrides", () => {
  const defaults = optionDefaults(S);
  const file: Input<typeof S> = { maxLength: 64, training: { lr: 1e-3, maxSteps: 7 }, lora: null };
  const flags: Input<typeof S> = { maxLength: 32, training: { lr: 2e-3 }, note: undefined, lora: { r: 4 } };
  const m = mergeOptions(S, defaults, file, flags);
  assert.equal(m.maxLength, 32);
  assert.deepEqual(m.training, { lr: 2e-3, maxSteps: 7 });
  assert.deepEqual(m.lora, { r: 4 });
  assert.equal("note" in m, false);
  assert.equal(mergeOptions(S, { lora: { r: 2 } }, { lora: null }).lora, null);
  // layers are not modified
  assert.deepEqual(file.training, { lr: 1e-3, maxSteps: 7 });
});

test("did-you-mean: typos, case and separators, aliases; nothing when nothing is close", () => {
  assert.equal(closestName("epohcs", ["epochs", "lr"]), "epochs");
  assert.equal(closestName("BATCH_SIZE", ["batchSize"]), "batchSize");
  assert.equal(closestName("xyz", ["epochs"]), null);
  assert.equal(suggestKey(S, "training.learning_rate"), "training.lr");
  assert.equal(suggestKey(S, "training.maxLength"), "maxLength");
  assert.deepEqual(
    optionPaths(S).map(([p]) => p),
    ["name", "maxLength", "ratio", "note", "dropout", "mode", "tags", "every", "training", "training.lr"].concat([
      "training.maxSteps",
      "lora",
      "lora.r",
    ]),
  );
});

test("adjustOptions changes defaults and flags without touching the original schema", () => {
  const T = adjustOptions(S.training.fields, { lr: { default: 1e-3 } }, ["maxSteps"]);
  assert.equal(resolveOptions(T, {}).lr, 1e-3);
  assert.equal(T.lr.flag, false);
  assert.equal(T.maxSteps.flag, undefined);
  assert.equal(resolveOptions(S.training.fields, {}).lr, 5e-5);
});

test("flag values are parsed with errors naming the flag", () => {
  assert.equal(S.maxLength.parse("64", "--max-length"), 64);
  assert.throws(() => S.maxLength.parse("6.5", "--max-length"), /--max-length must be an integer, got "6\.5"/);
  assert.throws(() => S.ratio.parse("", "--ratio"), /--ratio must be a number, got ""/);
  assert.deepEqual(S.tags.parse("a, b,,c", "--tags"), ["a", "b", "c"]);
  assert.throws(() => S.mode.parse("x", "--mode"), /--mode must be one of fast, slow, got "x"/);
  assert.equal(S.every.parse("12", "--every"), 12);
  assert.equal(S.every.parse("epoch", "--every"), "epoch");
  assert.throws(() => S.every.parse("soon", "--every"), /--every must be a positive integer or "epoch", got "soon"/);
});

test("a swap of two neighbouring letters is one edit", () => {
  assert.equal(closestName("modle", ["model", "mode"]), "model");
  assert.equal(closestName("trails", ["trials", "tails"]), "trials");
});
