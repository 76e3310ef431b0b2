/** `graft launch`: the mpirun command it prints, and a 2-rank pre-training run through it (where MPI is installed). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/util/rng.js";
import { hasMpirun, loadMpi, mpiUnavailable, mpirunArgs } from "../../src/train/index.js";
import { shellLine } from "../../src/cli/launch.js";
import { run } from "../../src/cli/main.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));

function graft(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    timeout: 120_000,
  });
}

/** Runs the CLI in this process (no spawn), capturing what it writes to stderr. */
async function inProcess(argv: string[]): Promise<{ status: number; stderr: string }> {
  const write = process.stderr.write;
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await run(["node", "graft", ...argv]);
    return { status, stderr };
  } finally {
    process.stderr.write = write;
    process.exitCode = undefined;
  }
}

test("graft launch prints the mpirun command it runs (mpirun's -np spelling) and checks the rank count", async () => {
  const r = await inProcess([
    "launch",
    "-np",
    "3",
    "--dry-run",
    "--",
    "pretrain",
    "--corpus",
    "my books/",
    "--preset",
    "tiny",
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^mpirun -np 3 --oversubscribe .*graft\.js pretrain --corpus 'my books\/' --preset tiny$/m);
  const bad = await inProcess(["launch", "-np", "0", "--dry-run", "--", "pretrain"]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /-np must be a positive integer, got "0"/);
});

test("mpirun's arguments: ranks, oversubscription, a hostfile, graft's environment for remote ranks", () => {
  process.env.GRAFT_THREADS_TEST_ONLY = "1";
  try {
    const argv = mpirunArgs({ np: 2, hostfile: "hosts.txt" }, ["node", "graft.js", "finetune"]);
    assert.deepEqual(argv.slice(0, 5), ["-np", "2", "--oversubscribe", "--hostfile", "hosts.txt"]);
    assert.ok(argv.join(" ").includes("-x GRAFT_THREADS_TEST_ONLY"));
    assert.deepEqual(argv.slice(-3), ["node", "graft.js", "finetune"]);
    assert.equal(shellLine(["a b", "c'd", "e=f"]), "'a b' 'c'\\''d' e=f");
  } finally {
    delete process.env.GRAFT_THREADS_TEST_ONLY;
  }
});

// an end-to-end run that exercises no backend-specific code beyond the MPI tests: the native pass runs it
const skip = !hasMpirun()
  ? "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"
  : !loadMpi()
    ? mpiUnavailable()
    : process.env.GRAFT_BACKEND === "js"
      ? "end-to-end CLI run: the native pass covers it"
      : false;

test("graft launch -np 2 -- pretrain: rank 0 prepares the data, writes the run and prints once", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-launch-"));
  try {
    const words = "the cat dog sat on a mat with red blue green fish bird tree house ran over under big small".split(
      " ",
    );
    const r = new Rng(1);
    const lines = Array.from({ length: 300 }, () =>
      Array.from({ length: 8 + r.int(12) }, () => words[r.int(words.length)]).join(" "),
    );
    writeFileSync(join(dir, "c.txt"), lines.join("\n"));
    const run = join(dir, "run");
    const out = graft(
      [
        "launch",
        "-np",
        "2",
        "--",
        "pretrain",
        "--corpus",
        join(dir, "c.txt"),
        "--preset",
        "tiny",
        "--vocab-size",
        "120",
        "--block-size",
        "16",
        "--batch-size",
        "4",
        "--max-steps",
        "3",
        "--output",
        run,
      ],
      { GRAFT_THREADS: "1", GRAFT_MPI_TIMEOUT: "30" },
    );
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.equal(out.stdout.match(/trained 3 steps/g)?.length, 1, "rank 0 alone prints the result");
    const cfg = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
    assert.equal(cfg.distributed.worldSize, 2);
    assert.equal(cfg.distributed.globalBatchSize, 8);
    const steps = readFileSync(join(run, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((m) => m.loss !== undefined);
    assert.deepEqual(
      steps.map((m) => m.step),
      [3],
    );
    // an epoch is ceil(blocks / (2 ranks × 4)) steps
    const blocks = JSON.parse(readFileSync(join(run, "data", "blocks.json"), "utf8")).train;
    assert.equal(steps[0].epoch, Math.round((3 / Math.ceil(blocks / 8)) * 1000) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
