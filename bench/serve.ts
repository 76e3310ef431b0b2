/**
 * graft serve under load: requests/s and p50/p95/p99 latency of POST /predict at 1, 8 and 64 concurrent
 * connections (autocannon on loopback) for the bundled model with a classification head, with short and 128-token
 * inputs, next to the library's own batch-32 throughput (loadPredictor in this process) as the reference ratio and
 * next to the same model exported to ONNX and served by onnxruntime-node in a minimal Node server
 * (bench/peers/ort-server.ts), each cell measured on graft then on the peer, back to back; then the server's peak
 * RSS after 1,000 requests and after --requests (default 5,000); then generation: tokens/s of /v1/completions at
 * 1 and 8 concurrent requests on a GPT-2-shaped model with and without continuous batching. The servers are child
 * processes; errors (non-2xx, timeouts) are counted and must be 0. Beside wall-clock rates it reports CPU time per
 * input (the server process's, all threads; the library's, this process's), which a shared, loaded machine
 * disturbs far less than wall time.
 *
 * The ONNX export runs bench/serve_onnx.py (torch.onnx, checked in ONNX Runtime) under $GRAFT_PEER_PYTHON, or
 * /tmp/peers/bin/python, or python3, needing torch, transformers and onnxruntime; `--onnx FILE` reuses an export of
 * the same model (with --model). Without a Python that exports, or without onnxruntime-node, the peer is left out
 * and the reason printed.
 *
 *   npm run bench -- serve [--duration 10] [--requests 20000] [--workers 1] [--model DIR] [--onnx FILE]
 *     [--parts predict,generate] [--gen-tokens 32]
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AutoModelForSequenceClassification, GPT2LMHeadModel, makeConfig } from "../src/models/index.js";
import { loadPredictor } from "../src/tasks/index.js";
import { bytesToUnicode, loadTokenizer } from "../src/tokenizers/index.js";
import { Rng } from "../src/util/rng.js";
import { bundled } from "../src/cli/bundled.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    requests: { type: "string", default: "5000" },
    workers: { type: "string", default: "1" },
    model: { type: "string" },
    onnx: { type: "string" },
    parts: { type: "string", default: "predict,generate" },
    "gen-tokens": { type: "string", default: "32" },
  },
});
const parts = new Set(values.parts!.split(","));
const duration = Number(values.duration);
const totalRequests = Number(values.requests);

interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Instance = Promise<AutocannonResult> & {
  on(event: "response", f: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};
const autocannon = createRequire(import.meta.url)("autocannon") as (opts: Record<string, unknown>) => Instance;

// ---- the model: the bundled base model with a classification head (its weights do not change the speed)

const work = mkdtempSync(join(tmpdir(), "graft-bench-serve-"));
const modelDir = values.model ?? join(work, "classifier");
if (!values.model) {
  const base = bundled.model();
  const clf = AutoModelForSequenceClassification.fromPretrainedDir(base, { numLabels: 2 });
  clf.savePretrained(modelDir);
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
    if (existsSync(join(base, f))) copyFileSync(join(base, f), join(modelDir, f));
}

const short = "a gorgeous, witty film";
/** The shortest prefix of the bundled SMS sample with at least 128 tokens ([CLS] and [SEP] included). */
async function text128(): Promise<string> {
  const tok = loadTokenizer(modelDir);
  const words = readFileSync(bundled.train(), "utf8").split(/\s+/).filter(Boolean);
  for (let n = 64; ; n++) {
    const t = words.slice(0, n).join(" ");
    if ((await tok.encode(t)).ids.length >= 128) return t;
  }
}
const long = await text128();
const inputs = { short, "128 tokens": long };

// ---- the reference: the library's own throughput, 32 texts per predict

