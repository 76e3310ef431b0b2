/**
 * Keeps the layering of DESIGN.md honest: a file imports only from its own layer or layers below,
 * siblings stay apart, the leaf helpers import only util/, and there are no import cycles between files; and
 * above tensor/ nothing reads a tensor's storage as a typed array, outside a short allow-list.
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
  chat: 6,
  tune: 7,
  tasks: 8,
  recommend: 8,
  methods: 9,
  serve: 9,
  dashboard: 9,
  cli: 10,
};
/** Leaf helpers: they import only what is listed, and any layer from io/ up may use them. */
const LEAVES: Record<string, string[]> = {
  data: ["util"],
  metrics: ["util"],
  recsys: ["util", "metrics"],
  report: ["util", "metrics"],
  monitor: ["util", "report"],
};

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

// ---- typed-array reads of tensors above tensor/

/**
 * Layers above tensor/ that handle tensors. They read values with tensor ops, toArray() or item(); a tensor's
 * storage is internal to tensor/ (a typed array on the CPU backends, a device buffer on a GPU backend). The leaf
 * helpers data/, metrics/ and report/ work on plain and typed arrays by design and never see a tensor.
 */
const ABOVE_TENSOR = [
  "nn",
  "optim",
  "io",
  "models",
  "tokenizers",
  "train",
  "tune",
  "tasks",
  "recommend",
  "serve",
  "cli",
];

/**
 * Files allowed to take bulk typed copies of tensors (toFloat32Array()), each for a reason. Nothing above tensor/
 * may ever touch a storage or the backend's host internals.
 */
const TYPED_COPY_ALLOWED: Record<string, string> = {
  // encodes tensors into file bytes: one host copy of each tensor when saving
  "io/safetensors.ts": "writes tensors to files",
  // top-k over all items: each block of user × item scores (64 × 100k) leaves the backend once for the scan
  "recommend/serving.ts": "reads blocks of recommendation scores for the top-k scan",
  // data parallelism: gradient buckets and initial weights go to and from MPI's all-reduce and broadcast as bytes
  "train/data-parallel.ts": "copies gradient buckets and weights to and from the MPI collectives",
};

/** Blanks comments, keeping line breaks so reported line numbers stay right. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, " "));
}

/**
 * Every typed-array read of a tensor in one file's text: "line: what". Storage internals are always an error;
 * bulk typed copies only outside the allow-list (`copiesAllowed`).
 */
export function typedArrayReads(text: string, copiesAllowed = false): string[] {
  const code = stripComments(text);
  // a class deriving from Tensor may reach its own storage as this.storage; elsewhere this.storage is another thing
  const tensorSubclass = /\bextends\s+(?:Tensor|Parameter)\b/.test(code);
  const rules: [RegExp, string][] = [
    [tensorSubclass ? /\.storage\b/g : /(?<!\bthis)\.storage\b/g, "reads a tensor's storage"],
    [/\.(?:f32|i32)\b(?!\s*\()/g, "reads a typed-array accessor (.f32/.i32)"],
    [/\bHostStorage\b|["'][^"']*\/backend\/(?:host|js\/[^"']*)\.js["']/g, "uses the CPU backend's storage internals"],
    [/\.download\s*\(/g, "downloads a storage"],
  ];
  if (!copiesAllowed) rules.push([/\.toFloat32Array\s*\(/g, "takes a bulk typed copy (toFloat32Array)"]);
  const found: string[] = [];
  for (const [re, what] of rules)
    for (const m of code.matchAll(re)) found.push(`${code.slice(0, m.index).split("\n").length}: ${what}`);
  return found;
}

test("above tensor/, nothing reads tensors as typed arrays outside the allow-list", () => {
  const violations: string[] = [];
  for (const f of files) {
    if (!ABOVE_TENSOR.includes(layerOf(f))) continue;
    const rel = relative(src, f).split(sep).join("/");
    const allowed = rel in TYPED_COPY_ALLOWED;
    for (const v of typedArrayReads(readFileSync(f, "utf8"), allowed)) violations.push(`src/${rel}:${v}`);
  }
  assert.deepEqual(violations, [], "use tensor ops, toArray() or item(); see TYPED_COPY_ALLOWED");
});

test("the allow-lists name existing files", () => {
  for (const rel of Object.keys(TYPED_COPY_ALLOWED))
    assert.ok(files.includes(join(src, ...rel.split("/"))), `${rel} does not exist`);
});

test("the typed-array rule rejects violations and lets plain reads through", () => {
  const bad = [
    "const w = p.storage;",
    "p.f32.fill(0);",
    "for (const v of ids.i32) n += v;",
    "const row = logits.toFloat32Array();",
    'import { HostStorage } from "../backend/host.js";',
    'import { jsKernels } from "../../backend/js/index.js";',
    "const raw = backend().download(t.storage);",
  ];
  for (const line of bad) assert.notDeepEqual(typedArrayReads(line), [], `should reject: ${line}`);
  assert.deepEqual(typedArrayReads("const xs = t.toFloat32Array();", true), [], "an allowed copy");
  assert.deepEqual(typedArrayReads("class P extends Parameter { f() { return this.storage; } }").length, 1);
  const fine = [
    "const v = logits.toArray();",
    "const loss = out.loss.item();",
    "this.storage.saveTrial(t); // a study's storage, not a tensor's",
    "// comments may say p.storage or t.f32",
    "const d = config.data; const f = formatF32(x);",
    'import { backend } from "../backend/index.js";',
  ];
  for (const line of fine) assert.deepEqual(typedArrayReads(line), [], `should accept: ${line}`);
  assert.deepEqual(typedArrayReads("a\nb\nconst w = p.storage;"), ["3: reads a tensor's storage"], "line numbers");
});
