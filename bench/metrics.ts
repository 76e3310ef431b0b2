/**
 * Metric speed: ROC AUC and average precision on 1M binary predictions, and corpus BLEU, chrF and TER on a
 * 3,000-segment German news corpus (the WMT17 sample's 200 segments × 15, each copy perturbed).
 *
 *   npx tsc -p . && node dist/bench/metrics.js [--n 1000000] [--segments 3000] [--repeat 5] [--data /work/shared/datasets]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Rng } from "../src/util/rng.js";
import { averagePrecision, corpusBleu, corpusChrf, corpusTer, rocAuc, sentenceBleu } from "../src/metrics/index.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "1000000" },
    segments: { type: "string", default: "3000" },
    repeat: { type: "string", default: "5" },
    data: { type: "string", default: process.env.GRAFT_SHARED_DATASETS ?? "/work/shared/datasets" },
  },
});
const n = Number(values.n),
  segments = Number(values.segments),
  repeat = Number(values.repeat);

/**
 * Best and median wall time, and best CPU time (user + system), of `repeat` runs. The machine is shared: the
 * best run is the least disturbed one, and CPU time is what the work costs whatever else is running.
 */
function time<T>(label: string, f: () => T): T {
  let out: T | undefined;
  const ms: number[] = [],
    cpu: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    out = f();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  const f1 = (x: number) => x.toFixed(1).padStart(8);
  console.log(
    `${label.padEnd(40)} best ${f1(ms[0]!)} ms  median ${f1(ms[Math.floor(ms.length / 2)]!)} ms  cpu ${f1(Math.min(...cpu))} ms`,
  );
  return out!;
}

// 1M binary predictions: a noisy scorer (continuous scores), and the same rounded to 2 decimals (heavy ties).
const rng = new Rng(2024);
const y = new Array<number>(n),
  score = new Float64Array(n),
  tied = new Float64Array(n);
for (let i = 0; i < n; i++) {
  y[i] = rng.uniform() < 0.1 ? 1 : 0; // imbalanced, 10% positives
  score[i] = 1 / (1 + Math.exp(-(rng.normal() + 1.5 * y[i]!)));
  tied[i] = Math.round(score[i]! * 100) / 100;
}
console.log(`${n} binary predictions, ${y.reduce((a, b) => a + b, 0)} positives`);
const auc = time("ROC AUC (continuous scores)", () => rocAuc(y, score));
time("ROC AUC (scores rounded to 0.01, ties)", () => rocAuc(y, tied));
const ap = time("average precision (continuous scores)", () => averagePrecision(y, score));
console.log(`  ROC AUC ${(auc as number).toFixed(6)}, AP ${(ap as number).toFixed(6)}`);

// 3,000 segments of real MT output: copies of the sample with words dropped and swapped so that they differ.
const dir = join(values.data, "wmt17_en_de_sample");
const read = (f: string) =>
  readFileSync(join(dir, f), "utf8")
    .split("\n")
    .filter((_, i, a) => i < a.length - 1 || a[i] !== "");
const ref0 = read("newstest2017.ref.de"),
  hyp0 = read("newstest2017.KIT.de");
const refs: string[] = [],
  hyps: string[] = [];
const trng = new Rng(7);
for (let i = 0; i < segments; i++) {
  const j = i % ref0.length;
  refs.push(ref0[j]!);
  const words = hyp0[j]!.split(" ").filter(() => i < ref0.length || trng.uniform() > 0.1);
  if (i >= ref0.length && words.length > 3) {
    const a = trng.int(words.length),
      b = trng.int(words.length);
    [words[a], words[b]] = [words[b]!, words[a]!];
  }
  hyps.push(words.join(" "));
}
const words = hyps.reduce((s, h) => s + h.split(" ").length, 0);
console.log(`${segments} segments, ${words} hypothesis words`);
const bleu = time("corpus BLEU (13a, exp smoothing)", () => corpusBleu(hyps, [refs]));
time("corpus BLEU, intl tokenizer", () => corpusBleu(hyps, [refs], { tokenize: "intl" }));
time("sentence BLEU, every segment", () => hyps.map((h, i) => sentenceBleu(h, [refs[i]!])));
const chrf = time("corpus chrF", () => corpusChrf(hyps, [refs]));
time("corpus chrF++", () => corpusChrf(hyps, [refs], { wordOrder: 2 }));
const ter = time("corpus TER (with shifts)", () => corpusTer(hyps, [refs]));
console.log(`  BLEU ${bleu.score.toFixed(2)}, chrF ${chrf.score.toFixed(2)}, TER ${ter.score.toFixed(2)}`);
