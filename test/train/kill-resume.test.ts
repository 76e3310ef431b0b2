/** A training process killed with SIGKILL mid-epoch resumes from its last complete checkpoint to identical weights. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Trainer, RunDir } from "../../src/train/index.js";
import { makeData, makeModel, task } from "./toy.js";
import { KILL_ARGS } from "./kill-args.js";

const worker = fileURLToPath(new URL("./kill-worker.js", import.meta.url));

test("kill -9 mid-run, then resume: final weights equal an uninterrupted run", async () => {
  const ref = mkdtempSync(join(tmpdir(), "graft-kill-ref-"));
  const dir = mkdtempSync(join(tmpdir(), "graft-kill-"));
  try {
    const data = makeData(48, 9);
    const a = makeModel(4);
    await new Trainer({ model: a, args: KILL_ARGS, trainSize: 48, ...task(data), runDir: ref }).train();

    const child = spawn(process.execPath, [worker, dir], { stdio: "ignore", env: { ...process.env } });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // kill as soon as a few checkpoints exist: somewhere in the middle of an epoch, maybe mid-write
    const deadline = Date.now() + 20_000;
    while (!existsSync(join(dir, "checkpoints", "step-7")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 2));
    child.kill("SIGKILL");
    await exited;
    const last = new RunDir(dir).latestCheckpoint();
    assert.ok(
      last && last.step >= 7 && last.step < 120,
      `killed too late or too early (latest checkpoint ${last?.step})`,
    );

    const b = makeModel(77);
    const summary = await new Trainer({ model: b, args: KILL_ARGS, trainSize: 48, ...task(data), runDir: dir }).train({
      resume: true,
    });
    assert.equal(summary.globalStep, 100);
    assert.deepEqual(
      b.parameters().map((p) => p.toArray()),
      a.parameters().map((p) => p.toArray()),
    );
  } finally {
    rmSync(ref, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
