import { test } from "node:test";
import assert from "node:assert/strict";
import { formatNumber, linearTicks, logTicks, makeScale, niceStep, tickFormatter } from "../../src/report/scale.js";
import { decimate, escapeXml, heatmap, plot, rampColor, type Point } from "../../src/report/svg.js";
import { findAll, parseXml, textOf, type XmlElement } from "./xml.js";

/** The pen positions of a path's d attribute: [[x, y], ...] per subpath, resolving H and V. */
function subpaths(d: string): [number, number][][] {
  const out: [number, number][][] = [];
  let x = 0,
    y = 0;
  for (const [, cmd, args] of d.matchAll(/([MLHV])([^MLHV]*)/g)) {
    const v = args!.trim().split(/\s+/).map(Number);
    if (cmd === "M") {
      x = v[0]!;
      y = v[1]!;
      out.push([[x, y]]);
      continue;
    }
    if (cmd === "L") {
      x = v[0]!;
      y = v[1]!;
    }
    if (cmd === "H") x = v[0]!;
    if (cmd === "V") y = v[0]!;
    out[out.length - 1]!.push([x, y]);
  }
  return out;
}

function frame(svg: XmlElement): { x0: number; x1: number; y0: number; y1: number } {
  const r = findAll(svg, "rect").find((e) => e.attrs.class === "frame")!;
  const x = Number(r.attrs.x),
    y = Number(r.attrs.y),
    w = Number(r.attrs.width),
    h = Number(r.attrs.height);
  return { x0: x, x1: x + w, y0: y + h, y1: y };
}

function seriesPath(svg: XmlElement, name: string): string {
  const g = findAll(svg, "g").find((e) => e.attrs["data-series"] === name);
  assert.ok(g, `no series ${name}`);
  return findAll(g, "path")[0]!.attrs.d!;
}

test("escapeXml escapes markup and replaces characters XML forbids", () => {
  assert.equal(escapeXml(`a<b>&"c'`), "a&lt;b&gt;&amp;&quot;c&#39;");
  assert.equal(escapeXml("x\u0001y"), "x\ufffdy");
});

test("nice steps, linear and log ticks, and number formatting", () => {
  assert.equal(niceStep(10, 5), 2);
  assert.equal(niceStep(1, 5), 0.2);
  assert.equal(niceStep(0.37, 5), 0.05);
  assert.deepEqual(linearTicks(0.03, 0.97, 5).ticks, [0.2, 0.4, 0.6, 0.8]);
  const ext = linearTicks(0.27, 1.13, 5, true);
  assert.deepEqual(ext.domain, [0.2, 1.2]);
  assert.deepEqual(ext.ticks, [0.2, 0.4, 0.6, 0.8, 1, 1.2]);
  assert.deepEqual(logTicks(2e-5, 3e-4).ticks, [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3]);
  assert.deepEqual(logTicks(2e-5, 3e-3).ticks, [1e-5, 1e-4, 1e-3, 1e-2]);
  assert.deepEqual(logTicks(3, 5e6).ticks, [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7]);
  assert.equal(formatNumber(5e-5), "5e-5");
  assert.equal(formatNumber(0.123456), "0.123");
  assert.equal(formatNumber(12000), "12k");
  assert.equal(formatNumber(2500000), "2.5M");
  assert.equal(formatNumber(42), "42");
  assert.equal(formatNumber(NaN), "NaN");
  const f = tickFormatter(1e-5, [0, 1e-5, 2e-5, 5e-5]);
  assert.deepEqual([0, 1e-5, 2e-5].map(f), ["0", "1e-5", "2e-5"]);
  const g = tickFormatter(0.25, [0, 0.25, 0.5]);
  assert.deepEqual([0, 0.25, 0.5].map(g), ["0", "0.25", "0.5"]);
  assert.deepEqual([0, 10000, 20000].map(tickFormatter(10000, [0, 10000, 20000])), ["0", "10k", "20k"]);
});

test("a scale maps its domain onto its range, linearly or logarithmically", () => {
  const lin = makeScale([0, 10], [100, 300]);
  assert.equal(lin.map(0), 100);
  assert.equal(lin.map(5), 200);
  assert.equal(lin.map(10), 300);
  const log = makeScale([1e-5, 1e-3], [0, 200], { log: true });
  assert.deepEqual(log.domain, [1e-5, 1e-3]);
  assert.ok(Math.abs(log.map(1e-4) - 100) < 1e-9);
  // a flat series still gets a visible, labelled band
  const flat = makeScale([3, 3, 3], [0, 100], { nice: true });
  assert.ok(flat.domain[0] < 3 && flat.domain[1] > 3 && flat.ticks.length >= 2);
});

