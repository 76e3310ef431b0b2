/**
 * Pre-training throughput: tokens/s of masked-LM and ELECTRA training at the bundled model's size (4 layers,
 * hidden 256, vocabulary 12k, blocks of 128; ELECTRA adds a generator of a quarter the width).
 *
 * `npm run bench -- pretrain [steps] [corpus...]`: trains from scratch with the bundled tokenizer on the given text
 * (default: ../shared/datasets/state_union) for `steps` optimizer steps of 32 blocks with each objective
 * (GRAFT_BENCH_OBJECTIVES, default "mlm,electra") and reports the steady-state rate (the first logged interval,
 * which includes warm-up, is left out), and ELECTRA's rate as a ratio of masked LM's. Each objective runs at every
 * precision of GRAFT_BENCH_PRECISIONS (default "fp32,bf16": `--precision bf16`, bf16 matrix products).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pretrain } from "../src/tasks/index.js";
import { backend } from "../src/backend/index.js";
import { cpuLine, today } from "./lib/common.js";

const steps = Number(process.argv[2] ?? 30);
const corpus =
  process.argv.length > 3 ? process.argv.slice(3) : [join(process.cwd(), "..", "shared", "datasets", "state_union")];
const objectives = (process.env.GRAFT_BENCH_OBJECTIVES ?? "mlm,electra").split(",") as ("mlm" | "electra")[];
const precisions = (process.env.GRAFT_BENCH_PRECISIONS ?? "fp32,bf16").split(",") as ("fp32" | "bf16")[];
const results = new Map<string, number>();
process.stdout.write(`# pretrain, ${today()}; ${cpuLine()}\n`);
for (const precision of precisions)
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
          training: { maxSteps: steps, batchSize: 32, logEvery: 5, evalEvery: 100000, saveEvery: 100000, precision },
        },
        { callbacks: [{ onLog: (_t, r) => void rates.push(Number(r.examples_per_s) * 128) }] },
      );
      const steady = rates.slice(1);
      const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
      results.set(`${objective} ${precision}`, mean);
      process.stdout.write(
        `${backend().name} backend: ${objective} pre-training at ${precision}, mini (4×256, vocab 12k), batch 32 × 128 tokens: ${mean.toFixed(0)} tokens/s (${steps} steps)\n`,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
for (const precision of precisions)
  if (results.has(`mlm ${precision}`) && results.has(`electra ${precision}`))
    process.stdout.write(
      `${precision}: electra / mlm tokens/s ${(results.get(`electra ${precision}`)! / results.get(`mlm ${precision}`)!).toFixed(2)} (the generator's forward and backward, and the discriminator's over every token)\n`,
    );
for (const objective of objectives)
  if (results.has(`${objective} fp32`) && results.has(`${objective} bf16`))
    process.stdout.write(
      `${objective}: bf16 / fp32 tokens/s ${(results.get(`${objective} bf16`)! / results.get(`${objective} fp32`)!).toFixed(2)}\n`,
    );
