/**
 * The report in a real browser: headless Chromium (Debian's `chromium`) loads report.html from disk, and the test
 * asserts on the DOM Chromium built (the charts are there, with their titles, and nothing was refused by the
 * page's Content-Security-Policy) and on the layout (every chart, line and label has a size on screen, measured
 * by a probe script in a copy of the page). Screenshots are kept in test-artifacts/report/ (GRAFT_TEST_ARTIFACTS
 * overrides). Skipped, saying why, when no Chromium is installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeReport } from "../../src/report/index.js";
import { makeClassificationRun, makeNerRun, makeStudy, tmpDir } from "./fixture.js";
import { findAll, parseXml, svgFragments, textOf } from "./xml.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const chromium = process.env.GRAFT_CHROMIUM ?? CANDIDATES.find((p) => existsSync(p));
const skip = chromium
  ? false
  : `no Chromium found (looked for ${CANDIDATES.join(", ")}; install it with "apt-get install -y chromium" or set GRAFT_CHROMIUM)`;
const artifacts = resolve(
  process.env.GRAFT_TEST_ARTIFACTS ?? fileURLToPath(new URL("../../../test-artifacts/", import.meta.url)),
  "report",
);

interface Shot {
  dom: string;
  log: string;
}

/** Loads a page in a fresh headless Chromium profile: the DOM after load, and optionally a screenshot. */
function chrome(file: string, screenshot?: string): Promise<Shot> {
  const profile = mkdtempSync(join(tmpdir(), "graft-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    "--enable-logging=stderr",
    "--v=0",
    "--dump-dom",
    ...(screenshot ? [`--screenshot=${screenshot}`, "--window-size=1280,2400"] : []),
    pathToFileURL(file).href,
  ];
  return new Promise((res, rej) => {
    execFile(chromium!, args, { timeout: 90_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) rej(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else res({ dom: stdout, log: stderr });
    });
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  assert.equal(b.subarray(1, 4).toString("latin1"), "PNG", `${path} is not a PNG`);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

/** Measures every chart, series path and tick label once the page is laid out; writes JSON into #probe. */
const PROBE = `<script>
addEventListener("load", () => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
  const charts = [...document.querySelectorAll("svg.chart")].map((svg) => ({
    title: svg.querySelector("title").textContent,
    size: box(svg),
    intrinsic: [svg.width.baseVal.value, svg.height.baseVal.value],
    paths: [...svg.querySelectorAll("g.series path")].map((p) => p.getTotalLength()),
    dots: [...svg.querySelectorAll("circle")].map((c) => box(c)[0]),
    labels: [...svg.querySelectorAll("g.ticks text")].map((t) => t.getBBox().width),
    // screen boxes, so rotated labels count as drawn
    offscreenText: [...svg.querySelectorAll("text")].filter((t) => {
      const r = t.getBoundingClientRect(), s = svg.getBoundingClientRect();
      return r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1;
    }).map((t) => t.textContent),
  }));
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(charts);
  document.body.append(pre);
});
</script>`;

interface Probe {
  title: string;
  size: [number, number];
  intrinsic: [number, number];
  paths: number[];
  dots: number[];
  labels: number[];
  offscreenText: string[];
}

test("the run report renders in headless Chromium: charts present, laid out, and a screenshot saved", {
  skip,
  timeout: 180_000,
}, async () => {
  const dir = tmpDir();
  try {
    makeClassificationRun(join(dir, "run"));
    const report = writeReport(join(dir, "run")).path;
    mkdirSync(artifacts, { recursive: true });
    const png = join(artifacts, "classification-report.png");
    rmSync(png, { force: true });
    const { dom, log } = await chrome(report, png);

    // the DOM Chromium parsed holds the charts with their accessible titles
    assert.equal((dom.match(/<svg[\s>]/g) ?? []).length, 9, "nine charts in the rendered DOM");
    const titles = svgFragments(dom).map((s) => textOf(findAll(parseXml(s), "title")[0]!));
    for (const t of [
      "Loss",
      "Validation metrics",
      "Learning rate",
      "Confusion matrix",
      "ROC curves (one-vs-rest)",
      "Precision-recall curves (one-vs-rest)",
      "Throughput",
    ]) {
      assert.ok(titles.includes(t), `chart "${t}" missing from the rendered page (has ${titles.join(", ")})`);
    }
    assert.ok(titles.some((t) => t.startsWith("Reliability diagram")));
    assert.match(dom, /<h2>Evaluation: classification \(step \d+\)<\/h2>/);
    assert.doesNotMatch(log, /Refused to|Content Security Policy|net::ERR_/, "the page tried to load something");

    // the screenshot: the requested size, and not blank (a white 1280×2400 PNG compresses to a few kB)
    assert.deepEqual(pngSize(png), [1280, 2400]);
    assert.ok(statSync(png).size > 50_000, `screenshot is only ${statSync(png).size} bytes`);
    writeFileSync(join(artifacts, "classification-report.html"), readFileSync(report));

    // layout: a copy of the page with a probe script (the report's own policy forbids scripts)
    const probePage = join(dir, "probe.html");
    writeFileSync(
      probePage,
      readFileSync(report, "utf8")
        .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "")
        .replace("</body>", `${PROBE}</body>`),
    );
    const probed = await chrome(probePage);
    const m = /<pre id="probe">([\s\S]*?)<\/pre>/.exec(probed.dom);
    assert.ok(m, "the probe ran");
    const charts = JSON.parse(m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")) as Probe[];
    assert.equal(charts.length, 9);
    for (const c of charts) {
      // at 1280 px every chart fits: it must be drawn at its own size, not squashed or collapsed
      assert.ok(
        c.size[0] >= 200 && Math.abs(c.size[0] - c.intrinsic[0]) <= 1 && Math.abs(c.size[1] - c.intrinsic[1]) <= 1,
        `${c.title}: laid out at ${c.size}, drawn for ${c.intrinsic}`,
      );
      assert.ok(
        c.paths.every((len) => len > 10),
        `${c.title}: a series path has no length (${c.paths})`,
      );
      assert.ok(c.labels.length > 0 && c.labels.every((w) => w > 0), `${c.title}: tick labels without width`);
      assert.deepEqual(c.offscreenText, [], `${c.title}: text outside the chart`);
    }
    const loss = charts.find((c) => c.title === "Loss")!;
    assert.equal(loss.paths.length, 2, "training and validation loss");
    assert.ok(loss.dots.length === 5 && loss.dots.every((w) => w >= 5), "five evaluation markers drawn");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("NER and study reports render in headless Chromium", { skip, timeout: 180_000 }, async () => {
  const dir = tmpDir();
  try {
    makeNerRun(join(dir, "ner"));
    makeStudy(join(dir, "study"));
    mkdirSync(artifacts, { recursive: true });
    const cases: [string, number, string[]][] = [
      ["ner", 6, ["F1 by entity type", "Token confusion by entity type"]],
      ["study", 5, ["Optimization history", "Intermediate values", "eval_accuracy vs lr"]],
    ];
    for (const [name, count, expect] of cases) {
      const png = join(artifacts, `${name}-report.png`);
      const { dom } = await chrome(writeReport(join(dir, name)).path, png);
      const titles = svgFragments(dom).map((s) => textOf(findAll(parseXml(s), "title")[0]!));
      assert.equal(titles.length, count, `${name}: ${titles.join(", ")}`);
      for (const t of expect) assert.ok(titles.includes(t), `${name}: chart "${t}" missing`);
      assert.deepEqual(pngSize(png), [1280, 2400]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