test("plot: well-formed SVG with accessible title, one path per series and every point mapped into the frame", () => {
  const a: Point[] = Array.from({ length: 50 }, (_, i) => [i + 1, 1 / (i + 1)]);
  const b: Point[] = [
    [10, 0.5],
    [20, 0.3],
    [30, 0.2],
    [40, 0.15],
    [50, 0.12],
  ];
  const src = plot({
    title: "Loss <train & val>",
    x: { label: "step" },
    y: { label: "loss" },
    series: [
      { name: "training loss", points: a },
      { name: "validation loss", points: b, kind: "line+markers" },
    ],
    vlines: [{ x: 30, label: "best" }],
  });
  const svg = parseXml(src);
  assert.equal(svg.name, "svg");
  assert.equal(svg.attrs.xmlns, "http://www.w3.org/2000/svg");
  assert.equal(svg.attrs.role, "img");
  assert.equal(svg.attrs["aria-label"], "Loss <train & val>");
  assert.equal(textOf(findAll(svg, "title")[0]!), "Loss <train & val>");
  const trainPath = subpaths(seriesPath(svg, "training loss"));
  assert.equal(trainPath.length, 1);
  assert.equal(trainPath[0]!.length, 50);
  assert.equal(subpaths(seriesPath(svg, "validation loss"))[0]!.length, 5);
  const circles = findAll(findAll(svg, "g").find((e) => e.attrs["data-series"] === "validation loss")!, "circle");
  assert.equal(circles.length, 5);
  const f = frame(svg);
  for (const [x, y] of trainPath[0]!) {
    assert.ok(
      x >= f.x0 - 0.01 && x <= f.x1 + 0.01 && y <= f.y0 + 0.01 && y >= f.y1 - 0.01,
      `(${x}, ${y}) outside the frame`,
    );
  }
  // x runs over [1, 50] exactly: first and last points sit on the frame's edges
  assert.ok(Math.abs(trainPath[0]![0]![0] - f.x0) < 0.01 && Math.abs(trainPath[0]![49]![0] - f.x1) < 0.01);
  // y is monotone: larger loss is higher up (smaller pixel y)
  for (let i = 1; i < 50; i++) assert.ok(trainPath[0]![i]![1] >= trainPath[0]![i - 1]![1]);
  // legend names both series, the vertical marker is drawn
  const legendTexts = findAll(findAll(svg, "g").find((e) => e.attrs.class === "legend")!, "text").map(textOf);
  assert.deepEqual(legendTexts, ["training loss", "validation loss"]);
  assert.equal(findAll(svg, "g").filter((e) => e.attrs.class === "vline").length, 1);
});

test("plot: values map to exact coordinates on a fixed [0, 1] domain; step series and gaps", () => {
  const src = plot({
    title: "ROC",
    x: { domain: [0, 1] },
    y: { domain: [0, 1] },
    width: 400,
    height: 400,
    legend: false,
    series: [
      {
        name: "curve",
        points: [
          [0, 0],
          [0.25, 0.5],
          [NaN, NaN],
          [0.5, 0.75],
          [1, 1],
        ],
      },
      {
        name: "steps",
        points: [
          [0, 1],
          [0.5, 0.5],
          [1, 0],
        ],
        kind: "step",
      },
    ],
    refLines: [{ from: [0, 0], to: [1, 1] }],
  });
  const svg = parseXml(src);
  const f = frame(svg);
  const X = (v: number) => f.x0 + v * (f.x1 - f.x0),
    Y = (v: number) => f.y0 + v * (f.y1 - f.y0);
  const curve = subpaths(seriesPath(svg, "curve"));
  assert.equal(curve.length, 2, "the NaN point breaks the line in two");
  const near = (p: [number, number], x: number, y: number) =>
    assert.ok(Math.abs(p[0] - X(x)) < 0.011 && Math.abs(p[1] - Y(y)) < 0.011, `${p} is not (${X(x)}, ${Y(y)})`);
  near(curve[0]![0]!, 0, 0);
  near(curve[0]![1]!, 0.25, 0.5);
  near(curve[1]![0]!, 0.5, 0.75);
  near(curve[1]![1]!, 1, 1);
  const steps = subpaths(seriesPath(svg, "steps"))[0]!;
  // steps-post: (0,1) → (0.5,1) → (0.5,0.5) → (1,0.5) → (1,0)
  assert.equal(steps.length, 5);
  near(steps[1]!, 0.5, 1);
  near(steps[2]!, 0.5, 0.5);
  near(steps[3]!, 1, 0.5);
  const ref = findAll(svg, "line").find((l) => l.attrs.class === "ref")!;
  near([Number(ref.attrs.x1), Number(ref.attrs.y1)], 0, 0);
  near([Number(ref.attrs.x2), Number(ref.attrs.y2)], 1, 1);
});

