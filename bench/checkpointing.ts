/**
 * Peak memory and time of a training step with and without activation checkpointing (`--gradient-checkpointing`), on a GPT-2-shaped model with random weights.
 *
 * `npm run bench -- checkpointing [--layers 6] [--hidden 256] [--heads 4] [--seq 512] [--batch 4] [--steps 3]`.
 * Each setting runs in a fresh process: forward + backward of the language-modelling loss with dropout on (train
 * mode), `steps` times; the peak RSS (resource maxRSS) and the median step time are printed side by side.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Tensor } from "../src/tensor/index.js";
import { GPT2LMHeadModel, makeConfig } from "../src/models/index.js";
import { Rng } from "../src/util/rng.js";

interface Opts {
  layers: number;
  hidden: number;
  heads: number;
  seq: number;
  batch: number;
  steps: number;
}

function parse(argv: string[]): { o: Opts; child: string | null } {
  const o: Opts = { layers: 6, hidden: 256, heads: 4, seq: 512, batch: 4, steps: 3 };
  let child: string | null = null;
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--child") {
      child = v;
      continue;
    }
    const key = k.replace(/^--/, "") as keyof Opts;
    const n = Number(v);
    if (!(key in o) || !Number.isInteger(n) || n < 1) throw new Error(`checkpointing bench: bad argument ${k} ${v}`);
    o[key] = n;
  }
  return { o, child };
}

function runChild(mode: string, o: Opts): void {
  const rng = new Rng(0);
  const model = new GPT2LMHeadModel(
    makeConfig("gpt2", {
      vocab_size: 1000,
      n_positions: o.seq,
      n_embd: o.hidden,
      n_layer: o.layers,
      n_head: o.heads,
    }),
    { rng },
  ).train();
  if (mode === "checkpointing") model.gradientCheckpointingEnable();
  const ids = new Tensor(
    Int32Array.from({ length: o.batch * o.seq }, () => rng.int(1000)),
    [o.batch, o.seq],
  );
  const base = process.memoryUsage().rss / 2 ** 20;
  const ms: number[] = [];
  for (let s = 0; s < o.steps; s++) {
    const t0 = performance.now();
    model.forward({ inputIds: ids, labels: ids }).loss!.backward();
    for (const p of model.parameters()) p.grad = null;
    ms.push(performance.now() - t0);
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ mode, step_ms: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)], peak_mb: peak, base_mb: base })}\n`,
  );
}

const { o, child } = parse(process.argv.slice(2));
if (child) runChild(child, o);
else {
  process.stdout.write(
    `checkpointing: GPT-2 shape, ${o.layers} layers, hidden ${o.hidden}, ${o.heads} heads, batch ${o.batch} × ${o.seq} tokens, ${o.steps} steps (median)\n`,
  );
  const rows: { mode: string; step_ms: number; peak_mb: number; base_mb: number }[] = [];
  for (const mode of ["plain", "checkpointing"]) {
    const args = [fileURLToPath(import.meta.url), "--child", mode];
    for (const [k, v] of Object.entries(o)) args.push(`--${k}`, String(v));
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) throw new Error(`checkpointing bench: ${mode} failed:\n${r.stderr}`);
    rows.push(JSON.parse(line));
  }
  process.stdout.write("| mode | step ms | peak RSS MB | RSS before the steps MB |\n| --- | --- | --- | --- |\n");
  for (const r of rows)
    process.stdout.write(
      `| ${r.mode} | ${r.step_ms.toFixed(0)} | ${r.peak_mb.toFixed(0)} | ${r.base_mb.toFixed(0)} |\n`,
    );
  const [p, c] = rows;
  process.stdout.write(
    `checkpointing: peak RSS ${(c.peak_mb / p.peak_mb).toFixed(2)}× of plain (growth over the start ${((c.peak_mb - c.base_mb) / (p.peak_mb - p.base_mb)).toFixed(2)}×), step time ${(c.step_ms / p.step_ms).toFixed(2)}×\n`,
  );
}