const library: Record<string, number> = {};
/** The library's CPU milliseconds per text (all threads of this process). */
const libraryCpu: Record<string, number> = {};
const predictor = parts.has("predict") ? loadPredictor(modelDir) : null;
for (const [name, text] of predictor ? Object.entries(inputs) : []) {
  const batch = new Array<string>(32).fill(text);
  await predictor!.predict(batch); // warm up
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < Math.min(5, duration) * 1000) {
    await predictor!.predict(batch);
    n += 32;
  }
  const c = process.cpuUsage(c0);
  library[name] = n / ((performance.now() - t0) / 1000);
  libraryCpu[name] = (c.user + c.system) / 1000 / n;
  process.stderr.write(
    `library, ${name}: ${library[name].toFixed(1)} texts/s in batches of 32, ${libraryCpu[name].toFixed(2)} CPU ms each\n`,
  );
}

const here = dirname(fileURLToPath(import.meta.url));
const bin = fileURLToPath(new URL("../../bin/graft.js", import.meta.url));

/** Starts a server in a child process; resolves with it and its address once it prints "listening on URL". */
function start(args: string[], name: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      stderr += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (m) resolve({ child, base: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`${name} exited (${code}): ${stderr}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** A process's peak resident memory so far (VmHWM), in MB. */
const peakRss = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** CPU seconds a process has used (user + system, all threads; clock ticks of 10 ms). */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

interface Cell {
  rps: number;
  cpuMs: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

async function load(
  server: { child: ChildProcess; base: string },
  text: string,
  connections: number,
  opts: { duration?: number; amount?: number },
): Promise<Cell> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: `${server.base}/predict`,
    method: "POST",
    headers: { "content-type": "application/json" },
    // the model takes 128 tokens: a longer text is cut to them, as the library cuts it
    body: JSON.stringify({ inputs: text, truncate: true }),
    connections,
    timeout: 30,
    ...opts,
  });
  instance.on("response", (_c, _s, _b, ms) => latencies.push(ms));
  const pid = server.child.pid!;
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  const r = await instance;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    cpuMs: (cpu * 1000) / latencies.length,
    errors: r.errors + r.timeouts + r.non2xx,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

/** A figure, or "–" where none could be measured (no request finished in the cell). */
const num = (v: number, digits = 1) => (Number.isFinite(v) && v > 0 ? v.toFixed(digits) : "–");
const fmt = (c: Cell) => `${num(c.rps)} | ${num(c.p50)} | ${num(c.p95)} | ${num(c.p99)} | ${c.errors}`;

// ---- the peer: the same model in ONNX, served by onnxruntime-node

/** The exported model file, or why there is none. */
function exportOnnx(): { file: string } | { skipped: string } {
  if (values.onnx) return existsSync(values.onnx) ? { file: values.onnx } : { skipped: `no file ${values.onnx}` };
  try {
    createRequire(import.meta.url)("onnxruntime-node");
  } catch (e) {
    return { skipped: `onnxruntime-node does not load: ${(e as Error).message.split("\n")[0]}` };
  }
  const file = join(work, "model.onnx");
  const script = join(here, "..", "..", "bench", "serve_onnx.py");
  const tried: string[] = [];
  for (const py of [process.env.GRAFT_PEER_PYTHON, "/tmp/peers/bin/python", "python3"]) {
    if (!py) continue;
    const r = spawnSync(py, [script, modelDir, file], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status === 0 && existsSync(file)) {
      const line = r.stdout.trim().split("\n").at(-1)!;
      process.stderr.write(`onnx export: ${line}\n`);
      return { file };
    }
    tried.push(`${py}: ${(r.error?.message ?? r.stderr).trim().split("\n").at(-1)}`);
  }
  return { skipped: `no Python exported the model (${tried.join("; ")})` };
}

const errors: number[] = [];
const rows: string[] = [];
const peerRows: string[] = [];
let peerNote = "";
let memory = "";

if (parts.has("predict")) {
  const graft = await start(
    [bin, "serve", "--model", `clf=${modelDir}`, "--port", "0", "--workers", values.workers!, "--max-queue", "4096"],
    "graft serve",
  );
  const onnx = exportOnnx();
  const peer =
    "file" in onnx
      ? await start([join(here, "peers", "ort-server.js"), onnx.file, modelDir], "the onnxruntime-node server")
      : null;
  if (!peer) peerNote = `onnxruntime-node peer left out: ${(onnx as { skipped: string }).skipped}`;
  try {
    if (peer) {
      // both serve the same model: the same scores for the same text
      const ask = async (base: string) =>
        (await (
          await fetch(`${base}/predict`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ inputs: long, truncate: true }),
          })
        ).json()) as { label: string; score: number }[];
      const [a, b] = [await ask(graft.base), await ask(peer.base)];
      const diff = Math.max(...a.map((x) => Math.abs(x.score - b.find((y) => y.label === x.label)!.score)));
      peerNote = `same model in both servers: largest |score difference| on the 128-token text ${diff.toExponential(1)}`;
      await load(peer, short, 8, { amount: 200 }); // warm up
    }
    await load(graft, short, 8, { amount: 200 }); // warm up
    for (const [name, text] of Object.entries(inputs))
      for (const c of [1, 8, 64]) {
        const r = await load(graft, text, c, { duration });
        errors.push(r.errors);
        rows.push(
          `| ${name} | ${c} | ${fmt(r)} | ${num(r.rps / library[name], 2)} | ${num(r.cpuMs, 2)} | ${num(libraryCpu[name] / r.cpuMs, 2)} |`,
        );
        process.stderr.write(`graft, ${name}, ${c} connections: ${r.rps.toFixed(1)} req/s\n`);
        if (!peer) continue;
        const o = await load(peer, text, c, { duration });
        errors.push(o.errors);
        peerRows.push(
          `| ${name} | ${c} | ${fmt(o)} | ${num(o.cpuMs, 2)} | ${num(r.rps / o.rps, 2)} | ${num(o.p50 / r.p50, 2)} | ${num(o.cpuMs / r.cpuMs, 2)} |`,
        );
        process.stderr.write(`onnxruntime-node, ${name}, ${c} connections: ${o.rps.toFixed(1)} req/s\n`);
      }
    if (peer) await stop(peer.child);
    // memory: peak RSS after 1,000 requests, then after --requests in all
    const before = await load(graft, short, 64, { amount: 1000 });
    const rss1k = peakRss(graft.child.pid!);
    const after = await load(graft, short, 64, { amount: Math.max(0, totalRequests - 1000) });
    errors.push(before.errors, after.errors);
    const rssN = peakRss(graft.child.pid!);
    memory = `peak RSS of the server: ${rss1k.toFixed(0)} MB after 1,000 requests, ${rssN.toFixed(0)} MB after ${totalRequests.toLocaleString("en")} (×${(rssN / rss1k).toFixed(3)})`;
  } finally {
    await stop(graft.child);
    if (peer) await stop(peer.child);
  }
}

// ---- generation: continuous batching on and off

const genRows: string[] = [];
const genTokens = Number(values["gen-tokens"]);
if (parts.has("generate")) {
  // a GPT-2-shaped model (bench/generate.ts's shape) over a byte-level vocabulary with no end token, random weights
  const lmDir = join(work, "lm");
  mkdirSync(lmDir);
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((char, byte) => {
    vocab[char] = byte;
  });
  writeFileSync(join(lmDir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(lmDir, "merges.txt"), "#version: 0.2\n");
  const shape = { vocab_size: 256, n_positions: 256, n_embd: 256, n_layer: 4, n_head: 4 };
  new GPT2LMHeadModel(makeConfig("gpt2", { ...shape, eos_token_id: null, bos_token_id: null }), {
    rng: new Rng(1),
  }).savePretrained(lmDir);
  const serve = (extra: string[]) =>
    start(
      // no per-request timeout: on a loaded machine 8 generations decoded one by one can outlast the default 30 s
      [
        bin,
        "serve",
        "--model",
        `lm=${lmDir}`,
        "--port",
        "0",
        "--workers",
        values.workers!,
        "--timeout-ms",
        "0",
        ...extra,
      ],
      "graft serve",
    );
  const on = await serve([]);
  const off = await serve(["--no-continuous-batching"]);
  /**
   * New tokens per second over `seconds` with `concurrent` clients each sending one request after another, and the
   * server's CPU milliseconds per new token.
   */
  const generate = async (server: { child: ChildProcess; base: string }, concurrent: number, seconds: number) => {
    const base = server.base;
    let tokens = 0;
    let failed = 0;
    const cpu0 = cpuSeconds(server.child.pid!);
    const t0 = performance.now();
    const client = async (i: number) => {
      while (performance.now() - t0 < seconds * 1000) {
        const r = await fetch(`${base}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ prompt: `Once upon a time ${i}`, max_tokens: genTokens, temperature: 0 }),
        });
        if (!r.ok) failed++;
        else tokens += ((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens;
      }
    };
    await Promise.all(Array.from({ length: concurrent }, (_, i) => client(i)));
    const cpuMs = ((cpuSeconds(server.child.pid!) - cpu0) * 1000) / tokens;
    return { tps: tokens / ((performance.now() - t0) / 1000), cpuMs, failed };
  };
  try {
    await generate(on, 2, 1); // warm up
    await generate(off, 2, 1);
    for (const c of [1, 8]) {
      const a = await generate(on, c, duration);
      const b = await generate(off, c, duration);
      errors.push(a.failed, b.failed);
      genRows.push(
        `| ${c} | ${num(a.tps)} | ${num(b.tps)} | ${num(a.tps / b.tps, 2)} | ${num(a.cpuMs, 2)} | ${num(b.cpuMs, 2)} | ${num(b.cpuMs / a.cpuMs, 2)} |`,
      );
      process.stderr.write(`generation, ${c} concurrent: ${a.tps.toFixed(1)} vs ${b.tps.toFixed(1)} tokens/s\n`);
    }
  } finally {
    await stop(on.child);
    await stop(off.child);
  }
}

