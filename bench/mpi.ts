/**
 * Data-parallel scaling on MPI: masked-LM pre-training tokens/s at the bundled model's size with 1 and 2 ranks, the all-reduce cost, and a projection to 8 and 64 cores.
 *
 * `npm run bench -- mpi [steps] [batch]`: trains BertForMaskedLM at models/graft-base's size (4 layers, hidden 256,
 * vocabulary 12k, 6.3M parameters) on random token blocks of 128 with 15% masking, `batch` blocks per rank (default
 * 8), for `steps` optimizer steps (default 6; the first is left out as warm-up), in three set-ups on this host:
 * 1 rank with 1 thread (the per-core rate), 1 rank with all threads, and `mpirun -np 2` (cores split between the
 * ranks). The 2-rank run also times a blocking all-reduce of all gradients (the bundled size) and of one float (the
 * latency), from which the projection (docs/distributed.md) estimates tokens/s on 8 and 64 cores. The peer is one
 * process on the same cores: the 2-rank rate is printed as a ratio of it.
 */
import { spawnSync } from "node:child_process";
import { cpus, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../src/util/rng.js";
import { Tensor, crossEntropy } from "../src/tensor/index.js";
import { AutoModelForMaskedLM, maskedLogitsAt, type PreTrainedModel } from "../src/models/index.js";
import { Trainer, hasMpirun, maskTokens, mpirunArgs, mpirunEnv, world, IGNORE_INDEX } from "../src/train/index.js";
import { backend } from "../src/backend/index.js";

const T = 128;
/** Blocks per rank in the projection (the measured run's batch can be smaller, to finish on a busy machine). */
const PROJECTED_BATCH = 8;
const steps = Number(process.argv[2] ?? 6);
const batch = Number(process.argv[3] ?? 8);
const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

interface RankResult {
  ranks: number;
  threads: number;
  tokensPerSecond: number;
  stepSeconds: number;
  exposedCommSeconds: number;
  parameters: number;
  allreduceSeconds?: number;
  latencySeconds?: number;
}

/** One rank: trains, and (rank 0) writes what it measured into `out`. */
async function rank(out: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(join(root, "models", "graft-base", "config.json"), "utf8"));
  const model = AutoModelForMaskedLM.fromConfig(cfg) as unknown as PreTrainedModel;
  const vocab = cfg.vocab_size as number;
  const logitsAt = maskedLogitsAt(model)!;
  const n = 4096;
  const collate = (idx: Int32Array) => {
    const ids = new Int32Array(idx.length * T);
    for (let i = 0; i < idx.length; i++) {
      const r = new Rng(idx[i] + 1);
      for (let j = 0; j < T; j++) ids[i * T + j] = 5 + r.int(vocab - 5);
    }
    const m = maskTokens(
      ids,
      { maskTokenId: 4, vocabSize: vocab, specialIds: new Set([0, 1, 2, 3, 4]) },
      new Rng(idx[0]),
    );
    const picked: number[] = [];
    const targets: number[] = [];
    m.labels.forEach((l, i) => {
      if (l !== IGNORE_INDEX) {
        picked.push(i);
        targets.push(l);
      }
    });
    return {
      inputIds: new Tensor(m.inputIds, [idx.length, T]),
      picked: new Tensor(Int32Array.from(picked), [picked.length]),
      targets: new Tensor(Int32Array.from(targets), [targets.length]),
    };
  };
  const stamps: number[] = [];
  const trainer = new Trainer({
    model,
    trainSize: n,
    collate,
    loss: (_m, b) => crossEntropy(logitsAt({ inputIds: b.inputIds }, b.picked), b.targets),
    args: { maxSteps: steps, batchSize: batch, logEvery: 1, saveEvery: "none", lr: 1e-4 },
    callbacks: [{ onLog: () => void stamps.push(performance.now()) }],
  });
  const w = trainer.world;
  await trainer.train();
  const ranks = w?.size ?? 1;
  const stepSeconds = (stamps[stamps.length - 1] - stamps[0]) / 1000 / (stamps.length - 1);
  const result: RankResult = {
    ranks,
    threads: Number(process.env.GRAFT_THREADS ?? cpus().length),
    tokensPerSecond: (ranks * batch * T) / stepSeconds,
    stepSeconds,
    exposedCommSeconds: trainer.reducer ? trainer.reducer.stats.exposedSeconds / trainer.reducer.stats.steps : 0,
    parameters: model.numParameters(),
  };
  if (w) {
    const grads = new Float32Array(model.numParameters());
    w.mpi.allreduce(grads);
    let t0 = performance.now();
    for (let i = 0; i < 5; i++) w.mpi.allreduce(grads);
    result.allreduceSeconds = (performance.now() - t0) / 1000 / 5;
    const one = new Float32Array(1);
    t0 = performance.now();
    for (let i = 0; i < 500; i++) w.mpi.allreduce(one);
    result.latencySeconds = (performance.now() - t0) / 1000 / 500;
  }
  if (!w || w.rank === 0) writeFileSync(out, JSON.stringify(result));
}

