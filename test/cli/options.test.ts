/**
 * Commands' option schemas: --help lists every option of the schema, --config merges under the typed flags, and a
 * misspelt or misplaced key in a finetune, pretrain or tune config is refused with a did-you-mean hint.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { buildProgram } from "../../src/cli/main.js";
import { addOptions, configAndFlags, flagBindings, flagOptions, helpLine } from "../../src/cli/options.js";
import { FINETUNE_SWITCHES, QUICKSTART, configFromFlags } from "../../src/cli/finetune.js";
import { PRETRAIN_SWITCHES } from "../../src/cli/pretrain.js";
import { TUNE_SWITCHES } from "../../src/cli/tune.js";
import { BASELINE_SCHEMA, BASELINE_SWITCHES } from "../../src/cli/baseline.js";
import { INSPECT_SWITCHES, SPLIT_SWITCHES } from "../../src/cli/data.js";
import { DOCTOR_SWITCHES } from "../../src/cli/doctor.js";
import { DOWNLOAD_SWITCHES } from "../../src/cli/download.js";
import { REPORT_SWITCHES } from "../../src/cli/report.js";
import { TOKENIZER_TRAIN_SWITCHES } from "../../src/cli/tokenizer.js";
import {
  WORD2VEC_ANALOGY_SWITCHES,
  WORD2VEC_NEIGHBORS_SWITCHES,
  WORD2VEC_TRAIN_SWITCHES,
} from "../../src/cli/word2vec.js";
import { WORKER_SWITCHES } from "../../src/cli/worker.js";
import { PREDICT_SWITCHES } from "../../src/cli/predict.js";
import { EVAL_SWITCHES } from "../../src/cli/eval.js";
import {
  RECOMMEND_EVAL_SWITCHES,
  RECOMMEND_PREDICT_SWITCHES,
  RECOMMEND_TRAIN_SWITCHES,
} from "../../src/cli/recommend.js";
import { SCORE_METRIC_SWITCHES, SCORE_SWITCHES } from "../../src/cli/score.js";
import { METRIC_OPTIONS } from "../../src/metrics/index.js";
import { FINETUNE_DEFAULTS, FINETUNE_SCHEMA } from "../../src/tasks/config.js";
import { resolveFinetuneConfig } from "../../src/tasks/resolve.js";
import { PRETRAIN_SCHEMA, resolvePretrainConfig } from "../../src/tasks/pretrain.js";
import { TUNE_SCHEMA } from "../../src/tune/config.js";
import { DEFAULT_ARGS, resolveArgs } from "../../src/train/args.js";
import type { Schema } from "../../src/util/options.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "graft-options-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

function graft(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

/** Every command and the schemas its flags come from. */
const COMMANDS: [string[], Schema[]][] = [
  [["finetune"], [FINETUNE_SCHEMA, FINETUNE_SWITCHES]],
  [["pretrain"], [PRETRAIN_SCHEMA, PRETRAIN_SWITCHES]],
  [["tune"], [TUNE_SCHEMA, TUNE_SWITCHES]],
  [["baseline"], [BASELINE_SCHEMA, BASELINE_SWITCHES]],
  [["data", "inspect"], [INSPECT_SWITCHES]],
  [["data", "split"], [SPLIT_SWITCHES]],
  [["doctor"], [DOCTOR_SWITCHES]],
  [["download"], [DOWNLOAD_SWITCHES]],
  [["report"], [REPORT_SWITCHES]],
  [["tokenizer", "train"], [TOKENIZER_TRAIN_SWITCHES]],
  [["word2vec", "train"], [WORD2VEC_TRAIN_SWITCHES]],
  [["word2vec", "neighbors"], [WORD2VEC_NEIGHBORS_SWITCHES]],
  [["word2vec", "analogy"], [WORD2VEC_ANALOGY_SWITCHES]],
  [["worker"], [WORKER_SWITCHES]],
  [["predict"], [PREDICT_SWITCHES]],
  [["eval"], [EVAL_SWITCHES]],
  [["score"], [SCORE_SWITCHES, SCORE_METRIC_SWITCHES]],
  [["recommend", "eval"], [RECOMMEND_EVAL_SWITCHES]],
  [["recommend", "train"], [RECOMMEND_TRAIN_SWITCHES]],
  [["recommend", "predict"], [RECOMMEND_PREDICT_SWITCHES]],
];

