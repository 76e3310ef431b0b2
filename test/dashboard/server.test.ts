import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createDashboard, discover, paramImportance, worstPredictions } from "../../src/dashboard/index.js";
import { Rng } from "../../src/util/rng.js";
import { makeClassificationRun, makeNerRun, makeStudy, tmpDir, writePbtLineage } from "../report/fixture.js";

function fixtures(): string {
  const root = tmpDir("graft-dashboard-");
  makeClassificationRun(join(root, "cls-a"), { seed: 1, steps: 20, evalEvery: 10 });
  makeNerRun(join(root, "ner"));
  makeStudy(join(root, "study"));
  writePbtLineage(join(root, "study"));
  mkdirSync(join(root, "study", "trials", "trial-0001"), { recursive: true });
  writeFileSync(join(root, "study", "trials", "trial-0001", "metrics.jsonl"), '{"step":1,"epoch":0,"loss":1}\n');
  mkdirSync(join(root, "notes"));
  writeFileSync(join(root, "notes", "readme.txt"), "not a run");
  return root;
}

test("discover finds runs, studies and a study's trial runs, and says what it could not use", () => {
  const root = fixtures();
  try {
    const problems: string[] = [];
    const found = discover([root, join(root, "nope"), join(root, "notes")], problems);
    assert.deepEqual(found.map((e) => `${e.kind}:${e.name}`).sort(), [
      "run:cls-a",
      "run:ner",
      "run:trial-0001",
      "study:study",
    ]);
    const study = found.find((e) => e.kind === "study")!;
    assert.equal(found.find((e) => e.name === "trial-0001")!.parent, study.id);
    assert.match(problems[0], /nope: no such directory/);
    assert.match(problems[1], /notes: no graft run or study here/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the JSON routes: runs table, a run with a torn last log line noted, a study, unknown ids", async () => {
  const root = fixtures();
  const app = await createDashboard({ roots: [root], pollMs: 60_000 });
  try {
    const entries = (await app.inject("/api/entries")).json();
    const cls = entries.entries.find((e: { name: string }) => e.name === "cls-a");
    assert.equal(cls.task, "classification");
    assert.equal(cls.metric, "accuracy");
    appendFileSync(join(root, "cls-a", "metrics.jsonl"), '{"step":21,"epoch":1,"lo');
    const run = (await app.inject(`/api/runs/${cls.id}`)).json();
    assert.equal(run.train.length, 20);
    assert.ok(
      run.notes.some((n: string) => /metrics\.jsonl line 23: cut short/.test(n)),
      run.notes.join("\n"),
    );
    assert.equal(run.sections[0].id.length > 0, true);
    assert.match(run.sections[0].html, /<svg/);
    assert.equal(run.worst.task, "classification");
    const study = entries.entries.find((e: { kind: string }) => e.kind === "study");
    const s = (await app.inject(`/api/studies/${study.id}`)).json();
    assert.equal(s.study.trials.length, 12);
    assert.deepEqual(s.params, ["batchSize", "lr", "schedule"]);
    assert.ok(s.importance.lr > 0.5, JSON.stringify(s.importance)); // the fixture's value depends on lr alone
    assert.equal(s.lineage.members[1].segments[1].donor, 0);
    const missing = await app.inject("/api/runs/000000000000");
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().error, /no run 000000000000/);
    const page = await app.inject("/");
    assert.match(page.headers["content-security-policy"] as string, /script-src 'self'/);
  } finally {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("server-sent events: a run being written sends `change` with its id", async () => {
  const root = fixtures();
  const app = await createDashboard({ roots: [root], pollMs: 50 });
  try {
    await app.listen({ port: 0, host: "127.0.0.1" });
    const port = (app.server.address() as AddressInfo).port;
    const id = discover([root]).find((e) => e.name === "cls-a")!.id;
    const got = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no change event within 5 s")), 5000);
      get({ host: "127.0.0.1", port, path: "/api/events" }, (res) => {
        assert.equal(res.headers["content-type"], "text/event-stream");
        let buf = "";
        res.on("data", (c: Buffer) => {
          buf += c.toString();
          if (buf.includes("event: change")) {
            clearTimeout(timer);
            res.destroy();
            resolve(buf);
          }
        });
        setTimeout(
          () => appendFileSync(join(root, "cls-a", "metrics.jsonl"), '{"step":21,"epoch":1,"loss":0.1}\n'),
          200,
        );
      }).on("error", reject);
    });
    assert.match(got, new RegExp(`event: change\\ndata: \\{"id":"${id}"\\}`));
  } finally {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("parameter importance finds the one parameter a planted objective depends on", () => {
  const rng = new Rng(3);
  const params = Array.from({ length: 40 }, () => ({
    a: rng.int(10),
    b: rng.int(5),
    c: rng.uniform() < 0.5 ? "x" : "y",
  }));
  const values = params.map((p) => (p.a - 4) ** 2);
  const imp = paramImportance(params, values, ["a", "b", "c"])!;
  assert.ok(imp.a > 0.8, JSON.stringify(imp));
  assert.ok(Math.abs(imp.a + imp.b + imp.c - 1) < 1e-9);
  assert.equal(paramImportance(params.slice(0, 3), values.slice(0, 3), ["a"]), null);
});

test("worst predictions: confident mistakes first; sentences with the most wrong tags first", () => {
  const cls = [
    { text: "fine", label: "pos", pred: "pos", probs: [0.1, 0.9] },
    { text: "meh", label: "pos", pred: "neg", probs: [0.6, 0.4] },
    { text: "awful?", label: "pos", pred: "neg", probs: [0.95, 0.05] },
  ];
  const w = worstPredictions(cls.map((r) => JSON.stringify(r)).join("\n"), null, 10)!;
  assert.equal(w.task, "classification");
  assert.equal(w.wrong, 2);
  assert.deepEqual(
    w.rows.map((r) => ("text" in r ? r.text : null)),
    ["awful?", "meh"],
  );
  const ner = [
    { tokens: ["a", "b"], labels: ["B-PER", "O"], preds: ["B-PER", "O"] },
    { tokens: ["c", "d"], labels: ["B-LOC", "I-LOC"], preds: ["O", "O"] },
    { tokens: ["e"], labels: ["B-ORG"], preds: ["O"] },
  ];
  const n = worstPredictions(ner.map((r) => JSON.stringify(r)).join("\n"), null, 10)!;
  assert.equal(n.task, "ner");
  assert.deepEqual(
    n.rows.map((r) => r.line),
    [2, 3],
  );
});

test("the Served page's data: each server's GET /drift, kept as a history; a server that fails is named", async () => {
  const report = {
    status: "degraded",
    reasons: ["2 of 3 features drifted"],
    samples: 120,
    driftedShare: 2 / 3,
    features: [
      { feature: "label", kind: "cat", test: "chisquare", statistic: 31.2, pValue: 1e-6, threshold: 0.05, drift: true },
      { feature: "confidence", kind: "num", test: "ks", statistic: 0.3, pValue: 0.001, threshold: 0.05, drift: true },
      { feature: "length", kind: "num", test: "ks", statistic: 0.05, pValue: 0.6, threshold: 0.05, drift: false },
    ],
    embeddings: null,
    notes: [],
  };
  const fake = createServer((req, res) => {
    res.writeHead(req.url === "/drift" ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(req.url === "/drift" ? { models: { sentiment: report, other: null } } : {}));
  });
  await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  const app = await createDashboard({
    roots: [],
    pollMs: 60_000,
    serve: [url, "http://127.0.0.1:1"],
    drift: { everyMs: 60_000 },
  });
  try {
    let served: {
      servers: { server: string; error: string | null; models: { model: string; history: unknown[] }[] }[];
    };
    for (let i = 0; ; i++) {
      served = (await app.inject("/api/served")).json();
      if (served.servers[0].models.length && served.servers[1].error) break;
      if (i > 100) throw new Error("the poller never answered");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      served.servers[0].models.map((m) => [m.model, m.history.length]),
      [
        ["sentiment", 1],
        ["other", 0],
      ],
    );
    assert.equal(served.servers[0].error, null);
    assert.match(served.servers[1].error!, /127\.0\.0\.1:1/);
  } finally {
    await app.close();
    await new Promise<void>((r) => fake.close(() => r()));
  }
});
