/**
 * Tokenizer throughput on real prose: Hugging Face's Rust core (npm "tokenizers", graft's engine), called raw
 * and through graft's Tokenizer (offsets, word ids, masks included), against the pure-JS @huggingface/tokenizers;
 * BERT uncased WordPiece and GPT-2 byte-level BPE; and whether all of them give the same ids on every line.
 *
 *   npx tsc -p . && node dist/bench/tokenizers.js [--lines 50000] [--batch 1024] [--data /work/shared/datasets]
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import { loadTokenizer } from "../src/tokenizers/auto.js";

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "50000" },
    batch: { type: "string", default: "1024" },
    data: { type: "string", default: process.env.GRAFT_SHARED_DATASETS ?? "/work/shared/datasets" },
    repeat: { type: "string", default: "1" },
  },
});
const maxLines = Number(values.lines);
const batch = Number(values.batch);
const books = join(values.data, "gutenberg_nltk");
const rs = createRequire(import.meta.url)("tokenizers") as typeof import("tokenizers");

let lines: string[] = [];
for (const f of readdirSync(books)
  .filter((f) => f.endsWith(".txt"))
  .sort()) {
  lines.push(
    ...readFileSync(join(books, f), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== ""),
  );
}
lines = lines.slice(0, maxLines);
const mb = lines.reduce((s, l) => s + Buffer.byteLength(l), 0) / 1e6;
console.log(
  `corpus: ${lines.length} non-empty lines of gutenberg_nltk, ${mb.toFixed(2)} MB; ${process.env.UV_THREADPOOL_SIZE ?? 4} libuv threads`,
);

/**
 * Best wall time and best CPU time (user + system, all threads) of --repeat runs. The machine is shared: the
 * minimum is the least disturbed run, and CPU time is what the work costs whatever else is running.
 */
async function time<T>(f: () => Promise<T> | T): Promise<[T, number, number]> {
  let wall = Infinity;
  let cpu = Infinity;
  let r: T | undefined;
  for (let k = 0; k < Number(values.repeat); k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r = await f();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return [r!, wall, cpu];
}

for (const name of ["bert-base-uncased", "gpt2"]) {
  const path = join(values.data, "vocab", name, "tokenizer.json");
  const results: [string, number[][], number, number][] = [];

  const js = new JsTokenizer(JSON.parse(readFileSync(path, "utf8")), {});
  const [jsIds, jsT, jsC] = await time(() => lines.map((l) => js.encode(l).ids));
  results.push(["@huggingface/tokenizers (pure JS), one call per line", jsIds, jsT, jsC]);

  const raw = rs.Tokenizer.fromFile(path);
  const [rawIds, rawT, rawC] = await time(async () => {
    const out: number[][] = [];
    for (let i = 0; i < lines.length; i += batch)
      for (const e of await raw.encodeBatch(lines.slice(i, i + batch))) out.push(e.getIds());
    return out;
  });
  results.push([`tokenizers (Rust), encodeBatch of ${batch}, ids only`, rawIds, rawT, rawC]);

  const [oneIds, oneT, oneC] = await time(async () => {
    const out: number[][] = [];
    for (const l of lines.slice(0, 20000)) out.push((await raw.encode(l)).getIds());
    return out;
  });
  results.push([
    "tokenizers (Rust), one awaited call per line (first 20000)",
    oneIds,
    oneT * (lines.length / Math.min(lines.length, 20000)),
    oneC * (lines.length / Math.min(lines.length, 20000)),
  ]);

  const graft = loadTokenizer(join(values.data, "vocab", name));
  const [graftIds, graftT, graftC] = await time(async () => {
    const out: number[][] = [];
    for (let i = 0; i < lines.length; i += batch)
      out.push(...(await graft.encodeBatch(lines.slice(i, i + batch))).inputIds);
    return out;
  });
  results.push([`graft Tokenizer.encodeBatch of ${batch}, input ids`, graftIds, graftT, graftC]);
  const [allIds, allT, allC] = await time(async () => {
    const out: number[][] = [];
    for (let i = 0; i < lines.length; i += batch) {
      const b = await graft.encodeBatch(lines.slice(i, i + batch));
      b.toJSON(); // every field: tokens, masks, type ids, offsets, word ids, sequence ids
      out.push(...b.inputIds);
    }
    return out;
  });
  results.push([`graft Tokenizer.encodeBatch of ${batch}, every field incl. offsets`, allIds, allT, allC]);

  const tokens = rawIds.reduce((s, r) => s + r.length, 0);
  console.log(`\n${name}: ${tokens} tokens`);
  for (const [what, ids, t, cpu] of results) {
    const n = Math.min(ids.length, rawIds.length);
    let differ = 0;
    for (let i = 0; i < n; i++)
      if (ids[i]!.length !== rawIds[i]!.length || ids[i]!.some((v, k) => v !== rawIds[i]![k])) differ++;
    const same = differ === 0 ? "same ids" : `${differ} of ${n} lines differ`;
    console.log(
      `  ${what.padEnd(66)} wall ${t.toFixed(2).padStart(5)} s ${(mb / t).toFixed(2).padStart(5)} MB/s   cpu ${cpu.toFixed(2).padStart(5)} s ${(mb / cpu).toFixed(2).padStart(5)} MB/s   ${same}`,
    );
  }
}