test("every command's --help lists every option of its schema, with the schema's description and default", () => {
  const program = buildProgram();
  for (const [path, schemas] of COMMANDS) {
    let cmd: Command | undefined = program;
    for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
    assert.ok(cmd, `no command ${path.join(" ")}`);
    const help = cmd.helpInformation({ error: false }).replace(/\s+/g, " ");
    const declared = new Set(cmd.options.map((o) => o.long ?? o.short));
    for (const schema of schemas)
      for (const b of flagBindings(schema)) {
        assert.ok(declared.has(b.flag), `graft ${path.join(" ")} has no ${b.flag}`);
        assert.ok(help.includes(b.spec), `graft ${path.join(" ")} --help lacks ${b.spec}`);
        const line = helpLine(b.option).replace(/\s+/g, " ");
        assert.ok(help.includes(line), `graft ${path.join(" ")} --help lacks "${line}"`);
      }
    // and no flag comes from anywhere else
    const fromSchemas = new Set(schemas.flatMap((s) => flagBindings(s).map((b) => b.flag)));
    for (const f of declared) assert.ok(fromSchemas.has(f!), `graft ${path.join(" ")}: ${f} is not in a schema`);
  }
  const help = program.commands
    .find((c) => c.name() === "finetune")!
    .helpInformation()
    .replace(/\s+/g, " ");
  assert.match(help, /--lr <x> peak learning rate \(default: 5e-5\)/);
  assert.match(help, /--max-length <n> tokens per example, special tokens included \(default: 128\)/);
});

test("--config under the typed flags: defaults < file < flags, group by group", () => {
  const cmd = new Command("finetune").exitOverride();
  addOptions(cmd, FINETUNE_SWITCHES, FINETUNE_SCHEMA);
  const cfg = file(
    "merge.yaml",
    "model: m\ndata: d.csv\nmaxLength: 64\ntraining:\n  lr: 0.001\n  epochs: 1\nfreeze:\n  firstLayers: 2\nlora:\n  r: 4\n",
  );
  cmd.parse(["--config", cfg, "--epochs", "5", "--max-length", "96", "--freeze-backbone", "--lora-alpha", "8"], {
    from: "user",
  });
  const merged = configAndFlags(FINETUNE_SCHEMA, cmd, cfg);
  assert.deepEqual(merged, {
    model: "m",
    data: "d.csv",
    maxLength: 96,
    training: { lr: 0.001, epochs: 5 },
    freeze: { firstLayers: 2, backbone: true },
    lora: { r: 4, alpha: 8 },
  });
  const r = resolveFinetuneConfig(merged as typeof merged & { model: string; data: string });
  assert.equal(r.training.epochs, 5);
  assert.equal(r.training.lr, 0.001);
  assert.equal(r.training.seed, 42);
  assert.deepEqual(r.lora, { r: 4, alpha: 8, dropout: 0.1, targetModules: ["query", "value"] });
  // flags the user did not type are not there at all
  const bare = new Command("finetune").exitOverride();
  addOptions(bare, FINETUNE_SWITCHES, FINETUNE_SCHEMA);
  bare.parse(["--lora"], { from: "user" });
  assert.deepEqual(flagOptions(FINETUNE_SCHEMA, bare), { lora: {} });
  assert.deepEqual(flagOptions(FINETUNE_SWITCHES, bare), {});
});

test("the quick start fills what the user left out, never what the user gave", () => {
  const cmd = new Command("finetune").exitOverride();
  addOptions(cmd, FINETUNE_SWITCHES, FINETUNE_SCHEMA);
  cmd.parse(["--model", "m", "--lr", "0.01"], { from: "user" });
  const c = configFromFlags(cmd);
  assert.match(c.data, /sms/i);
  assert.equal(c.maxLength, QUICKSTART.maxLength);
  assert.equal(c.training?.lr, 0.01);
  assert.equal(c.training?.batchSize, QUICKSTART.training.batchSize);
});

