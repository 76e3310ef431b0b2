/**
 * The gradient reducer on a one-rank world with a recording MPI stand-in (no MPI needed): buckets in reverse
 * parameter order start during the backward, parameters no rank gave a gradient keep none and move to a last bucket
 * sent after the backward, the values pass through unchanged; and the shard of a global batch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { affine } from "../../src/tensor/index.js";
import { Linear, Module } from "../../src/nn/index.js";
import { GradientReducer, launchedRanks, shardOf, type MpiAddon, type World } from "../../src/train/index.js";
import { threadCount } from "../../src/util/env.js";
import { toyBert, toyTask } from "./mpi-toy.js";

class WithUnused extends Module {
  model = toyBert();
  unused = new Linear(3, 3);
}

function recordingWorld(): {
  world: World;
  launches: { floats: number; inBackward: boolean }[];
  phase: { backward: boolean };
} {
  const launches: { floats: number; inBackward: boolean }[] = [];
  const phase = { backward: false };
  const mpi = {
    iallreduce(buf: Float32Array) {
      launches.push({ floats: buf.length, inBackward: phase.backward });
      return launches.length;
    },
    test: () => true,
    wait() {},
  } as unknown as MpiAddon;
  const world: World = {
    rank: 0,
    size: 1,
    localSize: 1,
    host: "test",
    library: "recording",
    mpi,
    abort: (m: string) => {
      throw new Error(m);
    },
  };
  return { world, launches, phase };
}

test("buckets start during the backward in reverse order; gradient-less parameters go last and keep no gradient", () => {
  const { world, launches, phase } = recordingWorld();
  const net = new WithUnused();
  const t = toyTask();
  const batch = t.collate(Int32Array.from([0, 1, 2, 3]));
  const reducer = new GradientReducer(world, { bucketBytes: 400 });
  const params = net.parameters().filter((p) => p.requiresGrad);
  for (let step = 0; step < 2; step++) {
    launches.length = 0;
    for (const p of params) p.grad = null;
    reducer.begin(params);
    const sizes = reducer.bucketSizes();
    phase.backward = true;
    affine(t.loss(net.model, batch), 1).backward();
    phase.backward = false;
    const before = params.map((p) => (p.grad ? p.grad.toArray() : null));
    reducer.finish();
    params.forEach((p, i) =>
      assert.deepEqual(p.grad ? p.grad.toArray() : null, before[i], "one rank: values unchanged"),
    );
    assert.equal(net.unused.weight.grad, null, "no rank gave it a gradient: it keeps none");
    assert.equal(launches.length, sizes.length);
    if (step === 0) {
      // the unused Linear (last in model order) shares the first bucket, which waits for it until the backward ends
      assert.ok(sizes.length > 3);
      assert.ok(launches.every((l) => !l.inBackward));
    } else {
      // found in step 1: it sits alone in the last bucket, sent after the backward; the others start inside it
      assert.equal(sizes[sizes.length - 1], 3 * 3 + 3);
      assert.equal(launches[launches.length - 1].inBackward, false);
      assert.ok(
        launches.slice(0, -1).every((l) => l.inBackward),
        "every other bucket starts inside the backward",
      );
    }
  }
});

test("a rank's shard of a global batch: its slice of the per-rank batch size, empty past the end", () => {
  const g = Int32Array.from([9, 8, 7, 6, 5]);
  assert.deepEqual(Array.from(shardOf(g, 2, 0)), [9, 8]);
  assert.deepEqual(Array.from(shardOf(g, 2, 1)), [7, 6]);
  assert.deepEqual(Array.from(shardOf(g, 2, 2)), [5]);
  assert.deepEqual(Array.from(shardOf(g, 2, 3)), []);
});

test("without MPI the build skips the graft_mpi addon with a note (npm install still succeeds)", () => {
  const script = fileURLToPath(new URL("../../../scripts/mpi-flags.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script, "found"], { encoding: "utf8", env: { PATH: "/nonexistent" } });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, "0");
  assert.match(r.stderr, /MPI not found .* skipping the optional graft_mpi addon/);
});

test("each rank's threads: the host's cores divided among mpirun's ranks there, unless GRAFT_THREADS says", () => {
  const saved = { t: process.env.GRAFT_THREADS, l: process.env.OMPI_COMM_WORLD_LOCAL_SIZE };
  try {
    delete process.env.GRAFT_THREADS;
    process.env.OMPI_COMM_WORLD_LOCAL_SIZE = "2";
    assert.equal(threadCount(), Math.max(1, Math.floor(cpus().length / 2)));
    process.env.OMPI_COMM_WORLD_LOCAL_SIZE = String(4 * cpus().length);
    assert.equal(threadCount(), 1);
    process.env.GRAFT_THREADS = "3";
    assert.equal(threadCount(), 3);
  } finally {
    for (const [k, v] of [
      ["GRAFT_THREADS", saved.t],
      ["OMPI_COMM_WORLD_LOCAL_SIZE", saved.l],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
  assert.deepEqual(
    launchedRanks({ OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_RANK: "3", OMPI_COMM_WORLD_LOCAL_SIZE: "2" }),
    { size: 4, rank: 3, localSize: 2 },
  );
  assert.equal(launchedRanks({}), null);
});