try {
  console.log(
    `graft serve --workers ${values.workers}; ${cpus()[0].model}, ${cpus().length} cores; ${new Date().toISOString().slice(0, 10)}`,
  );
  if (parts.has("predict")) {
    console.log(
      `\nPOST /predict, one input per request. Library reference (loadPredictor, batches of 32, this process): short ${library.short.toFixed(1)} texts/s (${libraryCpu.short.toFixed(2)} CPU ms each), 128 tokens ${library["128 tokens"].toFixed(1)} texts/s (${libraryCpu["128 tokens"].toFixed(2)} CPU ms each)\n`,
    );
    console.log(
      "| input | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | ÷ library batch-32 (wall) | server CPU ms / request | library CPU ÷ server CPU |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of rows) console.log(r);
    console.log(`\n${peerNote}`);
    if (peerRows.length) {
      console.log(
        "\nonnxruntime-node (minimal Node server, one session.run per request), each cell measured right after graft's:\n",
      );
      console.log(
        "| input | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms / request | graft ÷ onnxruntime-node (requests/s) | onnxruntime-node ÷ graft (p50) | onnxruntime-node ÷ graft (CPU / request) |",
      );
      console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
      for (const r of peerRows) console.log(r);
    }
    console.log(`\n${memory}`);
  }
  if (parts.has("generate")) {
    console.log(
      `\nPOST /v1/completions, ${genTokens} new tokens (greedy) per request, GPT-2 shape (4 layers, hidden 256, 4 heads), each client sending one request after another:\n`,
    );
    console.log(
      "| concurrent requests | tokens/s, continuous batching | tokens/s, each alone | ratio | server CPU ms / token, continuous | server CPU ms / token, alone | ratio (alone ÷ continuous) |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const r of genRows) console.log(r);
  }
  const total = errors.reduce((a, b) => a + b, 0);
  console.log(`\nerrors: ${total}`);
  if (total > 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