test("resolved configurations hold every default, the training arguments included", () => {
  const r = resolveFinetuneConfig({ model: "m", data: "d" });
  assert.deepEqual({ ...r.training, metricForBest: "loss" }, DEFAULT_ARGS);
  assert.equal(r.training.seed, 42);
  assert.equal(r.training.lr, 5e-5);
  assert.equal(r.training.weightDecay, 0.01);
  assert.equal(r.training.metricForBest, "f1_macro");
  assert.equal(resolveFinetuneConfig({ model: "m", data: "d", task: "ner" }).training.metricForBest, "f1");
  assert.equal(
    resolveFinetuneConfig({ model: "m", data: "d", task: "ner", training: { metricForBest: "loss" } }).training
      .metricForBest,
    "loss",
  );
  assert.deepEqual(r.freeze, { backbone: false, embeddings: false, firstLayers: 0, patterns: [] });
  assert.equal(r.lora, null);
  assert.equal(FINETUNE_DEFAULTS.maxLength, 128);
  const p = resolvePretrainConfig({ corpus: ["c.txt"] });
  // issue #25 item 2: a corpus written as one string is a list of one path, not a list of characters
  assert.deepEqual(resolvePretrainConfig({ corpus: "/data/books.txt" as never }).corpus, ["/data/books.txt"]);
  assert.equal(p.training.batchSize, 32);
  assert.equal(p.training.lr, 5e-4);
  assert.equal(p.training.evalEvery, 500);
  assert.equal(p.training.seed, 42);
  assert.throws(() => resolveArgs({ epochs: 0 }), /epochs must be a positive integer/);
  assert.equal(resolveArgs({ epochs: 0, maxSteps: 10 }).epochs, 0);
  assert.throws(
    () => resolveArgs({ learningRate: 1 } as never),
    /unknown setting "learningRate" in the training arguments \(did you mean "lr"\?\)/,
  );
  assert.throws(
    () => resolveFinetuneConfig({ model: "m", data: "d", validationFraction: 0.6, testFraction: 0.5 }),
    /validationFraction \+ testFraction < 1/,
  );
  assert.throws(
    () => resolveFinetuneConfig({ model: "m", data: "d", lora: {}, gradualUnfreezing: true }),
    /LoRA and gradual unfreezing cannot be combined/,
  );
});

test("graft score's metric flags are generated from METRIC_OPTIONS, one schema entry per metric option", () => {
  assert.deepEqual(
    flagBindings(SCORE_METRIC_SWITCHES).map((b) => [b.path.join("."), b.spec, b.option.help]),
    METRIC_OPTIONS.map((o) => [o.key, o.flag, o.description]),
  );
  for (const o of METRIC_OPTIONS) {
    const d = SCORE_METRIC_SWITCHES[o.key]!.default;
    assert.equal(d === undefined ? undefined : String(d), o.default, `default of ${o.flag}`);
  }
  const cmd = new Command("score").exitOverride();
  addOptions(cmd, SCORE_METRIC_SWITCHES);
  cmd.parse(["--smooth-value", "0.5", "--lowercase", "--labels", "a, b,c", "--chrf-beta", "3"], { from: "user" });
  assert.deepEqual(flagOptions(SCORE_METRIC_SWITCHES, cmd), {
    smoothValue: 0.5,
    lowercase: true,
    labels: ["a", " b", "c"],
    chrfBeta: 3,
  });
});

