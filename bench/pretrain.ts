/**
 * Pre-training throughput: tokens/s of masked-LM and ELECTRA training at the bundled model's size (4 layers,
 * hidden 256, vocabulary 12k, blocks of 128; ELECTRA adds a generator of a quarter the width).
 *
 * `npm run bench -- pretrain [steps] [corpus...]`: trains from scratch with the bundled tokenizer on the given text
 * (default: ../shared/datasets/state_union) for `steps` optimizer steps of 32 blocks with each objective
 * (GRAFT_BENCH_OBJECTIVES, default "mlm,electra") and reports the steady-state rate (the first logged interval,
 * which includes warm-up, is left out), and ELECTRA's rate as a ratio of masked LM's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pretrain } from "../src/tasks/index.js";
import { backend } from "../src/backend/index.js";

const steps = Number(process.argv[2] ?? 30);
const corpus =
  process.argv.length > 3 ? process.argv.slice(3) : [join(process.cwd(), "..", "shared", "datasets", "state_union")];
const objectives = (process.env.GRAFT_BENCH_OBJECTIVES ?? "mlm,electra").split(",") as ("mlm" | "electra")[];
const results = new Map<string, number>();
for (const objective of objectives) {
  const out = mkdtempSync(join(tmpdir(), "graft-bench-pretrain-"));
  const rates: number[] = [];
  try {
    await pretrain(
      {
        objective,
        corpus,
        tokenizer: "models/graft-base",
        preset: "mini",
        blockSize: 128,
        output: out,
        training: { maxSteps: steps, batchSize: 32, logEvery: 5, evalEvery: 100000, saveEvery: 100000 },
      },
      { callbacks: [{ onLog: (_t, r) => void rates.push(Number(r.examples_per_s) * 128) }] },
    );
    const steady = rates.slice(1);
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    results.set(objective, mean);
    process.stdout.write(
      `${new Date().toISOString().slice(0, 10)}, ${backend().name} backend: ${objective} pre-training, mini (4×256, vocab 12k), batch 32 × 128 tokens: ${mean.toFixed(0)} tokens/s (${steps} steps)\n`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
if (results.has("mlm") && results.has("electra"))
  process.stdout.write(
    `electra / mlm tokens/s: ${(results.get("electra")! / results.get("mlm")!).toFixed(2)} (the generator's forward and backward, and the discriminator's over every token)\n`,
  );
