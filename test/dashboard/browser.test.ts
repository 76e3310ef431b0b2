/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by puppeteer-core; no browser is
 * downloaded) against `createDashboard` over fixture runs. It checks the runs table, a curve's point count, two runs
 * overlaid after selecting them with the keyboard, a study's trials, a run that updates while its page is open,
 * and the visible messages for bad input. Screenshots go to test-artifacts/dashboard/ (GRAFT_TEST_ARTIFACTS
 * overrides). Skipped, saying why, without Chromium or a built front end; on the TypeScript backend too (the
 * dashboard runs no tensor code, and the browser is the slowest test).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Page } from "puppeteer-core";
import { createDashboard, discover } from "../../src/dashboard/index.js";
import { makeClassificationRun, makeNerRun, makeStudy, tmpDir, writePbtLineage } from "../report/fixture.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const chromium = process.env.GRAFT_CHROMIUM ?? CANDIDATES.find((p) => existsSync(p));
const built = existsSync(fileURLToPath(new URL("../../src/dashboard/assets/app.js", import.meta.url)));
const skip =
  process.env.GRAFT_BACKEND === "js"
    ? "runs on the native backend's pass only (no tensor code here)"
    : !chromium
      ? `no Chromium found (looked for ${CANDIDATES.join(", ")}; apt-get install -y chromium, or set GRAFT_CHROMIUM)`
      : !built
        ? "the dashboard's front end is not built (npm run build)"
        : false;
const artifacts = resolve(
  process.env.GRAFT_TEST_ARTIFACTS ?? fileURLToPath(new URL("../../../test-artifacts/", import.meta.url)),
  "dashboard",
);

const points = (page: Page, title: string) =>
  page.$eval(`figure.chart:has([aria-label^="${title}:"])`, (f) => f.getAttribute("data-points"));

