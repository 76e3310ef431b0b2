/**
 * Content analysis speed: sentence embeddings/s of the bundled model at batch 32, k-means (k-means++ then fixed
 * Lloyd iterations) on n×d random vectors, exact top-k search queries/s over n vectors, and an HNSW index (build
 * time, queries/s, recall@k against exact) on a smaller collection; next to transformers (torch CPU),
 * scikit-learn's KMeans and numpy brute-force search measured in the same run. k-means and exact search run
 * twice: block products through the engine's GEMM (what graft uses) and the plain TypeScript loops (the same
 * results). The HNSW part also builds hnswlib-node's index (the optional dependency) on the same vectors, and on
 * all n of them (--hnswlib-n), when it is installed.
 *
 * usage: npm run bench -- embed [--texts N] [--n N] [--d D] [--k K] [--iters I] [--queries Q] [--hnsw-n N]
 *                               [--hnswlib-n N] [--skip-embed] [--skip-loops] [--threads T]
 *                               [--torch-python PY] [--sklearn-python PY]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Embedder } from "../src/methods/sentence.js";
import { ExactIndex, HnswIndex, kmeans, type Hit, type Matrix } from "../src/data/vectors/index.js";
import { rowProducts } from "../src/tensor/index.js";
import { loadHnswlib } from "../src/data/vectors/hnswlib.js";
import { Rng } from "../src/util/rng.js";

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const nTexts = Number(flag("texts", "512"));
const n = Number(flag("n", "100000"));
const d = Number(flag("d", "256"));
const k = Number(flag("k", "10"));
const iters = Number(flag("iters", "10"));
const queries = Number(flag("queries", "200"));
const hnswN = Number(flag("hnsw-n", "20000"));
const hnswlibN = Number(flag("hnswlib-n", String(n)));
const skipEmbed = args.includes("--skip-embed");
const skipLoops = args.includes("--skip-loops");
const skipVectors = args.includes("--skip-vectors");
const skipHnsw = args.includes("--skip-hnsw");
const threads = Number(flag("threads", process.env.GRAFT_NUM_THREADS ?? "2"));
const torchPy = flag("torch-python", "/work/venv/bin/python");
const sklearnPy = flag("sklearn-python", "/work/venv-peers/bin/python");
const model = join(root, "models", "graft-base");
const peerScript = join(root, "bench", "embed_peer.py");

function peer(py: string, argv: string[]): Record<string, number | string> | null {
  if (!existsSync(py)) return null;
  const r = spawnSync(py, [peerScript, ...argv], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) {
    process.stderr.write(`peer failed: ${r.stderr.slice(-500)}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

function random(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, n: rows, d: cols };
}

const ratio = (ours: number, theirs: number | undefined) => (theirs ? `${(ours / theirs).toFixed(2)}×` : "-");
/** Result lines, each printed as soon as it is measured (a long run under load keeps what it finished). */
const lines = {
  push(line: string) {
    process.stdout.write(`${line}\n`);
  },
};

// 1. embeddings/s at batch 32: AG News test texts when the shared data is there, else synthetic sentences
const ag = join(root, "..", "..", "shared", "datasets", "ag_news", "test.tsv");
const texts = existsSync(ag)
  ? readFileSync(ag, "utf8")
      .split("\n")
      .slice(1, nTexts + 1)
      .map((l) => l.split("\t")[0])
  : Array.from({ length: nTexts }, (_, i) => `sentence number ${i} about markets, sport and science news of the day`);
const work = mkdtempSync(join(tmpdir(), "graft-bench-embed-"));
const textsFile = join(work, "texts.txt");
writeFileSync(textsFile, texts.join("\n") + "\n");
let t0 = performance.now();
if (!skipEmbed) {
  const embedder = new Embedder(model);
  await embedder.embedTexts(texts.slice(0, 32)); // warm-up
  t0 = performance.now();
  await embedder.embedTexts(texts, { batchSize: 32 });
  const embedRate = texts.length / ((performance.now() - t0) / 1000);
  const pe = peer(torchPy, ["embed", model, textsFile, "32", String(threads)]);
  const peerEmbedRate = pe ? (pe.texts as number) / (pe.seconds as number) : undefined;
  lines.push(
    `embeddings (graft-base, batch 32, ${texts.length} texts): graft ${embedRate.toFixed(1)}/s, transformers ${peerEmbedRate?.toFixed(1) ?? "-"}/s, ratio ${ratio(embedRate, peerEmbedRate)}`,
  );
}

const x = random(n, d, 1);
const q = random(queries, d, 2);
let truth: Hit[][] | null = null;
/** Exact top 10 of the queries over the first `size` vectors. */
const exactTop = (size: number): Hit[][] =>
  size === n && truth
    ? truth
    : new ExactIndex({ data: x.data.subarray(0, size * d), n: size, d }, "cosine", 256, rowProducts).search(q, 10);
