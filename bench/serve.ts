/**
 * graft serve under load: requests/s and p50/p95/p99 latency of POST /predict at 1, 8 and 64 concurrent
 * connections (autocannon on loopback) for the bundled model with a classification head, with short and 128-token
 * inputs, next to the library's own batch-32 throughput (loadPredictor in this process) as the reference ratio; then
 * the server's peak RSS after 1,000 requests and after --requests (default 5,000). The server is `graft serve`
 * in a child process; errors (non-2xx, timeouts) are counted and must be 0. Beside wall-clock rates it reports CPU
 * time per input (the server process's, all threads; the library's, this process's), which a shared, loaded
 * machine disturbs far less than wall time.
 *
 *   npm run bench -- serve [--duration 10] [--requests 20000] [--workers 1] [--model DIR]
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AutoModelForSequenceClassification } from "../src/models/index.js";
import { loadPredictor } from "../src/tasks/index.js";
import { loadTokenizer } from "../src/tokenizers/index.js";
import { bundled } from "../src/cli/bundled.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    requests: { type: "string", default: "5000" },
    workers: { type: "string", default: "1" },
    model: { type: "string" },
  },
});
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

const predictor = loadPredictor(modelDir);
const library: Record<string, number> = {};
/** The library's CPU milliseconds per text (all threads of this process). */
const libraryCpu: Record<string, number> = {};
for (const [name, text] of Object.entries(inputs)) {
  const batch = new Array<string>(32).fill(text);
  await predictor.predict(batch); // warm up
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < Math.min(5, duration) * 1000) {
    await predictor.predict(batch);
    n += 32;
  }
  const c = process.cpuUsage(c0);
  library[name] = n / ((performance.now() - t0) / 1000);
  libraryCpu[name] = (c.user + c.system) / 1000 / n;
  process.stderr.write(
    `library, ${name}: ${library[name].toFixed(1)} texts/s in batches of 32, ${libraryCpu[name].toFixed(2)} CPU ms each\n`,
  );
}

// ---- the server

const bin = fileURLToPath(new URL("../../bin/graft.js", import.meta.url));
const child = spawn(
  process.execPath,
  [bin, "serve", "--model", `clf=${modelDir}`, "--port", "0", "--workers", values.workers!, "--max-queue", "4096"],
  { stdio: ["ignore", "ignore", "pipe"] },
);
let stderr = "";
const base = await new Promise<string>((resolve, reject) => {
  child.stderr.on("data", (d) => {
    stderr += d;
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
    if (m) resolve(m[1]);
  });
  child.on("exit", (code) => reject(new Error(`graft serve exited (${code}): ${stderr}`)));
});

/** The server's peak resident memory so far (VmHWM), in MB. */
const peakRss = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** CPU seconds the server process has used (user + system, all threads; clock ticks of 10 ms). */
const serverCpu = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function load(text: string, connections: number, opts: { duration?: number; amount?: number }) {
  const latencies: number[] = [];
  const instance = autocannon({
    url: `${base}/predict`,
    method: "POST",
    headers: { "content-type": "application/json" },
    // the model takes 128 tokens: a longer text is cut to them, as the library cuts it
    body: JSON.stringify({ inputs: text, truncate: true }),
    connections,
    timeout: 30,
    ...opts,
  });
  instance.on("response", (_c, _s, _b, ms) => latencies.push(ms));
  const t0 = performance.now();
  const cpu0 = serverCpu();
  const r = await instance;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = serverCpu() - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    cpuMs: (cpu * 1000) / latencies.length,
    total: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

const rows: string[] = [];
let errors = 0;
try {
  await load(short, 8, { amount: 200 }); // warm up
  for (const [name, text] of Object.entries(inputs))
    for (const c of [1, 8, 64]) {
      const r = await load(text, c, { duration });
      errors += r.errors;
      rows.push(
        `| ${name} | ${c} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${(r.rps / library[name]).toFixed(2)} | ${r.cpuMs.toFixed(2)} | ${(libraryCpu[name] / r.cpuMs).toFixed(2)} |`,
      );
      process.stderr.write(`${name}, ${c} connections: ${r.rps.toFixed(1)} req/s\n`);
    }
  // memory: peak RSS after 1,000 requests, then after --requests in all
  const before = await load(short, 64, { amount: 1000 });
  const rss1k = peakRss();
  const after = await load(short, 64, { amount: Math.max(0, totalRequests - 1000) });
  errors += before.errors + after.errors;
  const rssN = peakRss();

  console.log(
    `graft serve --workers ${values.workers}, POST /predict, one input per request; ${cpus()[0].model}, ${cpus().length} cores; ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `library reference (loadPredictor, batches of 32, this process): short ${library.short.toFixed(1)} texts/s (${libraryCpu.short.toFixed(2)} CPU ms each), 128 tokens ${library["128 tokens"].toFixed(1)} texts/s (${libraryCpu["128 tokens"].toFixed(2)} CPU ms each)\n`,
  );
  console.log(
    "| input | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | ÷ library batch-32 (wall) | server CPU ms / request | library CPU ÷ server CPU |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
  console.log(
    `\npeak RSS of the server: ${rss1k.toFixed(0)} MB after 1,000 requests, ${rssN.toFixed(0)} MB after ${totalRequests.toLocaleString("en")} (×${(rssN / rss1k).toFixed(3)})`,
  );
  console.log(`errors: ${errors}`);
  if (errors > 0) process.exitCode = 1;
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  rmSync(work, { recursive: true, force: true });
}