test("the dashboard in headless Chromium: runs, curves, comparison, study, live updates, bad input", {
  skip,
  timeout: 120_000,
}, async () => {
  const root = tmpDir("graft-dashboard-ui-");
  makeClassificationRun(join(root, "cls-a"), { seed: 1, steps: 30, evalEvery: 10 });
  makeClassificationRun(join(root, "cls-b"), { seed: 2, steps: 20, evalEvery: 10, lr: 1e-4 });
  makeNerRun(join(root, "ner"));
  makeStudy(join(root, "study"));
  const segments = writePbtLineage(join(root, "study"));
  appendFileSync(join(root, "ner", "metrics.jsonl"), '{"step":21,"epoch":1,"lo'); // torn by a crash
  mkdirSync(join(root, "empty"));
  writeFileSync(join(root, "empty", "notes.txt"), "not a run");
  // a graft serve stand-in answering GET /drift, for the Served page
  const drift = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        models: {
          sentiment: {
            status: "degraded",
            reasons: ["label: chi-square p = 1e-06 <= 0.05"],
            samples: 120,
            driftedShare: 0.5,
            features: [
              {
                feature: "label",
                kind: "cat",
                test: "chisquare",
                statistic: 31,
                pValue: 1e-6,
                threshold: 0.05,
                drift: true,
              },
              {
                feature: "length",
                kind: "num",
                test: "ks",
                statistic: 0.05,
                pValue: 0.6,
                threshold: 0.05,
                drift: false,
              },
            ],
            embeddings: null,
            notes: [],
          },
        },
      }),
    );
  });
  await new Promise<void>((r) => drift.listen(0, "127.0.0.1", r));
  const serveUrl = `http://127.0.0.1:${(drift.address() as AddressInfo).port}`;
  const app = await createDashboard({
    roots: [root, join(root, "missing")],
    pollMs: 100,
    serve: [serveUrl],
    drift: { everyMs: 200 },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
  const ids = Object.fromEntries(discover([root]).map((e) => [e.name, e.id]));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    args: ["--no-sandbox", "--disable-gpu", "--headless=new"],
  });
  mkdirSync(artifacts, { recursive: true });
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

    // the runs table lists every fixture run and study, and says what it could not read
    await page.goto(base, { waitUntil: "load" });
    await page.waitForSelector("table.runs tbody tr");
    const names = await page.$$eval("table.runs tbody th a", (as) => as.map((a) => a.textContent).sort());
    assert.deepEqual(names, ["cls-a", "cls-b", "ner", "study"]);
    const alert = await page.$eval(".notes", (n) => n.textContent ?? "");
    assert.match(alert, /missing: no such directory/);
    await shot("runs");

    // select two runs with the keyboard and compare them: every curve overlays both
    await page.focus(`tr[data-id="${ids["cls-a"]}"] input[type=checkbox]`);
    await page.keyboard.press("Space");
    await page.focus(`tr[data-id="${ids["cls-b"]}"] input[type=checkbox]`);
    await page.keyboard.press("Space");
    await page.click("button:not([disabled]):not(.sort)");
    await page.waitForSelector('figure.chart[data-series="2"]');
    assert.equal(await points(page, "train loss"), "30,20");
    await shot("compare");

    // a run's curve has one point per logged step, and grows while the run writes
    await page.goto(`${base}#/run/${ids["cls-a"]}`, { waitUntil: "load" });
    await page.waitForSelector("figure.chart");
    assert.equal(await points(page, "train loss"), "30");
    assert.equal(await points(page, "eval accuracy"), "3");
    await shot("run");
    appendFileSync(join(root, "cls-a", "metrics.jsonl"), '{"step":31,"epoch":1.1,"loss":0.2,"lr":1e-5}\n');
    // (a string: the function runs in the page, whose DOM types this Node-typed file does not have)
    await page.waitForFunction(
      `document.querySelector('figure.chart:has([aria-label^="train loss:"])')?.getAttribute("data-points") === "31"`,
      { timeout: 10_000 },
    );

    // a run whose log was cut short says so, and still shows what it could read
    await page.goto(`${base}#/run/${ids.ner}`, { waitUntil: "load" });
    await page.waitForSelector(".notes");
    assert.match(await page.$eval(".notes", (n) => n.textContent ?? ""), /metrics\.jsonl line \d+: cut short/);
    assert.ok((await page.$$("mark.ent")).length > 0, "entities are highlighted in the worst predictions");
    await shot("ner");

    // a study page shows every trial, with pruned and failed ones named
    await page.goto(`${base}#/study/${ids.study}`, { waitUntil: "load" });
    await page.waitForSelector("table.trials tbody tr");
    assert.equal((await page.$$("table.trials tbody tr")).length, 12);
    const states = await page.$$eval("table.trials tbody tr td:first-of-type", (tds) => tds.map((t) => t.textContent));
    assert.equal(states.filter((s) => s?.startsWith("pruned")).length, 2);
    assert.ok(await page.$("svg.parallel polyline"));
    assert.equal((await page.$$("svg.lineage rect.segment")).length, segments);
    assert.equal((await page.$$("svg.lineage line.exploit")).length, 1);
    await shot("study");

    // the Served page: each model's drift status, its features' tests, and their history
    await page.goto(`${base}#/served`, { waitUntil: "load" });
    await page.waitForSelector("table.drift tbody tr");
    assert.equal((await page.$$("table.drift tbody tr")).length, 2);
    assert.match(await page.$eval(".served-model h3", (h) => h.textContent ?? ""), /sentiment\s*degraded/);
    await shot("served");

    // an id that is not there is a visible message, never a blank page
    await page.goto(`${base}#/run/000000000000`, { waitUntil: "load" });
    await page.waitForSelector("p.error");
    assert.match(await page.$eval("p.error", (p) => p.textContent ?? ""), /no run 000000000000/);
    assert.deepEqual(
      errors.filter((e) => !/404/.test(e)),
      [],
    );
  } finally {
    await browser.close();
    await app.close();
    await new Promise<void>((r) => drift.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  }
});