const recall = (approx: Hit[][], exactHits: Hit[][]) => {
  let hit = 0;
  approx.forEach((a, i) => {
    const t = new Set(exactHits[i].map((h) => h.index));
    hit += a.filter((h) => t.has(h.index)).length;
  });
  return hit / (10 * approx.length);
};

if (!skipVectors) {
  // 2. k-means on n×d, fixed iterations (tol 0) after k-means++
  t0 = performance.now();
  const km = kmeans(x, { k, nInit: 1, maxIter: iters, tol: 0, seed: 0, products: rowProducts });
  const kmSeconds = (performance.now() - t0) / 1000;
  let kmLoopSeconds = NaN;
  if (!skipLoops) {
    t0 = performance.now();
    const loops = kmeans(x, { k, nInit: 1, maxIter: iters, tol: 0, seed: 0 });
    kmLoopSeconds = (performance.now() - t0) / 1000;
    if (loops.inertia !== km.inertia) throw new Error("k-means: the GEMM and the loops disagree");
  }
  // 3. exact search: queries over the n vectors, top 10 (the index built outside the timing)
  const exact = new ExactIndex(x, "cosine", 256, rowProducts);
  exact.search(random(4, d, 3), 10); // warm-up (the rows' lengths)
  t0 = performance.now();
  truth = exact.search(q, 10);
  const qps = queries / ((performance.now() - t0) / 1000);
  let loopQps = NaN;
  if (!skipLoops) {
    const plain = new ExactIndex(x, "cosine");
    t0 = performance.now();
    const same = plain.search(q, 10);
    loopQps = queries / ((performance.now() - t0) / 1000);
    if (JSON.stringify(same) !== JSON.stringify(truth))
      throw new Error("exact search: the GEMM and the loops disagree");
  }
  const pv = peer(sklearnPy, [
    "vectors",
    String(n),
    String(d),
    String(k),
    String(iters),
    String(queries),
    "10",
    String(threads),
  ]);
  const peerKm = pv?.kmeansSeconds as number | undefined;
  const peerQps = pv ? queries / (pv.searchSeconds as number) : undefined;
  lines.push(
    `k-means ${n}×${d}, k ${k}, ${km.iterations} Lloyd iterations: graft ${kmSeconds.toFixed(2)} s (loops ${kmLoopSeconds.toFixed(2)} s), scikit-learn ${peerKm?.toFixed(2) ?? "-"} s (${pv?.kmeansIters ?? "-"} iterations), speed ratio ${peerKm ? ratio(peerKm, kmSeconds) : "-"}`,
  );
  lines.push(
    `exact search, ${n} vectors × ${d}, top 10: graft ${qps.toFixed(1)} queries/s (loops ${loopQps.toFixed(1)}), numpy ${peerQps?.toFixed(1) ?? "-"} queries/s, ratio ${ratio(qps, peerQps)}`,
  );
}

if (!skipHnsw) {
  // 4. HNSW on the first hnswN vectors: build, queries/s, recall@10 against exact
  const sub: Matrix = { data: x.data.subarray(0, hnswN * d), n: hnswN, d };
  t0 = performance.now();
  const hnsw = new HnswIndex(sub, { m: 16, efConstruction: 100, efSearch: 64, seed: 0 });
  const build = (performance.now() - t0) / 1000;
  const subTruth = exactTop(hnswN);
  t0 = performance.now();
  const approx = hnsw.search(q, 10);
  const hqps = queries / ((performance.now() - t0) / 1000);
  lines.push(
    `HNSW (graft's own) on ${hnswN} × ${d} (M 16, efConstruction 100, efSearch 64): build ${build.toFixed(1)} s, ${hqps.toFixed(1)} queries/s, recall@10 ${recall(approx, subTruth).toFixed(3)}`,
  );

  // 5. hnswlib-node (optional dependency) with the same settings, on the same hnswN vectors and on hnswlibN of them
  const lib = loadHnswlib();
  if (!lib) lines.push("hnswlib-node: not installed (optional dependency), skipped");
  else
    for (const size of [...new Set([hnswN, hnswlibN])]) {
      const coll: Matrix = { data: x.data.subarray(0, size * d), n: size, d };
      t0 = performance.now();
      const index = lib.build(coll, "cosine", { m: 16, efConstruction: 100, seed: 0 });
      const b = (performance.now() - t0) / 1000;
      index.setEf(64);
      t0 = performance.now();
      const found = index.search(q, 10);
      const s = queries / ((performance.now() - t0) / 1000);
      const t = size === hnswN ? subTruth : exactTop(size);
      lines.push(
        `hnswlib-node on ${size} × ${d} (M 16, efConstruction 100, ef 64): build ${b.toFixed(1)} s, ${s.toFixed(1)} queries/s, recall@10 ${recall(found, t).toFixed(3)}`,
      );
    }
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`(threads ${threads}; ${new Date().toISOString()})\n`);
