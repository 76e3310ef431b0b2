/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum as Google's rouge-score package computes them (the
 * implementation behind Hugging Face `evaluate`): text is lowercased, every run of characters
 * outside [a-z0-9] becomes a space (so non-ASCII letters split words), no stemming. ROUGE-N
 * counts clipped n-gram overlap; ROUGE-L uses the longest common subsequence of the whole text;
 * ROUGE-Lsum the union LCS over newline-separated sentences. Scores are in [0, 1]; a corpus
 * score is the mean of the segment scores; with several references the best F1 counts.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";

export type RougeType = "rouge1" | "rouge2" | "rougeL" | "rougeLsum" | `rouge${number}`;

export interface RougeTriple {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** rouge-score's default tokenizer (without stemming). */
export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .split(/\s+/)
    .filter((t) => /^[a-z0-9]+$/.test(t));
}

function fmeasure(p: number, r: number): number {
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
}

function ngrams(tokens: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join(" ");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

function scoreNgrams(target: Map<string, number>, prediction: Map<string, number>): RougeTriple {
  let inter = 0,
    tc = 0,
    pc = 0;
  for (const [g, c] of target) inter += Math.min(c, prediction.get(g) ?? 0);
  for (const c of target.values()) tc += c;
  for (const c of prediction.values()) pc += c;
  const precision = inter / Math.max(pc, 1),
    recall = inter / Math.max(tc, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function lcsTable(ref: string[], can: string[]): Int32Array[] {
  const t = Array.from({ length: ref.length + 1 }, () => new Int32Array(can.length + 1));
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      t[i]![j] = ref[i - 1] === can[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    }
  }
  return t;
}

function scoreLcs(target: string[], prediction: string[]): RougeTriple {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsTable(target, prediction)[target.length]![prediction.length]!;
  const precision = lcs / prediction.length,
    recall = lcs / target.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Indices into ref of one LCS with can (rouge-score's non-recursive backtrack). */
function lcsIndices(ref: string[], can: string[]): number[] {
  const t = lcsTable(ref, can);
  let i = ref.length,
    j = can.length;
  const out: number[] = [];
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i]![j - 1]! > t[i - 1]![j]!) j--;
    else i--;
  }
  return out.reverse();
}

function scoreSummaryLcs(refSents: string[][], canSents: string[][]): RougeTriple {
  const zero = { precision: 0, recall: 0, fmeasure: 0 };
  if (refSents.length === 0 || canSents.length === 0) return zero;
  const m = refSents.reduce((a, s) => a + s.length, 0),
    n = canSents.reduce((a, s) => a + s.length, 0);
  if (!n || !m) return zero;
  const cntR = new Map<string, number>(),
    cntC = new Map<string, number>();
  for (const s of refSents) for (const t of s) cntR.set(t, (cntR.get(t) ?? 0) + 1);
  for (const s of canSents) for (const t of s) cntC.set(t, (cntC.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    const union = new Set<number>();
    for (const c of canSents) for (const i of lcsIndices(r, c)) union.add(i);
    for (const i of [...union].sort((a, b) => a - b)) {
      const tok = r[i]!;
      // Each token counts at most as often as it occurs on both sides (ROUGE 1.5.5).
      if ((cntC.get(tok) ?? 0) > 0 && (cntR.get(tok) ?? 0) > 0) {
        hits++;
        cntC.set(tok, cntC.get(tok)! - 1);
        cntR.set(tok, cntR.get(tok)! - 1);
      }
    }
  }
  const recall = hits / m,
    precision = hits / n;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function checkType(t: string): number | "L" | "Lsum" {
  if (t === "rougeL") return "L";
  if (t === "rougeLsum") return "Lsum";
  const m = /^rouge([1-9][0-9]*)$/.exec(t);
  if (!m) throw new ArgumentError(`ROUGE: unknown type "${t}"`, 'use "rouge1", "rouge2", ..., "rougeL" or "rougeLsum"');
  return Number(m[1]);
}

/** Scores one prediction against one target. */
export function rougeScore(
  target: string,
  prediction: string,
  types: readonly RougeType[] = ["rouge1", "rouge2", "rougeL"],
): Record<string, RougeTriple> {
  const out: Record<string, RougeTriple> = {};
  const tt = rougeTokenize(target),
    pt = rougeTokenize(prediction);
  for (const type of types) {
    const k = checkType(type);
    if (k === "L") out[type] = scoreLcs(tt, pt);
    else if (k === "Lsum") {
      const sents = (s: string) =>
        s
          .split("\n")
          .filter((x) => x.length > 0)
          .map(rougeTokenize);
      out[type] = scoreSummaryLcs(sents(target), sents(prediction));
    } else out[type] = scoreNgrams(ngrams(tt, k), ngrams(pt, k));
  }
  return out;
}

/**
 * Corpus ROUGE: per type, the mean over segments of precision, recall and F1. references[k][i]
 * is the k-th reference of prediction i (the same layout as BLEU); the best-F1 reference counts.
 */
export function rouge(
  predictions: readonly string[],
  references: readonly (readonly string[])[],
  types: readonly RougeType[] = ["rouge1", "rouge2", "rougeL"],
): Record<string, RougeTriple> {
  if (references.length === 0) throw new ArgumentError("ROUGE: no references given");
  references.forEach((s, k) => {
    if (s.length !== predictions.length)
      throw new ShapeError(`ROUGE: ${predictions.length} predictions but reference stream ${k + 1} has ${s.length}`);
  });
  if (predictions.length === 0) throw new ArgumentError("ROUGE: no predictions");
  const sums: Record<string, RougeTriple> = {};
  for (const t of types) sums[t] = { precision: 0, recall: 0, fmeasure: 0 };
  predictions.forEach((p, i) => {
    const per = references.map((s) => rougeScore(s[i]!, p, types));
    for (const t of types) {
      let best = per[0]![t]!;
      for (const s of per) if (s[t]!.fmeasure > best.fmeasure) best = s[t]!;
      sums[t]!.precision += best.precision;
      sums[t]!.recall += best.recall;
      sums[t]!.fmeasure += best.fmeasure;
    }
  });
  for (const t of types) {
    const s = sums[t]!;
    sums[t] = {
      precision: s.precision / predictions.length,
      recall: s.recall / predictions.length,
      fmeasure: s.fmeasure / predictions.length,
    };
  }
  return sums;
}
