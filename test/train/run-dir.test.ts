/** The run directory's lifecycle: a new run refuses a used directory, a full disk, stale temporaries, corrupt checkpoints. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Trainer, RunDir, openNewRun, dataSources, changedSources, checkResumeData } from "../../src/train/index.js";
import { DiskFullError, atomicIo } from "../../src/util/atomic.js";
import { makeData, makeModel, task } from "./toy.js";

const tmp = () => mkdtempSync(join(tmpdir(), "graft-rundir-"));
const base = {
  epochs: 2,
  batchSize: 8,
  lr: 0.05,
  logEvery: 1,
  warmupRatio: 0,
  seed: 7,
  saveEvery: 4,
  saveTotalLimit: 3,
};

function trainer(dir: string, log?: (line: string) => void) {
  const data = makeData(32, 1);
  return new Trainer({ model: makeModel(1), args: base, trainSize: 32, ...task(data), runDir: dir, log });
}

test("a new run refuses a non-empty directory; overwrite clears a run directory but never other files", () => {
  const root = tmp();
  try {
    const run = join(root, "run");
    mkdirSync(join(run, "checkpoints", "step-4"), { recursive: true });
    writeFileSync(join(run, "run.json"), "{}");
    writeFileSync(join(run, "metrics.jsonl"), '{"step":1}\n');
    assert.throws(
      () => openNewRun(run, { command: "graft finetune" }),
      (e: Error & { hint?: string }) =>
        /the run directory .*run is not empty \((run\.json|checkpoints|metrics\.jsonl)/.test(e.message) &&
        /graft finetune --resume .*run; start over with --overwrite/.test(e.hint ?? ""),
    );
    openNewRun(run, { overwrite: true });
    assert.deepEqual(readdirSync(run), []);
    // an empty directory is fine; a directory of someone's files is never cleared
    openNewRun(run);
    const other = join(root, "photos");
    mkdirSync(other);
    writeFileSync(join(other, "cat.jpg"), "x");
    assert.throws(
      () => openNewRun(other, { overwrite: true }),
      /--overwrite refuses to clear .*photos: it is not a graft run/,
    );
    assert.ok(existsSync(join(other, "cat.jpg")));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("discard removes what a failed new run created, parents included, and leaves an existing directory in place", () => {
  const root = tmp();
  try {
    const nested = join(root, "runs", "a");
    const r = openNewRun(nested);
    writeFileSync(join(nested, "data.json"), "{}");
    r.discard();
    assert.deepEqual(readdirSync(root), []);
    const existing = join(root, "mine");
    mkdirSync(existing);
    const e = openNewRun(existing);
    writeFileSync(join(existing, "data.json"), "{}");
    e.discard();
    assert.deepEqual(readdirSync(existing), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a full disk while writing a checkpoint names the path and the space needed, and leaves no temporary behind", async () => {
  const dir = tmp();
  const write = atomicIo.writeSync;
  try {
    let armed = false;
    let calls = 0;
    const t = new Trainer({
      model: makeModel(1),
      args: base,
      trainSize: 32,
      ...task(makeData(32, 1)),
      runDir: dir,
      callbacks: [{ onEvaluate: () => void (armed = true) }], // best/ is written; the checkpoint comes next
    });
    // the disk fills up during the first checkpoint, after its model.safetensors
    atomicIo.writeSync = (fd, bytes, off, len) => {
      if (armed && ++calls > 2)
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      return write(fd, bytes, off, len);
    };
    await assert.rejects(t.train(), (e: Error) => {
      assert.ok(e instanceof DiskFullError, String(e));
      assert.match(
        e.message,
        /no space left on the device writing .*checkpoints[/\\]step-4: it needs about [\d.]+ KiB and .* are free/,
      );
      return true;
    });
    atomicIo.writeSync = write;
    assert.deepEqual(readdirSync(join(dir, "checkpoints")), []);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes(".tmp-")),
      [],
    );
  } finally {
    atomicIo.writeSync = write;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resume ignores stale temporaries and falls back from a corrupt newest checkpoint, saying so", async () => {
  const dir = tmp();
  try {
    const ref = await trainer(dir).train();
    assert.equal(ref.globalStep, 8);
    const run = new RunDir(dir);
    assert.deepEqual(
      run.checkpoints().map((c) => c.step),
      [4, 8],
    );
    // a killed write left a temporary; the newest checkpoint is truncated
    mkdirSync(join(dir, "checkpoints", "step-12.tmp-99999"));
    writeFileSync(join(dir, "checkpoints", "step-12.tmp-99999", "model.safetensors"), "partial");
    const weights = join(dir, "checkpoints", "step-8", "model.safetensors");
    truncateSync(weights, Math.floor(statSync(weights).size / 2));
    const lines: string[] = [];
    const summary = await trainer(dir, (l) => lines.push(l)).train({ resume: true });
    assert.equal(summary.globalStep, 8);
    assert.ok(!existsSync(join(dir, "checkpoints", "step-12.tmp-99999")));
    assert.match(lines.join("\n"), /skipping the unreadable checkpoint .*step-8: .*model\.safetensors/);
    assert.match(lines.join("\n"), /resuming from the previous complete checkpoint .*step-4/);
    // a half-written trainer_state.json: the error names the file
    writeFileSync(join(dir, "checkpoints", "step-8", "trainer_state.json"), '{"globalStep": 8, "rng"');
    writeFileSync(join(dir, "checkpoints", "step-4", "trainer_state.json"), "");
    await assert.rejects(
      trainer(dir).train({ resume: true }),
      /no checkpoint in .* can be read \(.*step-8[/\\]trainer_state\.json: not valid JSON.*step-4[/\\]trainer_state\.json: not valid JSON/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("data hashes: a changed file is named on resume; allow logs it instead", () => {
  const dir = tmp();
  try {
    const f = join(dir, "train.csv");
    writeFileSync(f, "text,label\na,1\n");
    const before = dataSources([{ role: "train", file: f }]);
    writeFileSync(join(dir, "run.json"), JSON.stringify({ dataFiles: before }));
    assert.deepEqual(changedSources(before, dataSources([{ role: "train", file: f }])), []);
    writeFileSync(f, "text,label\na,0\n");
    const now = dataSources([{ role: "train", file: f }]);
    assert.throws(
      () => checkResumeData(dir, now),
      /cannot resume .*: the data changed since the run started: train file .*train\.csv changed \(sha256 [0-9a-f]{12}…/,
    );
    const lines: string[] = [];
    checkResumeData(dir, now, { allow: true, log: (l) => lines.push(l) });
    assert.match(lines[0]!, /warning: resuming on changed data \(--allow-data-change\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
