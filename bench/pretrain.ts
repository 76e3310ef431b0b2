/**
 * Pre-training throughput: tokens/s of masked-LM training at the bundled model's size (4 layers, hidden 256, vocabulary 12k, blocks of 128).
 *
 * `npm run bench -- pretrain [steps] [corpus...]`: trains from scratch with the bundled tokenizer on the given text
 * (default: ../shared/datasets/state_union) for `steps` optimizer steps of 32 blocks and reports the steady-state
 * rate (the first logged interval, which includes warm-up, is left out).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pretrain } from "../src/tasks/index.js";
import { backend } from "../src/backend/index.js";

const steps = Number(process.argv[2] ?? 30);
const corpus =
  process.argv.length > 3 ? process.argv.slice(3) : [join(process.cwd(), "..", "shared", "datasets", "state_union")];
const out = mkdtempSync(join(tmpdir(), "graft-bench-pretrain-"));
const rates: number[] = [];
try {
  await pretrain(
    {
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
  process.stdout.write(
    `${new Date().toISOString().slice(0, 10)}, ${backend().name} backend: masked-LM pre-training, mini (4×256, vocab 12k), batch 32 × 128 tokens: ${mean.toFixed(0)} tokens/s (${steps} steps)\n`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
