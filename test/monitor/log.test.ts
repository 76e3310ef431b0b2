/** The served-sample log: round trip, the sample rate, the size bound, atomic flushes, and damaged files refused. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { normalizeOutput, readSampleLog, SampleLog } from "../../src/monitor/log.js";
import { atomicIo } from "../../src/util/atomic.js";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "graft-monitor-log-"));
}

test("a sample log round-trips inputs, labels, scores and float32 embeddings", async () => {
  const dir = tmp();
  try {
    const path = join(dir, "samples.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 0 });
    log.add({ time: 1000, model: "m", route: "/predict", input: "good", label: "pos", scores: { neg: 0.1, pos: 0.9 } });
    log.add({ time: 2000, model: "m", route: "/embed", input: "hello", embedding: [0.5, -1.25, 3] });
    log.add({ time: 3000, model: "other", route: "/generate", input: "once", text: "upon a time" });
    assert.equal(log.count(), 3);
    log.close();
    const back = await readSampleLog(path);
    assert.equal(back.length, 3);
    assert.deepEqual(
      { ...back[0], embedding: null },
      {
        time: 1000,
        model: "m",
        route: "/predict",
        input: "good",
        label: "pos",
        scores: { neg: 0.1, pos: 0.9 },
        text: null,
        embedding: null,
      },
    );
    assert.deepEqual(Array.from(back[1]!.embedding!), [0.5, -1.25, 3]);
    assert.equal(back[2]!.text, "upon a time");
    assert.deepEqual(
      (await readSampleLog(path, { model: "m" })).map((s) => s.route),
      ["/predict", "/embed"],
    );
    // reopened, the log appends after what it holds
    const again = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 0 });
    assert.equal(again.count(), 3);
    again.add({ time: 4000, model: "m", route: "/predict", input: "bad", label: "neg" });
    again.close();
    assert.equal((await readSampleLog(path)).length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the sample rate is respected: 0 records nothing (no file), 0.3 keeps about 30%", async () => {
  const dir = tmp();
  try {
    const off = await SampleLog.open(join(dir, "off.sqlite"), { flushIntervalMs: 0 });
    assert.equal(off.sampleRate, 0, "off by default");
    const hook = off.hook("m");
    for (let i = 0; i < 100; i++) hook("/predict", [`text ${i}`], [{ label: "pos", scores: { pos: 1 } }]);
    assert.equal(off.count(), 0);
    off.close();
    assert.equal(existsSync(join(dir, "off.sqlite")), false);

    const path = join(dir, "some.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 0.3, seed: 4, flushIntervalMs: 0 });
    let kept = 0;
    for (let i = 0; i < 2000; i++) if (log.offer({ time: i, model: "m", route: "/predict", input: `t${i}` })) kept++;
    // Binomial(2000, 0.3): mean 600, sd 20.5; +-4 sd
    assert.ok(kept >= 518 && kept <= 682, `kept ${kept} of 2000 at rate 0.3`);
    assert.equal(log.count(), kept);
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the hook reads the output shapes a server gives (TEI predict, label+scores, embeddings, numbers)", async () => {
  assert.deepEqual(
    normalizeOutput([
      { label: "pos", score: 0.8 },
      { label: "neg", score: 0.2 },
    ]),
    { label: "pos", scores: { pos: 0.8, neg: 0.2 } },
  );
  assert.deepEqual(normalizeOutput({ task: "classification", label: "a", scores: { a: 0.7, b: 0.3 } }), {
    label: "a",
    scores: { a: 0.7, b: 0.3 },
  });
  assert.deepEqual(normalizeOutput([0.1, 0.2]), { embedding: [0.1, 0.2] });
  assert.deepEqual(normalizeOutput(2.5), { scores: { value: 2.5 } });
  assert.deepEqual(normalizeOutput({ generated_text: "hi" }), { text: "hi" });
  const dir = tmp();
  try {
    const path = join(dir, "h.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 0 });
    log.hook("clf")("/predict", ["a", { text: "b" }], [[{ label: "x", score: 1 }], { label: "y", scores: { y: 1 } }]);
    assert.deepEqual(
      log.samples().map((s) => [s.model, s.input, s.label]),
      [
        ["clf", "a", "x"],
        ["clf", "b", "y"],
      ],
    );
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the log keeps at most maxSamples records, dropping the oldest", async () => {
  const dir = tmp();
  try {
    const path = join(dir, "b.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 1, maxSamples: 50, flushIntervalMs: 0 });
    for (let i = 0; i < 120; i++) log.add({ time: i, model: "m", route: "/predict", input: `t${i}` });
    assert.equal(log.count(), 50);
    log.close();
    const back = await readSampleLog(path);
    assert.deepEqual(
      back.map((s) => s.input),
      Array.from({ length: 50 }, (_, i) => `t${i + 70}`),
    );
    // reopening with a smaller bound trims at once
    const small = await SampleLog.open(path, { sampleRate: 1, maxSamples: 10, flushIntervalMs: 0 });
    assert.equal(small.count(), 10);
    assert.equal(small.samples()[0]!.input, "t110");
    small.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writes are atomic: flushed on the interval and on close, a failed write leaves the last good file", async () => {
  const dir = tmp();
  try {
    const path = join(dir, "a.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 30 });
    log.add({ time: 1, model: "m", route: "/predict", input: "first" });
    assert.equal(existsSync(path), false, "nothing on disk before the first flush");
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      (await readSampleLog(path)).map((s) => s.input),
      ["first"],
      "the interval flushed",
    );
    log.add({ time: 2, model: "m", route: "/predict", input: "second" });
    const before = readFileSync(path);
    const write = atomicIo.writeSync;
    atomicIo.writeSync = () => {
      throw Object.assign(new Error("no space"), { code: "ENOSPC" });
    };
    try {
      assert.throws(() => log.flush(), /no space left/);
    } finally {
      atomicIo.writeSync = write;
    }
    assert.deepEqual(readFileSync(path), before, "the old file is intact");
    assert.deepEqual(readdirSync(dir), ["a.sqlite"], "no temp file left behind");
    log.close();
    assert.deepEqual(
      (await readSampleLog(path)).map((s) => s.input),
      ["first", "second"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged or foreign file is refused with a message naming it", async () => {
  const dir = tmp();
  try {
    const junk = join(dir, "junk.sqlite");
    writeFileSync(junk, "this is not a database, just some text that is long enough to look like a header......");
    await assert.rejects(readSampleLog(junk), /junk\.sqlite is not a readable SQLite database/);
    await assert.rejects(SampleLog.open(junk), /junk\.sqlite is not a readable SQLite database/);
    // a real SQLite file that is not a sample log
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.exec("CREATE TABLE t (x INTEGER)");
    const other = join(dir, "other.sqlite");
    writeFileSync(other, db.export());
    db.close();
    await assert.rejects(readSampleLog(other), /other\.sqlite is an SQLite database but not a graft sample log/);
    // a truncated log
    const path = join(dir, "t.sqlite");
    const log = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 0 });
    for (let i = 0; i < 200; i++) log.add({ time: i, model: "m", route: "/predict", input: "x".repeat(100) });
    log.close();
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(readSampleLog(path), /t\.sqlite/);
    await assert.rejects(readSampleLog(join(dir, "missing.sqlite")), /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
