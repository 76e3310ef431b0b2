/**
 * Fault campaign: runs killed with SIGKILL and resumed, a full disk, and fuzzers of every file reader.
 *
 * `npm run bench -- faults [--kills N] [--seconds S] [--seed K] [--only kill,disk,fuzz] [--keep-crashes DIR]`, deterministic given its
 * seed (kill moments, mutations), opt-in (never run by `npm test`); every temporary directory and child it starts is
 * removed or ended before it exits.
 * 1. SIGKILL: a fine-tuning (a tiny BERT on a generated CSV), a pre-training (tiny preset, a generated corpus) and a
 *    tuning study (builtin:noisy-quadratic) each run once uninterrupted as the reference; then N runs in all (spread
 *    over the three) are killed at a moment drawn uniformly over the reference's duration and resumed with
 *    `--resume` until they complete (a run killed before it wrote its run record is started again with
 *    `--overwrite`). A resume counts as identical when the final and best model.safetensors are byte-identical to
 *    the reference's (for the study: every trial's parameters and values).
 * 2. Full disk (root only: a small tmpfs): a fine-tuning whose checkpoints do not fit must fail naming the path and
 *    the space, leave no `*.tmp-*`, and complete with `--resume` once the tmpfs is enlarged.
 * 3. Fuzzers, S seconds each, in a child process (so that an abort is counted too): mutated safetensors files,
 *    model directories (config.json, tokenizer.json), CSV / JSONL / CoNLL data files and prediction files of
 *    `graft score`, fed to graft's readers; a crash is an exception that is not a GraftError, or a process abort.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../src/util/rng.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const graftBin = join(root, "bin", "graft.js");

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) ? v : dflt;
};
const kills = flag("--kills", 50);
const seconds = flag("--seconds", 30);
const seed = flag("--seed", 1);
const keep = args.includes("--keep-crashes") ? resolve(args[args.indexOf("--keep-crashes") + 1]!) : undefined;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : ["kill", "disk", "fuzz"];

// ---------------------------------------------------------------------------------------------- fixtures

const POS = ["good", "great", "fine", "lovely", "superb"];
const NEG = ["bad", "awful", "poor", "dull", "terrible"];
const FILL = ["the", "movie", "was", "plot", "actors", "and", "very", "really", "it", "a", "film", "story"];
const NAMES = ["alice", "bob", "carol", "dave"];
const PLACES = ["paris", "rome", "oslo"];

async function makeTinyBert(dir: string): Promise<void> {
  const { makeConfig, AutoModelForMaskedLM } = await import("../src/models/index.js");
  const { manualSeed } = await import("../src/util/rng.js");
  mkdirSync(dir, { recursive: true });
  const words = [...POS, ...NEG, ...FILL, ...NAMES, ...PLACES, "visited", "met", "in", ".", ","];
  writeFileSync(join(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...words].join("\n") + "\n");
  manualSeed(1);
  const config = makeConfig("bert", {
    vocab_size: words.length + 5,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  });
  AutoModelForMaskedLM.fromConfig(config).savePretrained(dir);
}

const words = (r: Rng, from: string[], n: number) => Array.from({ length: n }, () => from[r.int(from.length)]!);

function sentimentCsv(path: string, n: number, r: Rng): void {
  const lines = ["text,label"];
  for (let i = 0; i < n; i++) {
    const pos = r.uniform() < 0.5;
    const w = words(r, FILL, 3 + r.int(4));
    w.splice(r.int(w.length + 1), 0, (pos ? POS : NEG)[r.int(5)]!);
    lines.push(`${w.join(" ")},${pos ? "pos" : "neg"}`);
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

function regressionJsonl(path: string, n: number, r: Rng): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(4);
    lines.push(JSON.stringify({ text: [...words(r, FILL, 3), ...words(r, POS, k)].join(" "), label: k }));
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

function nerConll(path: string, n: number, r: Rng): void {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      `${NAMES[r.int(4)]} B-PER`,
      `${r.uniform() < 0.5 ? "visited" : "met"} O`,
      `${PLACES[r.int(3)]} B-LOC`,
      ". O",
      "",
    );
  }
  writeFileSync(path, out.join("\n"));
}

function corpus(dir: string, n: number, r: Rng): void {
  mkdirSync(dir, { recursive: true });
  const all = [...POS, ...NEG, ...FILL, ...NAMES, ...PLACES];
  const lines = Array.from({ length: n }, () => words(r, all, 5 + r.int(10)).join(" "));
  writeFileSync(join(dir, "a.txt"), lines.join("\n") + "\n");
}

// ---------------------------------------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();
const mounts: string[] = [];
let tmp: string | undefined;

function cleanup(): void {
  for (const c of children) c.kill("SIGKILL");
  for (const m of mounts.splice(0)) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {}
  }
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Runs a node script; with killAfterMs, sends SIGKILL then (unless it exited first). */
function runNode(argv: string[], killAfterMs?: number, timeoutMs = 600_000): Promise<Exit> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: tmp });
    children.add(child);
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timers = [
      killAfterMs !== undefined
        ? setTimeout(() => {
            killed = child.exitCode === null && child.signalCode === null;
            child.kill("SIGKILL");
          }, killAfterMs)
        : undefined,
      setTimeout(() => child.kill("SIGKILL"), timeoutMs),
    ];
    child.on("close", (code, signal) => {
      for (const t of timers) if (t) clearTimeout(t);
      children.delete(child);
      done({ code, signal, stdout, stderr, ms: performance.now() - t0, killed });
    });
  });
}
const graft = (argv: string[], killAfterMs?: number) => runNode([graftBin, ...argv], killAfterMs);
const tail = (s: string, n = 400) => s.trim().slice(-n).replace(/\s+/g, " ");

