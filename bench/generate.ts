/**
 * Generation throughput: new tokens/s for greedy decoding and beam search (4 beams) at batch 1 and 32, with and without the KV cache, next to transformers' generate() on the same GPT-2-shaped model.
 *
 * `npm run bench -- generate [newTokens] [promptLength]`: a GPT-2-shaped model with random weights (4 layers, hidden
 * 256, 4 heads, vocabulary 8192, 256 positions), prompts of random token ids (default 16 tokens, 32 new ones, no end
 * token so every row runs to the end). tokens/s counts the tokens returned (batch × new tokens), not the beams'.
 * Best of 2 runs after a warm-up. The peer runs bench/generate.py under the first Python that imports torch and
 * transformers: $GRAFT_PEER_PYTHON, /tmp/peers/bin/python (BENCHMARKS.md's recipe), python3; without one graft is
 * shown alone.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { manualSeed, Rng } from "../src/util/rng.js";
import { GPT2LMHeadModel, generate, makeConfig } from "../src/models/index.js";
import { backend } from "../src/backend/index.js";
import { peerPython } from "./lib/common.js";

const NEW = Number(process.argv[2] ?? 32);
const PROMPT = Number(process.argv[3] ?? 16);
const SHAPE = { vocab_size: 8192, n_positions: 256, n_embd: 256, n_layer: 4, n_head: 4 };
const CASES: { beams: number; batch: number; cache: boolean }[] = [];
for (const beams of [1, 4])
  for (const batch of [1, 32]) for (const cache of [true, false]) CASES.push({ beams, batch, cache });
const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  beams: number;
  batch: number;
  cache: boolean;
  tokens_per_s: number;
}

function measureGraft(): Row[] {
  manualSeed(0);
  const model = new GPT2LMHeadModel(makeConfig("gpt2", { ...SHAPE, eos_token_id: null, pad_token_id: 0 }));
  model.eval();
  const r = new Rng(1);
  const out: Row[] = [];
  for (const c of CASES) {
    const prompts = Array.from({ length: c.batch }, () =>
      Array.from({ length: PROMPT }, () => 1 + r.int(SHAPE.vocab_size - 1)),
    );
    const run = () => {
      const t0 = performance.now();
      const g = generate(model, prompts, { maxNewTokens: NEW, numBeams: c.beams, useCache: c.cache, eosTokenId: null });
      const s = (performance.now() - t0) / 1000;
      if (g.newTokens[0].length !== NEW) throw new Error("a row ended early");
      return (c.batch * NEW) / s;
    };
    run(); // warm-up
    out.push({ ...c, tokens_per_s: Math.max(run(), run()) });
  }
  return out;
}

const py = peerPython();
const g = measureGraft();
let peer: Row[] | string | null = null;
if (py) {
  const p = spawnSync(py, [join(here, "..", "..", "bench", "generate.py"), String(NEW), String(PROMPT)], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "passive" },
    maxBuffer: 1 << 20,
  });
  peer =
    p.status === 0
      ? (JSON.parse(p.stdout.trim().split("\n").slice(-1)[0]) as Row[])
      : (p.stderr || "failed").trim().split("\n").slice(-1)[0];
}
process.stdout.write(
  `date ${new Date().toISOString().slice(0, 10)}, ${backend().name} backend, GPT-2 shape 4×256, vocab 8192, prompt ${PROMPT}, ${NEW} new tokens\n`,
);
if (!py) process.stdout.write("note: no Python with torch and transformers found; showing graft alone\n");
if (typeof peer === "string") process.stdout.write(`note: the transformers peer failed: ${peer}\n`);
process.stdout.write("search | batch | KV cache | graft tokens/s | transformers tokens/s | ratio\n");
for (const row of g) {
  const t = Array.isArray(peer)
    ? peer.find((x) => x.beams === row.beams && x.batch === row.batch && x.cache === row.cache)
    : undefined;
  process.stdout.write(
    `${row.beams === 1 ? "greedy" : `beam ${row.beams}`} | ${row.batch} | ${row.cache ? "on" : "off"} | ${row.tokens_per_s.toFixed(0)} | ${t ? t.tokens_per_s.toFixed(0) : "-"} | ${t ? `${(row.tokens_per_s / t.tokens_per_s).toFixed(2)}×` : "-"}\n`,
  );
}
