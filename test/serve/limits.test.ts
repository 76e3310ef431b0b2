/**
 * Limits that hold under load, against real servers on 127.0.0.1: 401 without the API key, 429 with Retry-After
 * when the queue is full, 504 past the timeout, a client that disconnects takes its inputs out of the queue, and
 * `graft serve` drains the requests in flight on SIGTERM and exits 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "../../src/serve/index.js";
import { SampleLog } from "../../src/monitor/index.js";
import { listen, makeClassifier, makeEncoder, post } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-limits-"));
const classifier = makeClassifier(join(work, "classifier"), makeEncoder(join(work, "encoder")));
test.after(() => rmSync(work, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const metric = async (base: string, name: string, headers: Record<string, string> = {}) => {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const m = new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
};

test("an API key: 401 without it (or with a wrong one), /health stays open", async () => {
  const app = await createServer({ models: { m: classifier }, workers: 0, apiKey: "s3cret" });
  const base = await listen(app);
  try {
    const none = await post(`${base}/predict`, { inputs: "good" });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    assert.match(none.body.error, /API key/);
    assert.equal((await post(`${base}/predict`, { inputs: "good" }, { authorization: "Bearer wrong" })).status, 401);
    assert.equal((await fetch(`${base}/v1/models`)).status, 401);
    const ok = await post(`${base}/predict`, { inputs: "good" }, { authorization: "Bearer s3cret" });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${base}/health`)).status, 200);
  } finally {
    await app.close();
  }
});

test("a full queue answers 429 with Retry-After; the waiting request is still answered", async () => {
  // an input waits up to 1.5 s for a batch of 8: the first request holds the one place in the queue meanwhile
  const app = await createServer({
    models: { m: classifier },
    workers: 1,
    maxQueue: 1,
    maxWaitMs: 1500,
    maxBatchSize: 8,
  });
  const base = await listen(app);
  try {
    const first = post(`${base}/predict`, { inputs: "good" });
    await sleep(200);
    const second = await post(`${base}/predict`, { inputs: "bad" });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get("retry-after"), "1");
    assert.match(second.body.error, /busy: 1 requests are waiting or running \(--max-queue 1\)/);
    assert.equal((await first).status, 200);
    assert.equal((await post(`${base}/predict`, { inputs: "bad" })).status, 200, "room again once answered");
  } finally {
    await app.close();
  }
});

test("a request past the timeout gets 504 and leaves the queue; a client that goes away does too", async () => {
  const app = await createServer({
    models: { m: classifier },
    workers: 1,
    timeoutMs: 200,
    maxWaitMs: 1000,
    maxBatchSize: 8,
  });
  const base = await listen(app);
  try {
    const late = await post(`${base}/predict`, { inputs: "good" });
    assert.equal(late.status, 504);
    assert.match(late.body.error, /longer than 200 ms \(--timeout-ms\)/);
    assert.equal(await metric(base, "graft_queue_depth"), 0);
    // a client that disconnects while its inputs wait: they leave the queue and never run
    const ac = new AbortController();
    const gone = fetch(`${base}/embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: ["a", "b", "c"] }),
      signal: ac.signal,
    });
    await sleep(50);
    assert.equal(await metric(base, "graft_queue_depth"), 3);
    ac.abort();
    await assert.rejects(gone);
    await sleep(50);
    assert.equal(await metric(base, "graft_queue_depth"), 0);
    await sleep(1100); // past the batch's wait: nothing ran
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.doesNotMatch(text, /graft_batch_size_count\{model="m",op="embed"\}/);
  } finally {
    await app.close();
  }
});

test("graft serve: SIGTERM stops accepting, answers the request in flight, exits 0 (the sample log written)", async () => {
  const sampleLog = join(work, "served.sqlite");
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--model",
      `sentiment=${classifier}`,
      "--port",
      "0",
      "--max-wait-ms",
      "1500",
      "--max-batch-size",
      "8",
      "--sample-log",
      sampleLog,
      "--sample-rate",
      "1",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`graft serve exited: ${stderr}`)));
    });
    const health = (await (await fetch(`${base}/health`)).json()) as { models: { name: string }[] };
    assert.equal(health.models[0].name, "sentiment");
    const inFlight = post(`${base}/predict`, { inputs: "a good film" });
    await sleep(300);
    child.kill("SIGTERM");
    const answer = await inFlight;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.length, 2);
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: finishing the requests in flight/);
    await assert.rejects(fetch(`${base}/health`), "no longer accepting connections");
    // --sample-log with --sample-rate 1: the answered request is in the log, flushed at shutdown
    const log = await SampleLog.open(sampleLog);
    assert.deepEqual(
      log.samples().map((x) => [x.model, x.route, x.input]),
      [["sentiment", "/predict", "a good film"]],
    );
    log.close();
  } finally {
    child.kill("SIGKILL");
  }
});