// ---------------------------------------------------------------------------------------------- 1. SIGKILL

interface Job {
  name: string;
  start(out: string): string[];
  resume(out: string): string[];
  /** Whether a resume is possible (the run record exists); otherwise the run starts over. */
  resumable(out: string): boolean;
  fresh(out: string): string[];
  /** What must be identical to the reference. */
  result(out: string): string;
}

function newestCheckpoint(out: string): string {
  const dir = join(out, "checkpoints");
  const steps = readdirSync(dir)
    .filter((d) => /^step-\d+$/.test(d))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return join(dir, steps.at(-1)!);
}
const weightsDigest = (out: string) => {
  const files = [join(out, "best", "model.safetensors"), join(newestCheckpoint(out), "model.safetensors")];
  return files.map((f) => `${f.slice(out.length + 1)} ${readFileSync(f).toString("base64")}`).join("\n");
};

function jobs(dir: string): Job[] {
  const model = join(dir, "tiny-bert");
  const csv = join(dir, "train.csv");
  const corpusDir = join(dir, "corpus");
  const ft = (out: string) => [
    "finetune",
    ...["--model", model, "--data", csv, "--output", out, "--max-steps", "48", "--batch-size", "8"],
    ...["--save-every", "4", "--eval-every", "12", "--max-length", "16", "--lr", "2e-4", "--quiet"],
  ];
  const pt = (out: string) => [
    "pretrain",
    ...["--preset", "tiny", "--corpus", corpusDir, "--output", out, "--max-steps", "40", "--save-every", "5"],
    ...["--eval-every", "10", "--block-size", "32", "--batch-size", "8", "--vocab-size", "200"],
    ...["--validation-fraction", "0.2", "--quiet"],
  ];
  const tune = (out: string) => [
    "tune",
    ...["--objective", "builtin:noisy-quadratic", "--trials", "16", "--seed", "3", "--dir", out, "--quiet", "--json"],
  ];
  return [
    {
      name: "finetune",
      start: ft,
      fresh: (o) => [...ft(o), "--overwrite"],
      resume: (o) => ["finetune", "--resume", o, "--quiet"],
      resumable: (o) => existsSync(join(o, "run.json")),
      result: weightsDigest,
    },
    {
      name: "pretrain",
      start: pt,
      fresh: (o) => [...pt(o), "--overwrite"],
      resume: (o) => ["pretrain", "--resume", o, "--quiet"],
      resumable: (o) => existsSync(join(o, "run.json")),
      result: weightsDigest,
    },
    {
      name: "tune",
      start: tune,
      fresh: (o) => {
        rmSync(o, { recursive: true, force: true });
        return tune(o);
      },
      resume: (o) => ["tune", "--resume", o, "--quiet", "--json"],
      resumable: (o) => existsSync(join(o, "study.sqlite")),
      result: (o) => {
        const board = JSON.parse(readFileSync(join(o, "leaderboard.json"), "utf8")) as unknown;
        // wall-clock fields differ between runs, and a trial cut short by the kill is recorded as its 2nd attempt;
        // everything else (trial numbers, states, parameters, intermediate and final values) must not
        return JSON.stringify(board, (k, v) =>
          /seconds|time|duration|start|end|date|^attempt$/i.test(k) ? undefined : v,
        );
      },
    },
  ];
}

