/** `graft finetune` and `graft eval` as a user runs them: a child process, flags and a config file, exit codes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTinyBert, sentimentCsv } from "../tasks/fixtures.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "graft-cli-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

function graft(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("finetune from a YAML config with flags overriding it, then eval of the saved model", () => {
  const model = makeTinyBert(join(work, "bert"));
  sentimentCsv(join(work, "train.csv"), 200, 5);
  sentimentCsv(join(work, "test.csv"), 60, 6);
  writeFileSync(
    join(work, "run.yaml"),
    `model: ${model}\ndata: ${join(work, "train.csv")}\ntraining:\n  epochs: 1\n  lr: 0.003\n  batchSize: 16\n`,
  );
  const r = graft(
    "finetune",
    "--config",
    join(work, "run.yaml"),
    "--epochs",
    "5",
    "--test",
    join(work, "test.csv"),
    "--output",
    join(work, "run"),
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.train.globalStep, 5 * Math.ceil(180 / 16)); // the flag's 5 epochs, not the file's 1
  assert.ok(result.test.accuracy > 0.9, `accuracy ${result.test.accuracy}`);
  const runJson = JSON.parse(readFileSync(join(work, "run", "run.json"), "utf8"));
  assert.equal(runJson.finetune.training.epochs, 5);
  // run.json records the resolved configuration: the file's, the flags', and every default
  assert.equal(runJson.finetune.training.lr, 0.003);
  assert.equal(runJson.finetune.training.seed, 42);
  assert.equal(runJson.finetune.training.weightDecay, 0.01);
  assert.equal(runJson.finetune.training.metricForBest, "f1_macro");
  assert.equal(runJson.finetune.maxLength, 128);

  const e = graft("eval", "--model", join(work, "run", "best"), "--data", join(work, "test.csv"), "--json");
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  assert.equal(m.examples, 60);
  assert.ok(Math.abs(m.accuracy - result.test.accuracy) < 1e-9);
});

test("finetune reads a headerless semicolon-separated file: --no-header --delimiter --text-column --label-column", () => {
  const model = makeTinyBert(join(work, "bert-semi"));
  // "label;text" with no header, and commas inside the texts: read as comma-separated it would not parse
  const semi = (src: string, dst: string) => {
    const rows = readFileSync(src, "utf8").trim().split("\n").slice(1);
    const out = rows.map((l) => {
      const [text, label] = l.split(",");
      return `${label};${text!.replace(" ", ", ")}`;
    });
    writeFileSync(dst, out.join("\n") + "\n");
  };
  sentimentCsv(join(work, "semi-train.src"), 60, 11);
  sentimentCsv(join(work, "semi-valid.src"), 20, 12);
  semi(join(work, "semi-train.src"), join(work, "semi-train.csv"));
  semi(join(work, "semi-valid.src"), join(work, "semi-valid.csv"));
  const r = graft(
    "finetune",
    "--model",
    model,
    "--data",
    join(work, "semi-train.csv"),
    "--validation",
    join(work, "semi-valid.csv"),
    "--test",
    join(work, "semi-valid.csv"),
    "--no-header",
    "--delimiter",
    ";",
    "--text-column",
    "1",
    "--label-column",
    "0",
    "--max-steps",
    "3",
    "--batch-size",
    "16",
    "--output",
    join(work, "run-semi"),
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.labels, ["neg", "pos"]);
  assert.equal(result.train.globalStep, 3);
  const runJson = JSON.parse(readFileSync(join(work, "run-semi", "run.json"), "utf8"));
  assert.equal(runJson.finetune.header, false);
  assert.equal(runJson.finetune.delimiter, ";");
  const data = JSON.parse(readFileSync(join(work, "run-semi", "data.json"), "utf8"));
  assert.equal(data.sizes.train, 60);
  assert.equal(data.sizes.validation, 20);
});

test("bad invocations: one clear line, a hint, a non-zero exit code", () => {
  const noData = graft("finetune", "--task", "ner");
  assert.notEqual(noData.code, 0);
  assert.match(noData.stderr, /error: no data: give --data FILE for --task ner/);
  const noConfig = graft("finetune", "--config", join(work, "missing.yaml"));
  assert.notEqual(noConfig.code, 0);
  assert.match(noConfig.stderr, /config file .*missing\.yaml does not exist/);
  const missing = graft("finetune", "--model", join(work, "bert"), "--data", join(work, "nope.csv"));
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /nope\.csv/);
  const badFlag = graft("finetune", "--epochs", "two", "--model", "m", "--data", "d");
  assert.match(badFlag.stderr, /--epochs must be an integer, got "two"/);
  const notFinetuned = graft("eval", "--model", join(work, "bert"), "--data", join(work, "test.csv"));
  assert.notEqual(notFinetuned.code, 0);
  assert.match(notFinetuned.stderr, /is not a fine-tuned graft model/);
});

test("Ctrl-C (SIGINT) saves a checkpoint and exits 130; --resume finishes the run", async () => {
  const { spawn } = await import("node:child_process");
  const { readdirSync } = await import("node:fs");
  const run = join(work, "run-sigint");
  const child = spawn(
    process.execPath,
    [
      bin,
      "finetune",
      "--model",
      join(work, "bert"),
      "--data",
      join(work, "train.csv"),
      "--epochs",
      "200",
      "--save-every",
      "none",
      "--lr",
      "0.003",
      "--output",
      run,
      "--quiet",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (
    !(
      existsSync(join(run, "metrics.jsonl")) && readFileSync(join(run, "metrics.jsonl"), "utf8").includes('"step":20,')
    ) &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGINT");
  assert.equal(await exited, 130);
  assert.match(out, /interrupted at step \d+; a checkpoint was saved\nresume with: graft finetune --resume /);
  const ckpts = readdirSync(join(run, "checkpoints"));
  assert.equal(ckpts.length, 1, ckpts.join(","));
  const step = Number(ckpts[0].slice(5));
  assert.ok(step >= 20 && step < 200 * 12, `checkpoint at step ${step}`);
  const r = graft("finetune", "--resume", run, "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).train.globalStep, 200 * Math.ceil(180 / 16));
});

test("reusing --output is refused (resume or --overwrite); --overwrite starts over with fresh metrics", () => {
  const run = join(work, "run-reuse");
  const args = ["--model", join(work, "bert"), "--data", join(work, "train.csv"), "--epochs", "1", "--lr", "0.003"];
  const first = graft("finetune", ...args, "--output", run, "--quiet");
  assert.equal(first.code, 0, first.stderr);
  const lines = () => readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n").length;
  const logged = lines();
  const again = graft("finetune", ...args, "--output", run, "--quiet");
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /the run directory .*run-reuse is not empty/);
  assert.match(again.stderr, /graft finetune --resume .*run-reuse; start over with --overwrite/);
  assert.equal(lines(), logged); // nothing was appended
  const over = graft("finetune", ...args, "--output", run, "--overwrite", "--quiet");
  assert.equal(over.code, 0, over.stderr);
  assert.equal(lines(), logged);
});

test("--resume refuses changed data and changed settings, and works from another directory", async () => {
  const { spawn } = await import("node:child_process");
  const { copyFileSync, mkdirSync, appendFileSync } = await import("node:fs");
  const dir = join(work, "resume-cwd");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(work, "train.csv"), join(dir, "train.csv"));
  const run = join(dir, "run");
  // started with relative paths in `dir`, then stopped with SIGTERM (saved like Ctrl-C)
  const child = spawn(
    process.execPath,
    [
      bin,
      "finetune",
      "--model",
      join(work, "bert"),
      "--data",
      "train.csv",
      "--epochs",
      "200",
      "--save-every",
      "none",
    ].concat(["--lr", "0.003", "--output", "run", "--quiet"]),
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (
    !(
      existsSync(join(run, "metrics.jsonl")) && readFileSync(join(run, "metrics.jsonl"), "utf8").includes('"step":10,')
    ) &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGTERM");
  assert.equal(await exited, 143);
  assert.match(out, /interrupted at step \d+; a checkpoint was saved\nresume with: graft finetune --resume /);
  const runJson = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
  assert.equal(runJson.finetune.data, join(dir, "train.csv")); // absolute, so the resume works from anywhere

  const lr = graft("finetune", "--resume", run, "--lr", "0.1", "--epochs", "200");
  assert.notEqual(lr.code, 0);
  assert.match(lr.stderr, /these settings differ from it: --lr 0\.1 \(the run has 0\.003\)/);
  assert.doesNotMatch(lr.stderr, /--epochs/); // repeating a recorded value is fine

  appendFileSync(join(dir, "train.csv"), "a late addition,pos\n");
  const changed = graft("finetune", "--resume", run);
  assert.notEqual(changed.code, 0);
  assert.match(
    changed.stderr,
    /cannot resume .*: the data changed since the run started: train file .*train\.csv changed/,
  );
  assert.match(changed.stderr, /--allow-data-change/);
  // from this process's directory, not the one the run started in
  const r = graft("finetune", "--resume", run, "--allow-data-change");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: resuming on changed data \(--allow-data-change\): train file/);
  assert.match(r.stdout, new RegExp(`trained ${200 * Math.ceil(180 / 16)} steps`));
});

test("a run that fails before training starts leaves no run directory", () => {
  writeFileSync(join(work, "bad.csv"), "text,label\n");
  const run = join(work, "runs-bad", "run");
  const r = graft("finetune", "--model", join(work, "bert"), "--data", join(work, "bad.csv"), "--output", run);
  assert.notEqual(r.code, 0);
  assert.ok(!existsSync(join(work, "runs-bad")), "the run directory was left behind");
});
