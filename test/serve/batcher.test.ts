/**
 * The batcher on fake slots (no model): batches hold the oldest input and the ones closest to it in length, within
 * the padded-token and size budgets; they wait for maxWaitMs unless full; a busy slot lets the queue fill; an
 * aborted request leaves the queue. And the server's sampling hook passes the requests it is asked to.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Batcher, createServer } from "../../src/serve/index.js";
import type { Slot } from "../../src/serve/engine.js";
import type { Job, JobResult } from "../../src/serve/jobs.js";
import { TokenCounter } from "../../src/serve/tokens.js";
import { loadTokenizer } from "../../src/tokenizers/index.js";
import { listen, makeClassifier, makeEncoder, post } from "./fixtures.js";

/** A slot that records each batch's texts and answers once released. */
function fakeSlot() {
  const batches: string[][] = [];
  const waiting: (() => void)[] = [];
  const slot: Slot = {
    run: (job: Job) => {
      const texts = job.op === "embed" ? job.texts : job.inputs.map(String);
      batches.push(texts);
      return new Promise<JobResult>((resolve) => waiting.push(() => resolve(texts.map((t) => [t.length]))));
    },
  };
  return { slot, batches, release: () => waiting.splice(0).forEach((f) => f()) };
}

const embed = (text: string, tokens: number) => ({
  job: { op: "embed", model: "m", texts: [text], pooling: "mean" } as Job,
  tokens,
});
const tick = () => new Promise((r) => setImmediate(r));

test("a batch: the oldest input, then the closest in length, within maxBatchTokens and maxBatchSize", async () => {
  const f = fakeSlot();
  const b = new Batcher({ maxBatchTokens: 40, maxBatchSize: 3, maxWaitMs: 0 }, [f.slot]);
  const first = b.submit([embed("busy", 1)]); // takes the slot at once
  await tick();
  const rest = b.submit([embed("a10", 10), embed("b50", 50), embed("c9", 9), embed("d12", 12), embed("e11", 11)]);
  await tick();
  assert.deepEqual(f.batches, [["busy"]]);
  assert.equal(b.depth, 5);
  f.release();
  await first;
  await tick();
  // oldest a10, then c9/e11 (closest); 3 × 11 = 33 ≤ 40; sorted by length
  assert.deepEqual(f.batches[1], ["c9", "a10", "e11"]);
  f.release();
  await tick();
  // b50 is now the oldest; with d12 it would pad to 2 × 50 > 40: each runs alone
  assert.deepEqual(f.batches[2], ["b50"], "an input over the budget still runs, alone");
  f.release();
  await tick();
  assert.deepEqual(f.batches[3], ["d12"]);
  f.release();
  assert.deepEqual(await rest, [[3], [3], [2], [3], [3]], "results come back in the request's order");
});

test("a batch waits maxWaitMs for company unless full; an aborted request leaves the queue", async () => {
  const f = fakeSlot();
  const b = new Batcher({ maxBatchTokens: 1000, maxBatchSize: 2, maxWaitMs: 80 }, [f.slot]);
  const t0 = performance.now();
  const one = b.submit([embed("x", 1)]);
  await tick();
  assert.equal(f.batches.length, 0, "waits for another input");
  f.release();
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(f.batches, [["x"]]);
  f.release();
  await one;
  assert.ok(performance.now() - t0 >= 75);
  const full = b.submit([embed("y", 1), embed("z", 1)]);
  await tick();
  assert.deepEqual(f.batches[1], ["y", "z"], "a full batch leaves at once");
  f.release();
  await full;
  const ac = new AbortController();
  const gone = b.submit([embed("w", 1)], ac.signal);
  ac.abort(new Error("client left"));
  await assert.rejects(gone, /client left/);
  assert.equal(b.depth, 0);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(f.batches.length, 2, "the aborted input never ran");
});

test("sampling: off by default; with sampleRate 1 every answered request reaches onServed", async () => {
  const work = mkdtempSync(join(tmpdir(), "graft-serve-sample-"));
  try {
    const classifier = makeClassifier(join(work, "c"), makeEncoder(join(work, "e")));
    await assert.rejects(
      createServer({ models: { m: classifier }, workers: 0, onServed: () => {} }),
      /sampleRate is 0/,
    );
    const seen: [string, readonly unknown[], readonly unknown[]][] = [];
    const app = await createServer({
      models: { m: classifier },
      workers: 0,
      sampleRate: 1,
      onServed: (route, inputs, outputs) => seen.push([route, inputs, outputs]),
    });
    const base = await listen(app);
    await post(`${base}/predict`, { inputs: ["good", "bad", "fine"] });
    await post(`${base}/embed`, { inputs: "good" });
    await app.close();
    assert.deepEqual(
      seen.map(([r, i, o]) => [r, i.length, o.length]),
      [
        ["/predict", 3, 3],
        ["/embed", 1, 1],
      ],
    );
    assert.equal((seen[0][2][0] as { task: string }).task, "classification");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("token counts of requests arriving together take one tokenizer call, each request its own counts", async () => {
  const work = mkdtempSync(join(tmpdir(), "graft-serve-count-"));
  try {
    const tok = loadTokenizer(makeEncoder(join(work, "e")));
    let calls = 0;
    const encodeBatch = tok.encodeBatch.bind(tok);
    tok.encodeBatch = (texts, opts) => {
      calls++;
      return encodeBatch(texts, opts);
    };
    const counter = new TokenCounter(tok);
    const [a, b, c] = await Promise.all([
      counter.count(["good", "a good film"]),
      counter.count(["the plot was dull"]),
      counter.count(["good"], ["bad film"]),
    ]);
    assert.deepEqual(a, [3, 5]);
    assert.deepEqual(b, [6]);
    assert.deepEqual(c, [6], "[CLS] good [SEP] bad film [SEP]");
    assert.equal(calls, 2, "one call for the single texts, one for the pairs");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
