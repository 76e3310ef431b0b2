/**
 * Keeps the layering of DESIGN.md honest: a file imports only from its own layer or layers below,
 * siblings stay apart, the leaf helpers import only util/, and there are no import cycles between files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(root, "src");

/** Rank of each layer; a layer may import layers of lower rank. Equal ranks are siblings (never each other). */
const RANK: Record<string, number> = {
  util: 0,
  backend: 1,
  tensor: 2,
  nn: 3,
  optim: 3,
  io: 4,
  models: 5,
  tokenizers: 5,
  train: 6,
  tune: 7,
  tasks: 8,
  serve: 9,
  cli: 10,
};
/** Leaf helpers: they import only what is listed, and any layer from io/ up may use them. */
const LEAVES: Record<string, string[]> = { data: ["util"], metrics: ["util"], report: ["util", "metrics"] };

export function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === "index") return to !== "cli";
  if (to === "index") return false;
  if (from in LEAVES) return LEAVES[from].includes(to);
  if (to in LEAVES) return RANK[from] >= RANK.io;
  if (!(from in RANK) || !(to in RANK)) return false;
  return RANK[to] < RANK[from];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(src, file).split(sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, "") : rel[0];
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s+["']([^"']+)["']/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const files = walk(src);
const graph = new Map<string, string[]>();
for (const f of files) {
  graph.set(
    f,
    importsOf(f)
      .filter((s) => s.startsWith("."))
      .map((s) => resolve(dirname(f), s.replace(/\.js$/, ".ts"))),
  );
}

test("every src/ file lives in a known layer", () => {
  const known = new Set([...Object.keys(RANK), ...Object.keys(LEAVES), "index"]);
  const strays = files.map(layerOf).filter((l) => !known.has(l));
  assert.deepEqual([...new Set(strays)], [], "files outside the layers of DESIGN.md");
});

test("imports only go down the layers", () => {
  const violations: string[] = [];
  for (const [f, deps] of graph) {
    for (const d of deps) {
      const from = layerOf(f),
        to = layerOf(d);
      if (!allowed(from, to)) violations.push(`${relative(root, f)} imports ${relative(root, d)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test("util/ uses only node:* modules and the leaf helpers use no engine code", () => {
  const bad: string[] = [];
  for (const f of files) {
    const layer = layerOf(f);
    if (layer !== "util") continue;
    for (const s of importsOf(f))
      if (!s.startsWith(".") && !s.startsWith("node:")) bad.push(`${relative(root, f)} imports ${s}`);
  }
  assert.deepEqual(bad, []);
});

test("no import cycles between files", () => {
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]): void => {
    state.set(f, 1);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1) cycles.push([...path.slice(path.indexOf(d)), d].map((p) => relative(src, p)).join(" → "));
      else if (!state.has(d)) visit(d, [...path, d]);
    }
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(cycles, []);
});

test("the architecture rules themselves reject upward and sibling imports", () => {
  assert.equal(allowed("tensor", "nn"), false);
  assert.equal(allowed("nn", "optim"), false);
  assert.equal(allowed("models", "tokenizers"), false);
  assert.equal(allowed("metrics", "tensor"), false);
  assert.equal(allowed("tensor", "data"), false);
  assert.equal(allowed("index", "cli"), false);
  assert.equal(allowed("train", "models"), true);
  assert.equal(allowed("report", "metrics"), true);
});
