/**
 * One rank of the data-parallel tests (started by mpirun from mpi.test.ts): `grads OUT [RUN OUT2]` sums one step's gradients
 * across ranks (then trains as `train RUN OUT2`); `train RUN OUT [stopAt] [resume]` trains the toy BERT; `kill RUN` loses rank 1 at step 2;
 * `hang RUN` has rank 1 stop answering at step 2.
 */
import { readlinkSync, writeFileSync } from "node:fs";
import { Trainer, GradientReducer, shardOf, world, type TrainerCallback } from "../../src/train/index.js";
import { affine } from "../../src/tensor/index.js";
import { MPI_ARGS, PER_RANK } from "./mpi-args.js";
import { GRAD_BATCHES, gradsOf, toyBert, toyTask, weightsOf } from "./mpi-toy.js";

const [mode, a1, a2, a3, a4] = process.argv.slice(2);
const w = world();
if (!w) throw new Error("mpi-worker: not started by mpirun with several ranks");
const t = toyTask();

if (mode === "grads") {
  // which network namespace each rank ran in (the multi-host test puts the ranks on two "hosts")
  writeFileSync(`${a1}.rank${w.rank}`, readlinkSync("/proc/self/ns/net"));
  // GRAD_BATCHES, in tiny buckets
  const model = toyBert();
  const reducer = new GradientReducer(w, { bucketBytes: 300 });
  const out: Record<string, number[] | null>[] = [];
  for (const global of GRAD_BATCHES) {
    for (const p of model.parameters()) p.grad = null;
    const idx = shardOf(global, PER_RANK, w.rank);
    reducer.begin(model.parameters().filter((p) => p.requiresGrad));
    if (idx.length > 0) affine(t.loss(model, t.collate(idx)), idx.length / global.length).backward();
    reducer.finish();
    out.push(gradsOf(model));
  }
  if (w.rank === 0) writeFileSync(a1, JSON.stringify({ grads: out, buckets: reducer.bucketSizes().length }));
  // then, given RUN and OUT, the uninterrupted training run in the same job (one mpirun less)
  if (a2) {
    const model = toyBert();
    const r = await new Trainer({ model, args: MPI_ARGS, ...t, runDir: a2 }).train();
    if (w.rank === 0) writeFileSync(a3, JSON.stringify({ step: r.globalStep, weights: weightsOf(model) }));
  }
} else if (mode === "train" || mode === "kill" || mode === "hang") {
  const model = toyBert();
  const stopAt = mode === "train" ? Number(a3 ?? 0) : 2;
  const cb: TrainerCallback = {
    onLog(tr, rec) {
      if (mode === "kill" && rec.step === stopAt && w.rank === 1) process.kill(process.pid, "SIGKILL");
      // a rank that stops answering without dying: the others' watchdog must end the job
      if (mode === "hang" && rec.step === stopAt && w.rank === 1)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      if (mode === "train" && stopAt > 0 && rec.step === stopAt) tr.requestStop();
    },
  };
  const trainer = new Trainer({ model, args: MPI_ARGS, ...t, runDir: a1, callbacks: [cb] });
  const r = await trainer.train({ resume: a4 === "resume" });
  if (mode === "train" && w.rank === 0)
    writeFileSync(a2, JSON.stringify({ step: r.globalStep, weights: weightsOf(model) }));
} else throw new Error(`mpi-worker: unknown mode ${mode}`);