/** Runs one set-up and returns rank 0's measurements. */
function setup(np: number, threads: number, dir: string): RankResult {
  const out = join(dir, `np${np}-t${threads}.json`);
  const self = fileURLToPath(import.meta.url);
  const env = { ...process.env, GRAFT_BENCH_MPI_RANK: out, GRAFT_THREADS: String(threads) };
  const r =
    np === 1
      ? spawnSync(process.execPath, [self, String(steps), String(batch)], { env, stdio: "inherit" })
      : spawnSync("mpirun", mpirunArgs({ np }, [process.execPath, self, String(steps), String(batch)]), {
          env: mpirunEnv(env),
          stdio: "inherit",
        });
  if (r.status !== 0) throw new Error(`the ${np}-rank run failed (${r.status})`);
  return JSON.parse(readFileSync(out, "utf8")) as RankResult;
}

/** Ring all-reduce time of `bytes` on P ranks: 2(P−1)·α + 2(P−1)/P · bytes/β. */
function allreduceTime(P: number, bytes: number, alpha: number, beta: number): number {
  return P <= 1 ? 0 : 2 * (P - 1) * alpha + ((2 * (P - 1)) / P) * (bytes / beta);
}

async function main(): Promise<void> {
  if (!hasMpirun()) throw new Error("mpirun is not installed: apt-get install openmpi-bin libopenmpi-dev");
  const cores = cpus().length;
  const dir = mkdtempSync(join(tmpdir(), "graft-bench-mpi-"));
  try {
    const perCore = setup(1, 1, dir);
    const one = setup(1, cores, dir);
    const two = setup(2, Math.max(1, Math.floor(cores / 2)), dir);
    const day = new Date().toISOString().slice(0, 10);
    const cpu = cpus()[0]?.model ?? "unknown CPU";
    process.stdout.write(
      `${day}, ${cpu}, ${cores} cores, ${backend().name} backend: MLM pre-training at graft-base's size (${(one.parameters / 1e6).toFixed(1)}M parameters), ${batch} × ${T} tokens per rank, ${steps} steps\n`,
    );
    const row = (name: string, r: RankResult) =>
      `  ${name.padEnd(28)} ${r.tokensPerSecond.toFixed(0).padStart(7)} tokens/s   step ${r.stepSeconds.toFixed(2)} s   exposed all-reduce ${(r.exposedCommSeconds * 1000).toFixed(1)} ms/step\n`;
    process.stdout.write(row("1 rank × 1 thread", perCore));
    process.stdout.write(row(`1 rank × ${one.threads} threads (peer)`, one));
    process.stdout.write(row(`2 ranks × ${two.threads} thread(s)`, two));
    process.stdout.write(
      `  2 ranks / 1 rank on the same ${cores} cores: ${(two.tokensPerSecond / one.tokensPerSecond).toFixed(2)}× (the same cores do the same work: expect ≈1)\n`,
    );
    const bytes = two.parameters * 4;
    const latency = two.latencySeconds!;
    const beta = bytes / Math.max(1e-9, two.allreduceSeconds! - latency); // P = 2: T = 2α + bytes/β, one float ≈ 2α
    process.stdout.write(
      `  all-reduce of all gradients (${(bytes / 1e6).toFixed(1)} MB, 2 ranks, shared memory): ${(two.allreduceSeconds! * 1000).toFixed(1)} ms; one float: ${(latency * 1e6).toFixed(1)} µs → α ${((latency / 2) * 1e6).toFixed(1)} µs, β ${(beta / 1e9).toFixed(2)} GB/s\n`,
    );
    // projection: each rank computes B·T tokens at the per-core rate × its cores, then all-reduces without overlap
    const r1 = perCore.tokensPerSecond;
    const alpha = latency / 2;
    const B = PROJECTED_BATCH;
    const project = (P: number, coresPerRank: number, a: number, b: number) => {
      const compute = (B * T) / (r1 * coresPerRank);
      const comm = allreduceTime(P, bytes, a, b);
      return { tps: (P * B * T) / (compute + comm), compute, comm };
    };
    const net = { alpha: 50e-6, beta: 1.1e9 }; // 10 GbE between hosts (assumed, not measured)
    const rows: [string, ReturnType<typeof project>][] = [
      ["8 cores: 1 host, 8 ranks × 1 core (measured α, β)", project(8, 1, alpha, beta)],
      ["8 cores: 1 host, 1 rank × 8 threads", project(1, 8, alpha, beta)],
      ["64 cores: 8 hosts × 8 cores, 8 ranks (10 GbE)", project(8, 8, net.alpha, net.beta)],
      ["64 cores: 64 ranks × 1 core (10 GbE)", project(64, 1, net.alpha, net.beta)],
    ];
    process.stdout.write(
      `projection, B = ${B} blocks of ${T} per rank, tokens/s = P·B·T / (B·T / (c·${r1.toFixed(0)}) + 2(P−1)α + 2(P−1)/P · ${(bytes / 1e6).toFixed(1)} MB / β), linear in cores per rank, no overlap:\n`,
    );
    for (const [name, p] of rows)
      process.stdout.write(
        `  ${name.padEnd(52)} ${p.tps.toFixed(0).padStart(7)} tokens/s   compute ${(p.compute * 1000).toFixed(0)} ms + all-reduce ${(p.comm * 1000).toFixed(1)} ms per step\n`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rankOut = process.env.GRAFT_BENCH_MPI_RANK;
if (rankOut) {
  world(); // MPI starts before the model is built (one rank: none)
  await rank(rankOut);
} else await main();
