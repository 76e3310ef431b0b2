/**
 * The worst predictions of a run for its page: a classifier's confident mistakes (the wrong label it was surest of
 * first), a tagger's sentences with the most wrong tags, each with its text. Read from the predictions file's own
 * lines, which keep the text (report/'s parsed form keeps only labels and scores).
 */
import type { EvalPredictions } from "../report/index.js";

export type WorstPredictions =
  | {
      task: "classification";
      total: number;
      wrong: number;
      rows: { line: number; text: string | null; label: string; pred: string; confidence: number | null }[];
    }
  | {
      task: "ner";
      total: number;
      wrong: number;
      rows: { line: number; tokens: string[]; labels: string[]; preds: string[]; errors: number }[];
    };

const nameOf = (v: unknown, classes: readonly string[]): string =>
  typeof v === "number" && classes[v] !== undefined ? classes[v] : String(v);

export function worstPredictions(text: string, parsed: EvalPredictions | null, limit: number): WorstPredictions | null {
  const records: { line: number; r: Record<string, unknown> }[] = [];
  text.split("\n").forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const r = JSON.parse(l);
      if (r && typeof r === "object" && !Array.isArray(r)) records.push({ line: i + 1, r });
    } catch {
      // report/ notes bad lines already
    }
  });
  if (parsed?.task === "ner" || records.some(({ r }) => Array.isArray(r.preds))) {
    const rows = records
      .filter(({ r }) => Array.isArray(r.preds) && Array.isArray(r.labels))
      .map(({ line, r }) => {
        const labels = (r.labels as unknown[]).map(String),
          preds = (r.preds as unknown[]).map(String);
        const tokens = Array.isArray(r.tokens) ? (r.tokens as unknown[]).map(String) : labels.map((_, i) => `#${i}`);
        return { line, tokens, labels, preds, errors: labels.filter((l, i) => l !== preds[i]).length };
      });
    const wrong = rows.filter((r) => r.errors > 0);
    wrong.sort((a, b) => b.errors - a.errors || a.line - b.line);
    return { task: "ner", total: rows.length, wrong: wrong.length, rows: wrong.slice(0, limit) };
  }
  const classes = parsed?.task === "classification" ? parsed.classes : [];
  const rows = records
    .filter(({ r }) => r.label !== undefined && r.label !== null && r.pred !== undefined)
    .map(({ line, r }) => {
      const probs = Array.isArray(r.probs) ? (r.probs as number[]) : null;
      const text = typeof r.text === "string" ? r.text : typeof r.input === "string" ? r.input : null;
      return {
        line,
        text,
        label: nameOf(r.label, classes),
        pred: nameOf(r.pred, classes),
        confidence: probs ? Math.max(...probs) : null,
      };
    });
  const wrong = rows.filter((r) => r.label !== r.pred);
  wrong.sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0) || a.line - b.line);
  return { task: "classification", total: rows.length, wrong: wrong.length, rows: wrong.slice(0, limit) };
}