test("predict, eval and score refuse a bad flag value naming the flag", () => {
  assert.match(
    graft("predict", "--model", work, "--text", "x", "--batch-size", "0").stderr,
    /--batch-size must be a positive integer, got "0"/,
  );
  assert.match(
    graft("predict", "--model", work, "--text", "x", "--top-p", "2").stderr,
    /--top-p must be a number in \(0, 1\], got "2"/,
  );
  assert.match(
    graft("eval", "--model", work, "--data", "d.csv", "--batch-size", "x").stderr,
    /--batch-size must be an integer, got "x"/,
  );
  assert.match(
    graft("score", "bleu", "--hyp", "h.txt", "--ref", "r.txt", "--confidence", "0").stderr,
    /--confidence must be a positive integer, got "0"/,
  );
  assert.match(
    graft("score", "bleu", "--hyp", "h.txt", "--ref", "r.txt", "--chrf-beta", "x").stderr,
    /--chrf-beta must be a number, got "x"/,
  );
});

// issue #25, item 1: configuration keys that did nothing
test("a misspelt or misplaced key in a finetune config is refused with a did-you-mean hint", () => {
  const cases: [string, RegExp][] = [
    ["maxLenght: 64\n", /error: unknown setting "maxLenght" in .*typo1\.yaml \(did you mean "maxLength"\?\)/],
    [
      "training:\n  learningRate: 0.001\n",
      /error: unknown setting "training\.learningRate" in .*typo2\.yaml \(did you mean "training\.lr"\?\)/,
    ],
    ["maxSteps: 10\n", /error: unknown setting "maxSteps" in .*typo3\.yaml \(did you mean "training\.maxSteps"\?\)/],
  ];
  cases.forEach(([body, re], i) => {
    const cfg = file(`typo${i + 1}.yaml`, `model: ${join(work, "nope")}\ndata: ${join(work, "none.csv")}\n${body}`);
    const r = graft("finetune", "--config", cfg);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, re);
  });
  const wrong = graft("finetune", "--config", file("typo4.json", JSON.stringify({ training: { lr: "fast" } })));
  assert.match(wrong.stderr, /training\.lr in .*typo4\.json must be a positive number, got "fast"/);
});

test("an unknown key in a pretrain config is refused with a did-you-mean hint", () => {
  const corpus = file("corpus.txt", "some text\n");
  const cfg = file("pre.yaml", `corpus: [${corpus}]\nvocabSise: 500\ntraining:\n  maxStep: 3\n`);
  const r = graft("pretrain", "--config", cfg);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: unknown setting "vocabSise" in .*pre\.yaml \(did you mean "vocabSize"\?\)/);
  const nested = graft("pretrain", "--config", file("pre2.yaml", `corpus: [${corpus}]\ntraining:\n  maxStep: 3\n`));
  assert.match(
    nested.stderr,
    /unknown setting "training\.maxStep" in .*pre2\.yaml \(did you mean "training\.maxSteps"\?\)/,
  );
});

test("a tune study whose finetune objective config has an unknown key is refused before any trial runs", () => {
  const study = (objectiveConfig: Record<string, unknown>, space?: Record<string, unknown>) =>
    file(
      "study.json",
      JSON.stringify({
        objective: { name: "finetune", config: { model: "m", data: "d.csv", ...objectiveConfig } },
        trials: 1,
        ...(space ? { space } : {}),
      }),
    );
  const r = graft("tune", "--config", study({ maxLenght: 64 }), "--dir", join(work, "s1"));
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /unknown setting "objective\.config\.maxLenght" in .*study\.json \(did you mean "objective\.config\.maxLength"\?\)/,
  );
  const nested = graft("tune", "--config", study({ training: { learningRate: 1e-4 } }), "--dir", join(work, "s2"));
  assert.match(
    nested.stderr,
    /unknown setting "objective\.config\.training\.learningRate" .*"objective\.config\.training\.lr"/,
  );
  const space = graft(
    "tune",
    "--config",
    study({}, { "training.learningRate": { type: "loguniform", low: 1e-5, high: 1e-3 } }),
    "--dir",
    join(work, "s3"),
  );
  assert.match(
    space.stderr,
    /unknown finetune setting "training\.learningRate" .*space \(did you mean "training\.lr"\?\)/,
  );
  const typo = graft("tune", "--config", file("t.json", JSON.stringify({ objective: "builtin:sphere", trails: 3 })));
  assert.match(typo.stderr, /t\.json: unknown key "trails" \(did you mean "trials"\?\)/);
});
