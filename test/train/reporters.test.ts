import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openNewRun, Trainer } from "../../src/train/index.js";
import { EventFileWriter, flattenParams, histogram, mlflowSettings } from "../../src/train/reporters/index.js";
import { crc32c, maskedCrc32c } from "../../src/util/crc32c.js";
import { ArgumentError } from "../../src/util/errors.js";
import { makeData, makeModel, task } from "./toy.js";
import { readEvents } from "./tfevents-reader.js";

const tmp = () => mkdtempSync(join(tmpdir(), "graft-report-"));
const base = { epochs: 2, batchSize: 8, lr: 0.05, logEvery: 1, warmupRatio: 0, seed: 7, metricForBest: "accuracy" };

test("CRC-32C matches the published check values", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8); // crc 0 masked is the delta alone
});

test("histograms follow TensorFlow's (limit[i-1], limit[i]] buckets and keep the moments", () => {
  const h = histogram([0, 1, 2, 3, 3]);
  assert.equal(h.num, 5);
  assert.equal(h.sum, 9);
  assert.equal(h.sumSquares, 23);
  assert.equal(h.limits.at(-1), 3);
  assert.equal(
    h.counts.reduce((a, b) => a + b),
    5,
  );
  assert.equal(h.counts.at(-1), 2);
  assert.deepEqual(histogram([5, 5]).counts, [2]);
});