interface KillRow {
  job: string;
  runs: number;
  identical: number;
  exitedBeforeKill: number;
  restarts: number;
  resumes: number;
  refMs: number;
  refused: number;
  identicalAfterRestart: number;
  failures: string[];
}

async function killCampaign(dir: string, rng: Rng): Promise<KillRow[]> {
  const r = new Rng(seed);
  await makeTinyBert(join(dir, "tiny-bert"));
  sentimentCsv(join(dir, "train.csv"), 160, r);
  corpus(join(dir, "corpus"), 400, r);
  const list = jobs(dir);
  const rows: KillRow[] = [];
  for (const [j, job] of list.entries()) {
    const n = Math.floor(kills / list.length) + (j < kills % list.length ? 1 : 0);
    const refOut = join(dir, `${job.name}-ref`);
    const ref = await graft(job.start(refOut));
    if (ref.code !== 0) throw new Error(`${job.name} reference run failed: ${tail(ref.stderr)}`);
    const expected = job.result(refOut);
    const row: KillRow = {
      job: job.name,
      runs: 0,
      identical: 0,
      exitedBeforeKill: 0,
      restarts: 0,
      resumes: 0,
      refMs: ref.ms,
      refused: 0,
      identicalAfterRestart: 0,
      failures: [],
    };
    rows.push(row);
    for (let i = 0; i < n; i++) {
      const out = join(dir, `${job.name}-${i}`);
      const at = Math.round(rng.uniform() * ref.ms);
      const first = await graft(job.start(out), at);
      row.runs++;
      if (!first.killed) row.exitedBeforeKill++;
      let last = first;
      let attempts = 0;
      let refused: string | undefined;
      while (last.killed || last.code !== 0) {
        if (attempts++ >= 4) break;
        if (job.resumable(out) && refused === undefined) {
          row.resumes++;
          last = await graft(job.resume(out));
          if (last.code !== 0) refused = tail(last.stderr);
        } else {
          // never started far enough to resume, or its resume was refused: start over (--overwrite)
          row.restarts++;
          last = await graft(job.fresh(out));
        }
      }
      let verdict: string;
      if (last.code !== 0) verdict = `did not complete: ${tail(last.stderr)}`;
      else if (refused !== undefined) {
        row.refused++;
        const same = job.result(out) === expected;
        verdict = `--resume refused (${refused}); started over, ${same ? "identical" : "weights differ"}`;
        if (same) row.identicalAfterRestart++;
      } else {
        try {
          verdict = job.result(out) === expected ? "identical" : "weights differ from the reference";
        } catch (e) {
          verdict = `no result: ${(e as Error).message}`;
        }
      }
      if (verdict === "identical") row.identical++;
      else row.failures.push(`${job.name} #${i}: killed at ${at} ms of ${Math.round(ref.ms)}: ${verdict}`);
      process.stderr.write(`  ${job.name} #${i} kill at ${at} ms: ${verdict}\n`);
      rmSync(out, { recursive: true, force: true });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------- 2. full disk

async function fullDisk(dir: string): Promise<string[]> {
  const notes: string[] = [];
  if (process.getuid?.() !== 0) return ["skipped: mounting a tmpfs needs root"];
  const mnt = join(dir, "small-disk");
  mkdirSync(mnt);
  const model = join(dir, "tiny-bert");
  if (!existsSync(model)) await makeTinyBert(model);
  const csv = join(dir, "train.csv");
  if (!existsSync(csv)) sentimentCsv(csv, 160, new Rng(seed));
  const argv = (out: string) => [
    "finetune",
    ...["--model", model, "--data", csv, "--output", out, "--max-steps", "48", "--batch-size", "8"],
    ...["--save-every", "4", "--eval-every", "12", "--max-length", "16", "--lr", "2e-4", "--quiet"],
    ...["--save-total-limit", "3"],
  ];
  const refOut = join(dir, "disk-ref");
  const ref = await graft(argv(refOut));
  if (ref.code !== 0) return [`reference run failed: ${tail(ref.stderr)}`];
  const du = Number(execFileSync("du", ["-sk", refOut], { encoding: "utf8" }).split(/\s/)[0]);
  const small = Math.max(64, Math.floor(du / 3));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${small}k`, "tmpfs", mnt], { stdio: "pipe" });
  } catch (e) {
    return [`skipped: cannot mount a tmpfs (${tail(String((e as { stderr?: unknown }).stderr ?? e), 200)})`];
  }
  mounts.push(mnt);
  notes.push(`reference run directory: ${du} KiB; tmpfs of ${small} KiB`);
  const out = join(mnt, "run");
  const failed = await graft(argv(out));
  const msg = tail(failed.stderr, 600);
  notes.push(`run on the small tmpfs: exit ${failed.code}; stderr: ${msg}`);
  const tmps = existsSync(out) ? listTree(out).filter((p) => /\.tmp-/.test(p)) : [];
  const namesPath = failed.stderr.includes(mnt);
  const namesSpace = /space|bytes|[KMG]i?B\b/i.test(failed.stderr);
  notes.push(
    `check: failed=${failed.code !== 0}, names the path=${namesPath}, names the space=${namesSpace}, ` +
      `*.tmp-* left=${tmps.length}${tmps.length ? ` (${tmps.join(", ")})` : ""}`,
  );
  execFileSync("mount", ["-o", `remount,size=${du * 4}k`, mnt], { stdio: "pipe" });
  notes.push(`tmpfs enlarged to ${du * 4} KiB`);
  let last: Exit | undefined;
  for (let i = 0; i < 3 && (last === undefined || last.code !== 0); i++) {
    last = await graft(
      existsSync(join(out, "run.json")) ? ["finetune", "--resume", out, "--quiet"] : [...argv(out), "--overwrite"],
    );
  }
  if (last!.code !== 0) notes.push(`resume failed: ${tail(last!.stderr)}`);
  else {
    const same = weightsDigest(out) === weightsDigest(refOut);
    notes.push(`--resume completed; weights ${same ? "bit-identical to" : "DIFFERENT from"} the uninterrupted run`);
  }
  execFileSync("umount", [mnt]);
  mounts.splice(mounts.indexOf(mnt), 1);
  return notes;
}

function listTree(d: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...listTree(p));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- 3. fuzzers

const FUZZERS = [
  "safetensors",
  "config.json",
  "tokenizer.json",
  "csv",
  "jsonl",
  "conll",
  "predictions.jsonl",
  "predictions.txt",
] as const;
type Fuzzer = (typeof FUZZERS)[number];

interface FuzzCounts {
  inputs: number;
  crashes: number;
  refusals: number;
  accepted: number;
  examples: string[];
}

/** One mutation of `base`, described so that it can be reproduced. */
function mutate(base: Buffer, r: Rng, json: boolean): { bytes: Buffer; what: string } {
  const kinds = json ? 5 : 4;
  const k = r.int(kinds);
  const b = Buffer.from(base);
  if (k === 0) {
    const flips: string[] = [];
    for (let i = 0, n = 1 + r.int(4); i < n; i++) {
      const at = r.int(b.length);
      const bit = r.int(8);
      b[at]! ^= 1 << bit;
      flips.push(`${at}:${bit}`);
    }
    return { bytes: b, what: `bit flips ${flips.join(",")}` };
  }
  if (k === 1) {
    const at = r.int(b.length + 1);
    return { bytes: b.subarray(0, at), what: `truncated to ${at} bytes` };
  }
  if (k === 2) {
    const at = r.int(b.length + 1);
    const ins = Buffer.from(Array.from({ length: 1 + r.int(8) }, () => r.int(256)));
    return {
      bytes: Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]),
      what: `inserted ${ins.toString("hex")} at ${at}`,
    };
  }
  if (k === 3) {
    const at = r.int(b.length);
    const len = 1 + r.int(Math.min(64, b.length - at));
    return { bytes: Buffer.concat([b.subarray(0, at), b.subarray(at + len)]), what: `deleted ${len} bytes at ${at}` };
  }
  // a random field edit of the JSON document (or of one JSONL record)
  const text = base.toString("utf8");
  const lines = text.split("\n");
  const li = lines.length > 1 ? r.int(lines.length) : 0;
  let doc: unknown;
  try {
    doc = JSON.parse(lines[li]!);
  } catch {
    return { bytes: b, what: "unchanged" };
  }
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => paths.length < 5000 && walk(x, [...p, i]));
    else if (v !== null && typeof v === "object")
      for (const [kk, x] of Object.entries(v)) if (paths.length < 5000) walk(x, [...p, kk]);
  };
  walk(doc, []);
  const path = paths[r.int(paths.length)]!;
  const values: unknown[] = [
    null,
    -1,
    0,
    1e9,
    -1e308,
    1.5,
    "",
    "x".repeat(300),
    true,
    [],
    {},
    [1, 2, 3],
    { a: 1 },
    2 ** 53,
    Number.NaN,
  ];
  const pick = r.int(values.length + 1);
  const value = pick === values.length ? "<deleted>" : values[pick];
  if (path.length === 0) doc = value === "<deleted>" ? {} : value;
  else {
    let parent = doc as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (value === "<deleted>") {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else parent[last] = value;
  }
  lines[li] = JSON.stringify(doc) ?? "";
  return {
    bytes: Buffer.from(lines.join("\n")),
    what: `${lines.length > 1 ? `line ${li + 1}: ` : ""}${path.join(".") || "(root)"} = ${JSON.stringify(value)?.slice(0, 40)}`,
  };
}

/** Runs one fuzzer in this process for `secs` seconds; writes counts to `dir`/counts.json as it goes. */
async function fuzzChild(kind: Fuzzer, secs: number, fuzzSeed: number, dir: string): Promise<void> {
  const { GraftError } = await import("../src/util/errors.js");
  const { loadSafetensors } = await import("../src/io/safetensors.js");
  const { AutoConfig, AutoModelForSequenceClassification } = await import("../src/models/index.js");
  const { loadTokenizer } = await import("../src/tokenizers/auto.js");
  const { readExamples } = await import("../src/data/readers/examples.js");
  const { readConll } = await import("../src/data/readers/conll.js");
  const { readValueFile, parseValues } = await import("../src/data/readers/predictions.js");
  const base = join(dir, "base");
  const model = join(base, "model");
  const r = new Rng(fuzzSeed);
  // valid inputs
  let file: string;
  let json = false;
  let feed: (f: string) => Promise<unknown> | unknown;
  if (kind === "safetensors" || kind === "config.json" || kind === "tokenizer.json") {
    if (!existsSync(join(model, "tokenizer.json"))) {
      await makeTinyBert(model);
      loadTokenizer(model).save(model);
    }
  }
  if (kind === "safetensors") {
    file = join(model, "model.safetensors");
    feed = (f) => loadSafetensors(f);
  } else if (kind === "config.json") {
    file = join(model, "config.json");
    json = true;
    feed = (f) => {
      AutoConfig.fromPretrainedDir(dirname(f));
      return AutoModelForSequenceClassification.fromPretrainedDir(dirname(f));
    };
  } else if (kind === "tokenizer.json") {
    file = join(model, "tokenizer.json");
    json = true;
    feed = (f) => loadTokenizer(dirname(f)).encode("the movie was good, alice visited paris.");
  } else if (kind === "csv") {
    file = join(base, "data.csv");
    sentimentCsv(file, 40, new Rng(1));
    feed = (f) => readExamples(f);
  } else if (kind === "jsonl") {
    file = join(base, "data.jsonl");
    json = true;
    regressionJsonl(file, 40, new Rng(1));
    feed = (f) => readExamples(f, { labelType: "float" });
  } else if (kind === "conll") {
    file = join(base, "data.conll");
    nerConll(file, 20, new Rng(1));
    feed = (f) => readConll(f);
  } else if (kind === "predictions.jsonl") {
    file = join(base, "pred.jsonl");
    json = true;
    const rows = Array.from({ length: 30 }, (_, i) => ({
      prediction: i % 3 === 0 ? "pos" : "neg",
      reference: i % 2 === 0 ? "pos" : "neg",
      scores: [i / 30, 1 - i / 30],
      tags: ["B-PER", "O"],
      value: i * 0.5,
      loss: 2.5,
      tokens: 7,
    }));
    writeFileSync(file, rows.map((x) => JSON.stringify(x)).join("\n") + "\n");
    feed = (f) => {
      for (const [field, kinds] of [
        ["prediction", ["label", "text"]],
        ["scores", ["scores"]],
        ["tags", ["tags", "items", "relevance"]],
        ["value", ["number"]],
      ] as const) {
        const vf = readValueFile(f, { field });
        for (const k of kinds) parseValues(vf, k);
      }
      parseValues(readValueFile(f), "losses", { loss: "loss", tokens: "tokens" });
    };
  } else {
    file = join(base, "pred.txt");
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => `${i % 3} 0.${i} B-PER O the movie`).join("\n") + "\n");
    feed = (f) => {
      const vf = readValueFile(f);
      for (const k of ["text", "number", "scores", "label", "tags", "items", "relevance", "losses"] as const) {
        try {
          parseValues(vf, k);
        } catch (e) {
          if (!(e instanceof GraftError)) throw e;
        }
      }
    };
  }
  const original = readFileSync(file);
  const counts: FuzzCounts = { inputs: 0, crashes: 0, refusals: 0, accepted: 0, examples: [] };
  const save = () => writeFileSync(join(dir, "counts.json"), JSON.stringify(counts));
  const t0 = performance.now();
  // silence readers' warnings
  const warn = console.warn;
  console.warn = () => {};
  process.stderr.write = (() => true) as typeof process.stderr.write;
  while (performance.now() - t0 < secs * 1000) {
    const m = mutate(original, r, json);
    writeFileSync(file, m.bytes);
    writeFileSync(join(dir, "current.txt"), m.what);
    counts.inputs++;
    try {
      await feed(file);
      counts.accepted++;
    } catch (e) {
      if (e instanceof GraftError) counts.refusals++;
      else {
        counts.crashes++;
        if (counts.examples.length < 5)
          counts.examples.push(`${m.what}: ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 200)}`);
      }
    }
    if (counts.inputs % 25 === 0) save();
  }
  writeFileSync(file, original);
  console.warn = warn;
  save();
}

async function fuzzCampaign(dir: string): Promise<(FuzzCounts & { kind: Fuzzer; aborts: number })[]> {
  const rows: (FuzzCounts & { kind: Fuzzer; aborts: number })[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const [i, kind] of FUZZERS.entries()) {
    const row = { kind, inputs: 0, crashes: 0, refusals: 0, accepted: 0, aborts: 0, examples: [] as string[] };
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      const left = seconds - (performance.now() - t0) / 1000;
      if (left <= 0.5) break;
      const d = join(dir, `fuzz-${i}-${attempt}`);
      mkdirSync(join(d, "base"), { recursive: true });
      const res = await runNode(
        [self, "--fuzz-child", kind, String(left), String(seed * 1000 + i * 37 + attempt), d],
        undefined,
        (left + 120) * 1000,
      );
      const c = existsSync(join(d, "counts.json"))
        ? (JSON.parse(readFileSync(join(d, "counts.json"), "utf8")) as FuzzCounts)
        : undefined;
      if (c) {
        row.inputs += c.inputs;
        row.crashes += c.crashes;
        row.refusals += c.refusals;
        row.accepted += c.accepted;
        row.examples.push(...c.examples);
      }
      if (res.code === 0) break;
      // an abort (or a hang past its budget): the input it was reading is the crash
      const what = existsSync(join(d, "current.txt")) ? readFileSync(join(d, "current.txt"), "utf8") : "?";
      row.aborts++;
      row.crashes++;
      row.inputs++;
      const panic = /panicked at[^\n]*\n[^\n]*/.exec(res.stderr)?.[0] ?? tail(res.stderr, 200);
      if (row.aborts <= 3)
        row.examples.push(`abort (${res.signal ?? `exit ${res.code}`}) on ${what}: ${panic.replace(/\s+/g, " ")}`);
      if (keep !== undefined && row.aborts <= 3) {
        const input = readdirSync(join(d, "base"), { recursive: true, withFileTypes: true }).find(
          (e) =>
            e.isFile() &&
            (e.name.startsWith("data") ||
              e.name.startsWith("pred") ||
              e.name === kind ||
              (kind === "safetensors" && e.name === "model.safetensors")),
        );
        if (input) {
          mkdirSync(keep, { recursive: true });
          const saved = join(keep, `${kind}-abort-${row.aborts}`);
          writeFileSync(saved, readFileSync(join(input.parentPath ?? input.path, input.name)));
          row.examples.push(`(input kept in ${saved})`);
        }
      }
      if (row.aborts >= 200) break;
    }
    rows.push(row);
    process.stderr.write(`  fuzz ${kind}: ${row.inputs} inputs, ${row.crashes} crashes\n`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------- main

if (args[0] === "--fuzz-child") {
  await fuzzChild(args[1] as Fuzzer, Number(args[2]), Number(args[3]), args[4]!);
  process.exit(0);
}

tmp = mkdtempSync(join(tmpdir(), "graft-faults-"));
const t0 = performance.now();
console.log(`graft fault campaign: --kills ${kills} --seconds ${seconds} --seed ${seed}`);
try {
  if (only.includes("kill")) {
    const rows = await killCampaign(tmp, new Rng(seed + 17));
    console.log("\n## SIGKILL at random moments, resumed with --resume\n");
    console.log(
      "| run | reference | killed runs | exited before the kill | resumes | restarts | --resume refused | bit-identical after --resume | identical after a refused resume and a restart |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(
        `| ${r.job} | ${(r.refMs / 1000).toFixed(2)} s | ${r.runs} | ${r.exitedBeforeKill} | ${r.resumes} | ${r.restarts} | ${r.refused} | ${r.identical} / ${r.runs} | ${r.identicalAfterRestart} / ${r.refused} |`,
      );
    }
    const sum = (f: (r: KillRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    console.log(
      `| all | | ${sum((r) => r.runs)} | ${sum((r) => r.exitedBeforeKill)} | ${sum((r) => r.resumes)} | ${sum((r) => r.restarts)} | ${sum((r) => r.refused)} | ${sum((r) => r.identical)} / ${sum((r) => r.runs)} | ${sum((r) => r.identicalAfterRestart)} / ${sum((r) => r.refused)} |`,
    );
    for (const r of rows) for (const f of r.failures) console.log(`- ${f}`);
  }
  if (only.includes("disk")) {
    console.log("\n## Full disk (tmpfs)\n");
    for (const n of await fullDisk(tmp)) console.log(`- ${n}`);
  }
  if (only.includes("fuzz")) {
    const rows = await fuzzCampaign(tmp);
    console.log(`\n## Fuzzers (${seconds} s each)\n`);
    console.log("| input | inputs | crashes | of which aborts | clean refusals | accepted |");
    console.log("|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${r.kind} | ${r.inputs} | ${r.crashes} | ${r.aborts} | ${r.refusals} | ${r.accepted} |`);
    }
    for (const r of rows) for (const e of r.examples) console.log(`- ${r.kind}: ${e}`);
  }
} finally {
  cleanup();
}
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
