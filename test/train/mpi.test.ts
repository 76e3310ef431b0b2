/**
 * Data parallelism on MPI: `mpirun -np 2` on this machine against one process (tiny BERT, a few steps). Skips where
 * mpirun or the graft_mpi addon is missing (.ci/run installs Open MPI from Debian).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Trainer, hasMpirun, loadMpi, mpiUnavailable, mpirunArgs, mpirunEnv } from "../../src/train/index.js";
import { affine } from "../../src/tensor/index.js";
import { MPI_ARGS, PER_RANK } from "./mpi-args.js";
import { gradsOf, toyBert, toyTask, weightsOf } from "./mpi-toy.js";

const worker = join(dirname(fileURLToPath(import.meta.url)), "mpi-worker.js");
const skip = !hasMpirun()
  ? "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"
  : !loadMpi()
    ? mpiUnavailable()
    : false;

function mpirun(np: number, args: string[], timeoutMs = 60_000) {
  const t0 = performance.now();
  const r = spawnSync("mpirun", mpirunArgs({ np }, [process.execPath, worker, ...args]), {
    env: mpirunEnv({ ...process.env, GRAFT_THREADS: "1", GRAFT_MPI_TIMEOUT: "20" }),
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

function ok(r: ReturnType<typeof mpirun>): void {
  assert.equal(r.status, 0, `mpirun failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function assertClose(
  a: Record<string, number[] | null>,
  b: Record<string, number[] | null>,
  tol: number,
  what: string,
) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    assert.equal(x === null, y === null, `${what} ${name}: present in one only`);
    if (!x || !y) continue;
    for (let i = 0; i < x.length; i++)
      assert.ok(
        Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])),
        `${what} ${name}[${i}]: ${x[i]} vs ${y[i]} (one process)`,
      );
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), "graft-mpi-"));

test("2 ranks: one step's gradients summed across ranks equal one process's on the combined batch", { skip }, () => {
  const dir = tmp();
  try {
    ok(mpirun(2, ["grads", join(dir, "g.json")]));
    const got = JSON.parse(readFileSync(join(dir, "g.json"), "utf8")) as {
      grads: Record<string, number[] | null>[];
      buckets: number;
    };
    assert.ok(got.buckets > 3, `tiny buckets make several (${got.buckets})`);
    const t = toyTask();
    const model = toyBert();
    [Int32Array.from([5, 1, 9, 3, 7, 0, 2, 8]), Int32Array.from([4, 6, 11])].forEach((batch, k) => {
      for (const p of model.parameters()) p.grad = null;
      affine(t.loss(model, t.collate(batch)), 1).backward();
      assertClose(got.grads[k], gradsOf(model), 1e-5, `step ${k + 1}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("2 ranks train to the weights of 1 rank with the same global batch; a resumed 2-rank run to the very same", {
  skip,
}, async () => {
  const dir = tmp();
  try {
    ok(mpirun(2, ["train", join(dir, "full"), join(dir, "full.json")]));
    const full = JSON.parse(readFileSync(join(dir, "full.json"), "utf8"));
    assert.equal(full.step, MPI_ARGS.maxSteps);
    const run = JSON.parse(readFileSync(join(dir, "full", "run.json"), "utf8"));
    const { library, bucketBytes, ...stated } = run.distributed;
    assert.match(library, /MPI/);
    assert.equal(bucketBytes, 25 * 1024 * 1024);
    assert.deepEqual(stated, {
      worldSize: 2,
      perRankBatchSize: PER_RANK,
      globalBatchSize: 16,
      learningRate: MPI_ARGS.lr,
    });

    // one process, batch 2 × PER_RANK: the same global batches in the same order
    const model = toyBert();
    await new Trainer({
      model,
      args: { ...MPI_ARGS, batchSize: 2 * PER_RANK, saveEvery: "none" },
      ...toyTask(),
      distributed: null,
    }).train();
    assertClose(full.weights, weightsOf(model), 2e-5, "weights after 4 steps");

    // stopped after step 2 (a checkpoint), resumed by 2 ranks: bit for bit the uninterrupted run
    ok(mpirun(2, ["train", join(dir, "part"), join(dir, "stop.json"), "2"]));
    const state = JSON.parse(readFileSync(join(dir, "part", "checkpoints", "step-2", "trainer_state.json"), "utf8"));
    assert.equal(state.worldSize, 2);
    assert.equal(state.rngByRank.length, 2);
    assert.notDeepEqual(state.rngByRank[0], state.rngByRank[1], "each rank draws its own stream");
    ok(mpirun(2, ["train", join(dir, "part"), join(dir, "resumed.json"), "0", "resume"]));
    const resumed = JSON.parse(readFileSync(join(dir, "resumed.json"), "utf8"));
    assert.equal(resumed.step, MPI_ARGS.maxSteps);
    assert.deepEqual(resumed.weights, full.weights);
    const logged = readFileSync(join(dir, "part", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.deepEqual(
      logged.map((l) => JSON.parse(l).step),
      [1, 2, 3, 4],
      "rank 0 alone logs, each step once",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a killed rank ends the job non-zero within the timeout, naming the rank; the last checkpoint stays valid", {
  skip,
}, () => {
  const dir = tmp();
  try {
    const r = mpirun(2, ["kill", join(dir, "run")], 60_000);
    assert.notEqual(r.status, 0, "the job must fail");
    assert.equal(r.signal, null, "mpirun ended by itself (not by the test's timeout)");
    assert.ok(r.seconds < 30, `ended in ${r.seconds.toFixed(1)} s`);
    assert.match(r.stdout + r.stderr, /rank 1\b/, "the message names the dead rank");
    const ckpt = join(dir, "run", "checkpoints", "step-1");
    assert.ok(existsSync(join(ckpt, "trainer_state.json")), "step-1 was written before the rank died");
    assert.equal(JSON.parse(readFileSync(join(ckpt, "trainer_state.json"), "utf8")).globalStep, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