test("--report-to tensorboard: the run's event file decodes with an independent reader, checksums checked", async () => {
  const dir = tmp();
  try {
    const data = makeData(32, 1);
    const trainer = new Trainer({
      model: makeModel(1),
      args: { ...base, reportTo: ["tensorboard"], reportHistograms: true },
      trainSize: 32,
      ...task(data),
      runDir: dir,
    });
    await trainer.train();
    const files = readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
    assert.equal(files.length, 1);
    const bytes = new Uint8Array(readFileSync(join(dir, files[0])));
    const events = readEvents(bytes);
    assert.equal(events[0].fileVersion, "brain.Event:2");
    const values = events.flatMap((e) => e.values.map((v) => ({ step: e.step, ...v })));
    const config = values.find((v) => v.tag === "config")!;
    assert.equal(config.pluginName, "text");
    assert.match(config.text!, /"lr": 0.05/);
    const losses = values.filter((v) => v.tag === "train/loss");
    assert.deepEqual(
      losses.map((v) => v.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    const logged = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => "loss" in r);
    for (const [i, r] of logged.entries()) assert.ok(Math.abs(losses[i].simpleValue! - r.loss) < 1e-6 * (1 + r.loss));
    assert.deepEqual(
      values.filter((v) => v.tag === "eval/accuracy").map((v) => v.step),
      [4, 8],
    );
    const histos = values.filter((v) => v.histo);
    assert.ok(histos.length >= 2 && histos.every((v) => v.tag.startsWith("weights/")));
    assert.ok(histos.every((v) => v.histo!.counts.reduce((a, b) => a + b) === v.histo!.num));
    // the reader does check: one flipped bit in the last frame is caught
    const bad = bytes.slice();
    bad[bad.length - 6] ^= 1;
    assert.throws(() => readEvents(bad), /bad data CRC/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an event file is framed as TFRecord: length, masked CRC of the length, data, masked CRC of the data", () => {
  const dir = tmp();
  try {
    const w = new EventFileWriter(dir, 1_700_000_000_000);
    w.scalars(3, [
      ["a", 1.5],
      ["b", Number.NaN],
    ]);
    w.close();
    const events = readEvents(new Uint8Array(readFileSync(w.path)));
    assert.equal(events.length, 2);
    assert.equal(events[0].wallTime, 1_700_000_000);
    assert.deepEqual(events[1].values, [{ tag: "a", simpleValue: 1.5 }]); // a non-finite value is left out
    assert.equal(events[1].step, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A fake MLflow tracking server that checks each request's shape against the REST API's documented fields. */
function fakeMlflow(opts: { failMetrics?: boolean } = {}) {
  const requests: { method: string; path: string; body: unknown }[] = [];
  const problems: string[] = [];
  const artifacts = new Map<string, Buffer>();
  const runs = new Map<string, { status: string; params: Map<string, string>; metrics: Record<string, unknown>[] }>();
  let experiments = 0;
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const isStr = (v: unknown) => typeof v === "string" && v.length > 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url!, "http://x");
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "PUT" && url.pathname.startsWith("/api/2.0/mlflow-artifacts/artifacts/")) {
        artifacts.set(decodeURIComponent(url.pathname.slice("/api/2.0/mlflow-artifacts/artifacts/".length)), raw);
        return reply(200, {});
      }
      const body = raw.length ? JSON.parse(raw.toString()) : undefined;
      requests.push({ method: req.method!, path: url.pathname, body });
      check(req.headers["content-type"] === "application/json", `${url.pathname}: content-type`);
      switch (`${req.method} ${url.pathname}`) {
        case "GET /api/2.0/mlflow/experiments/get-by-name":
          check(isStr(url.searchParams.get("experiment_name")), "get-by-name: experiment_name");
          if (!experiments)
            return reply(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Could not find experiment" });
          return reply(200, { experiment: { experiment_id: "1", name: url.searchParams.get("experiment_name") } });
        case "POST /api/2.0/mlflow/experiments/create":
          check(isStr(body.name), "experiments/create: name");
          experiments++;
          return reply(200, { experiment_id: "1" });
        case "POST /api/2.0/mlflow/runs/create": {
          check(isStr(body.experiment_id), "runs/create: experiment_id");
          check(Number.isInteger(body.start_time), "runs/create: start_time");
          check(
            Array.isArray(body.tags) &&
              body.tags.every((t: { key: unknown; value: unknown }) => isStr(t.key) && typeof t.value === "string"),
            "runs/create: tags",
          );
          const id = `run${runs.size + 1}`;
          runs.set(id, { status: "RUNNING", params: new Map(), metrics: [] });
          return reply(200, {
            run: {
              info: {
                run_id: id,
                run_uuid: id,
                experiment_id: "1",
                artifact_uri: `mlflow-artifacts:/1/${id}/artifacts`,
              },
            },
          });
        }
        case "POST /api/2.0/mlflow/runs/log-batch": {
          const run = runs.get(body.run_id);
          check(Boolean(run), "log-batch: run_id");
          const params = body.params ?? [];
          const metrics = body.metrics ?? [];
          check(params.length <= 100 && metrics.length <= 1000, "log-batch: batch limits");
          for (const p of params) {
            check(isStr(p.key) && typeof p.value === "string" && p.value.length <= 500, `log-batch: param ${p.key}`);
            check(!run?.params.has(p.key) || run.params.get(p.key) === p.value, `log-batch: param ${p.key} changed`);
            run?.params.set(p.key, p.value);
          }
          for (const m of metrics)
            check(
              isStr(m.key) && typeof m.value === "number" && Number.isInteger(m.timestamp) && Number.isInteger(m.step),
              `log-batch: metric ${JSON.stringify(m)}`,
            );
          if (opts.failMetrics && metrics.length)
            return reply(500, { error_code: "INTERNAL_ERROR", message: "disk full" });
          run?.metrics.push(...metrics);
          return reply(200, {});
        }
        case "POST /api/2.0/mlflow/runs/update": {
          const run = runs.get(body.run_id);
          check(Boolean(run), "runs/update: run_id");
          check(["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED"].includes(body.status), "runs/update: status");
          if (body.status !== "RUNNING") check(Number.isInteger(body.end_time), "runs/update: end_time");
          if (run) run.status = body.status;
          return reply(200, { run_info: { run_id: body.run_id, status: body.status } });
        }
        default:
          problems.push(`unexpected ${req.method} ${url.pathname}`);
          return reply(404, { error_code: "ENDPOINT_NOT_FOUND" });
      }
    });
  });
  return { server, requests, problems, artifacts, runs };
}

async function withMlflow(
  opts: { failMetrics?: boolean },
  body: (fake: ReturnType<typeof fakeMlflow>) => Promise<void>,
): Promise<void> {
  const fake = fakeMlflow(opts);
  await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", r));
  const saved = { ...process.env };
  process.env.MLFLOW_TRACKING_URI = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/`;
  process.env.MLFLOW_EXPERIMENT_NAME = "graft-tests";
  try {
    await body(fake);
  } finally {
    process.env = saved;
    await new Promise<void>((r) => fake.server.close(() => r()));
  }
}

test("--report-to mlflow: experiment, run, params, metrics, artifacts and the end status through the REST API", async () => {
  await withMlflow({}, async (fake) => {
    const dir = tmp();
    try {
      const data = makeData(32, 1);
      const args = { ...base, reportTo: ["mlflow"], saveEvery: 100 };
      // stopped after step 3 (as Ctrl-C does): the MLflow run ends KILLED
      const first = new Trainer({
        model: makeModel(1),
        args,
        trainSize: 32,
        ...task(data),
        runDir: dir,
        callbacks: [{ onLog: (t, r) => void (r.step === 3 && t.requestStop()) }],
      });
      await first.train();
      assert.deepEqual(fake.problems, []);
      assert.equal(fake.runs.size, 1);
      const run = fake.runs.get("run1")!;
      assert.equal(run.status, "KILLED");
      assert.equal(run.params.get("args.lr"), "0.05");
      assert.equal(run.params.get("args.reportTo"), '["mlflow"]');
      const create = fake.requests.find((r) => r.path.endsWith("runs/create"))!.body as { run_name: string };
      assert.equal(create.run_name, dir.split("/").at(-1));
      assert.equal(JSON.parse(readFileSync(join(dir, "mlflow.json"), "utf8")).runId, "run1");

      // resuming continues the same MLflow run to the end
      await new Trainer({ model: makeModel(1), args, trainSize: 32, ...task(data), runDir: dir }).train({
        resume: true,
      });
      assert.equal(fake.runs.size, 1);
      assert.equal(run.status, "FINISHED");
      assert.deepEqual(
        run.metrics.filter((m) => m.key === "loss").map((m) => m.step),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.deepEqual(
        run.metrics.filter((m) => m.key === "eval_accuracy").map((m) => m.step),
        [4, 8],
      );
      assert.ok(fake.artifacts.has("1/run1/artifacts/run.json"));
      assert.ok(fake.artifacts.has("1/run1/artifacts/best/model.safetensors"));
      assert.deepEqual(fake.artifacts.get("1/run1/artifacts/metrics.jsonl"), readFileSync(join(dir, "metrics.jsonl")));
      assert.deepEqual(fake.problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("a tracking server that refuses requests is reported once and training goes on", async () => {
  await withMlflow({ failMetrics: true }, async () => {
    const dir = tmp();
    const lines: string[] = [];
    try {
      const summary = await new Trainer({
        model: makeModel(1),
        args: { ...base, reportTo: ["mlflow"] },
        trainSize: 32,
        ...task(makeData(32, 1)),
        runDir: dir,
        log: (l) => lines.push(l),
      }).train();
      assert.equal(summary.globalStep, 8);
      assert.match(
        lines[0],
        /mlflow: logging metrics failed \(MLflow POST runs\/log-batch: HTTP 500 INTERNAL_ERROR: disk full\)/,
      );
      assert.match(lines.at(-1)!, /mlflow: 10 requests failed in all/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("reporting settings are checked before training", () => {
  assert.throws(
    () => mlflowSettings({}),
    (e: Error) => e instanceof ArgumentError && /MLFLOW_TRACKING_URI/.test(e.message),
  );
  assert.throws(() => mlflowSettings({ MLFLOW_TRACKING_URI: "./mlruns" }), /http\(s\) address/);
  assert.equal(
    mlflowSettings({ MLFLOW_TRACKING_URI: "http://h:5000/", MLFLOW_TRACKING_TOKEN: "t" }).headers.authorization,
    "Bearer t",
  );
  assert.throws(
    () => new Trainer({ model: makeModel(1), args: { reportTo: ["wandb"] }, trainSize: 4, ...task(makeData(4, 1)) }),
    /reportTo|report-to/,
  );
  assert.deepEqual(flattenParams({ a: { b: 1, c: [1, 2] }, d: null, e: "x".repeat(600) }), [
    { key: "a.b", value: "1" },
    { key: "a.c", value: "[1,2]" },
    { key: "d", value: "null" },
    { key: "e", value: "x".repeat(500) },
  ]);
});

test("a directory holding only a run and its event files may be overwritten", () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, "metrics.jsonl"), "");
    writeFileSync(join(dir, "events.out.tfevents.1.host.2.graft"), "");
    writeFileSync(join(dir, "mlflow.json"), "{}");
    assert.throws(() => openNewRun(dir), /not empty/);
    openNewRun(dir, { overwrite: true });
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