test("plot: bars, log axes and categorical axes", () => {
  const svg = parseXml(
    plot({
      title: "bars",
      x: { domain: [0, 1] },
      y: { domain: [0, 1] },
      bars: [
        { x0: 0, x1: 0.5, y: 0.25, title: "low" },
        { x0: 0.5, x1: 1, y: 1, title: "high" },
      ],
    }),
  );
  const rects = findAll(findAll(svg, "g").find((e) => e.attrs.class === "bars")!, "rect");
  assert.equal(rects.length, 2);
  const f = frame(svg);
  const h0 = Number(rects[0]!.attrs.height),
    h1 = Number(rects[1]!.attrs.height);
  assert.ok(Math.abs(h1 - (f.y0 - f.y1)) < 0.02 && Math.abs(h0 - h1 / 4) < 0.02, `bar heights ${h0}, ${h1}`);

  const log = parseXml(
    plot({
      title: "lr",
      x: { log: true },
      y: {},
      series: [
        {
          name: "s",
          points: [
            [1e-5, 1],
            [1e-4, 2],
            [1e-3, 3],
          ],
          kind: "markers",
        },
      ],
    }),
  );
  const cx = findAll(log, "circle").map((c) => Number(c.attrs.cx));
  assert.ok(Math.abs(cx[1]! - cx[0]! - (cx[2]! - cx[1]!)) < 0.02, "decades are equally spaced on a log axis");

  const cat = parseXml(
    plot({
      title: "cat",
      x: { categories: ["cosine", "linear"] },
      y: {},
      series: [
        {
          name: "s",
          points: [
            [0, 1],
            [1, 2],
          ],
          kind: "markers",
        },
      ],
    }),
  );
  const labels = findAll(findAll(cat, "g").find((e) => e.attrs.class === "ticks")!, "text").map(textOf);
  assert.ok(labels.includes("cosine") && labels.includes("linear"));
});

test("plot output is deterministic and long series are thinned without losing extremes", () => {
  const pts: Point[] = Array.from({ length: 20000 }, (_, i) => [i, Math.sin(i / 50) + (i === 12345 ? 5 : 0)]);
  const opts = { title: "long", x: {}, y: {}, series: [{ name: "s", points: pts }] };
  const a = plot(opts),
    b = plot(opts);
  assert.equal(a, b);
  const path = subpaths(seriesPath(parseXml(a), "s"))[0]!;
  assert.ok(path.length <= 1200 && path.length > 300, `${path.length} points drawn`);
  const d = decimate(pts, 100);
  assert.ok(
    d.some(([x, y]) => x === 12345 && y === pts[12345]![1]),
    "the spike survives",
  );
  assert.deepEqual(d[0], pts[0]);
  assert.deepEqual(d[d.length - 1], pts[pts.length - 1]);
  for (let i = 1; i < d.length; i++) assert.ok(d[i]![0] > d[i - 1]![0]);
});

test("heatmap: one cell per entry with its value, colour by intensity, labels escaped", () => {
  const values = [
    [5, 1, 0],
    [2, 7, 1],
    [0, 0, 9],
  ];
  const src = heatmap({
    title: "Confusion matrix",
    rowLabels: ["a<b", "c&d", "e"],
    colLabels: ["a<b", "c&d", "e"],
    values,
    rowAxis: "true",
    colAxis: "predicted",
  });
  const svg = parseXml(src);
  const cells = findAll(svg, "g").filter((g) => g.attrs.class === "cell");
  assert.equal(cells.length, 9);
  assert.deepEqual(
    cells.map((c) => textOf(findAll(c, "text")[0]!)),
    ["5", "1", "0", "2", "7", "1", "0", "0", "9"],
  );
  const fill = (i: number) => findAll(cells[i]!, "rect")[0]!.attrs.fill;
  assert.equal(fill(8), rampColor(1));
  assert.equal(fill(2), rampColor(0));
  const ticks = findAll(findAll(svg, "g").find((g) => g.attrs.class === "ticks")!, "text").map(textOf);
  assert.ok(ticks.includes("a<b") && ticks.includes("c&d"));
  assert.throws(() => heatmap({ title: "bad", rowLabels: ["a"], colLabels: ["a", "b"], values: [[1]] }), /1 × 2/);
});

test("the colour ramp runs from white to dark blue", () => {
  assert.equal(rampColor(0), "#f7fbff");
  assert.equal(rampColor(1), "#08306b");
  const lum = (c: string) => parseInt(c.slice(1, 3), 16) + parseInt(c.slice(3, 5), 16) + parseInt(c.slice(5, 7), 16);
  for (let t = 0.1; t <= 1; t += 0.1) assert.ok(lum(rampColor(t)) < lum(rampColor(t - 0.1)));
});

test("the XML checker itself rejects malformed markup", () => {
  assert.throws(() => parseXml("<a><b></a>"), /does not match/);
  assert.throws(() => parseXml("<a>x & y</a>"), /bare "&"/);
  assert.throws(() => parseXml('<a b="1" b="2"/>'), /duplicate/);
  assert.throws(() => parseXml("<a b=1/>"), /not quoted/);
  assert.throws(() => parseXml("<a>"), /unclosed/);
  assert.equal(textOf(parseXml("<a>x &amp; &#60;y&#x3e;</a>")), "x & <y>");
});
