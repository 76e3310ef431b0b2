/**
 * The evaluation sections drawn from eval_predictions.jsonl: for classification the confusion matrix, ROC and
 * precision-recall curves (one-vs-rest), the reliability diagram and the per-class table; for NER the per-entity
 * table, F1 by type and the token-level confusion of entity types. The numbers come from metrics/.
 */
import {
  accuracy,
  auc,
  averagePrecision,
  calibrationError,
  classificationReport,
  confusionMatrix,
  logLoss,
  precisionRecallCurve,
  rocCurve,
} from "../metrics/classification/index.js";
import { entityCounts, entityReport, splitTag, tokenAccuracy } from "../metrics/sequence-labelling/index.js";
import { captureWarnings } from "../metrics/warnings.js";
import { cards, figure, figures, fmt, table, type Cell, type Section } from "./html.js";
import type { ClassificationPredictions, NerPredictions } from "./predictions.js";
import { formatNumber } from "./scale.js";
import { heatmap, plot, type Series } from "./svg.js";

/** Curves are drawn for at most this many classes (the most frequent); the table lists all of them. */
const MAX_CURVES = 10;

const pct = (v: number) => `${formatNumber(100 * v, 3)}%`;

interface ClassCurves {
  cls: number;
  roc: { fpr: number[]; tpr: number[]; auc: number } | null;
  pr: { precision: number[]; recall: number[]; ap: number; prevalence: number } | null;
}

/** One-vs-rest ROC and PR curves of class c (null where the class is absent or is every example). */
function classCurves(p: ClassificationPredictions, c: number): ClassCurves {
  const isPos = p.labels.map((y) => (y === c ? 1 : 0));
  const score = p.probs!.map((row) => row[c]!);
  const positives = isPos.reduce((a: number, b) => a + b, 0);
  if (positives === 0 || positives === isPos.length) return { cls: c, roc: null, pr: null };
  const r = rocCurve(isPos, score);
  const q = precisionRecallCurve(isPos, score);
  return {
    cls: c,
    roc: { fpr: r.fpr, tpr: r.tpr, auc: auc(r.fpr, r.tpr) },
    pr: {
      precision: q.precision,
      recall: q.recall,
      ap: averagePrecision(isPos, score) as number,
      prevalence: positives / isPos.length,
    },
  };
}

export function classificationSection(p: ClassificationPredictions, notes: string[]): Section {
  const k = p.classes.length,
    n = p.labels.length;
  const labels = Array.from({ length: k }, (_, i) => i);
  const { value: body, warnings } = captureWarnings(() => {
    const items: [string, string, string?][] = [
      ["examples", String(n), p.meta.split ? `${p.meta.split} split` : undefined],
      ["accuracy", pct(accuracy(p.labels, p.preds))],
    ];
    const rep = classificationReport(p.labels, p.preds, { labels, targetNames: p.classes, zeroDivision: 0 });
    const macro = rep.averages.find(([h]) => h === "macro avg")?.[1];
    if (macro) items.push(["macro F1", fmt(macro.f1)]);
    const figs: string[] = [];

    // confusion matrix: counts, coloured by the share of the true class (so rare classes stay readable)
    const cm = confusionMatrix(p.labels, p.preds, { labels }).matrix;
    const rowSums = cm.map((r) => r.reduce((a, b) => a + b, 0));
    figs.push(
      figure(
        heatmap({
          title: "Confusion matrix",
          rowLabels: p.classes,
          colLabels: p.classes,
          values: cm,
          rowAxis: "true class",
          colAxis: "predicted class",
          intensity: cm.map((r, i) => r.map((v) => (rowSums[i] ? v / rowSums[i]! : 0))),
          format: (v) => String(v),
          cellTitle: (i, j) =>
            `true ${p.classes[i]}, predicted ${p.classes[j]}: ${cm[i]![j]} (${rowSums[i] ? pct(cm[i]![j]! / rowSums[i]!) : "—"} of ${p.classes[i]})`,
        }),
        "Counts; colour is the share of the row (the true class) predicted as each column.",
      ),
    );

    let curves: ClassCurves[] = [];
    // probability plots need two classes at least (log loss and one-vs-rest curves are undefined otherwise)
    if (p.probs && k >= 2) {
      items.push(["log loss", fmt(logLoss(p.labels, p.probs, { labels }))]);
      // binary: the positive class's curve says it all; multiclass: one-vs-rest for the most frequent classes
      const support = labels.map((c) => p.labels.filter((y) => y === c).length);
      const chosen =
        k === 2
          ? [1]
          : [...labels]
              .sort((a, b) => support[b]! - support[a]! || a - b)
              .slice(0, MAX_CURVES)
              .sort((a, b) => a - b);
      curves = labels.map((c) => classCurves(p, c));
      const drawn = chosen.map((c) => curves[c]!).filter((c) => c.roc);
      const skipped = chosen.filter((c) => !curves[c]!.roc);
      if (skipped.length)
        notes.push(
          `ROC/PR: no curve for ${skipped.map((c) => p.classes[c]).join(", ")} (the class is absent from, or is all of, the evaluation set)`,
        );
      if (k > MAX_CURVES)
        notes.push(`ROC/PR curves show the ${MAX_CURVES} most frequent of ${k} classes; the table lists all`);
      const name = (c: ClassCurves, v: string) => `${p.classes[c.cls]} (${v})`;
      if (drawn.length) {
        const aucs = curves.filter((c) => c.roc).map((c) => c.roc!.auc);
        if (k > 2 && aucs.length === k)
          items.push(["ROC AUC (macro, one-vs-rest)", fmt(aucs.reduce((a, b) => a + b, 0) / k)]);
        else if (k === 2 && drawn[0]) items.push(["ROC AUC", fmt(drawn[0].roc!.auc)]);
        const roc: Series[] = drawn.map((c) => ({
          name: name(c, `AUC ${fmt(c.roc!.auc, 3)}`),
          points: c.roc!.fpr.map((x, i) => [x, c.roc!.tpr[i]!] as const),
        }));
        figs.push(
          figure(
            plot({
              title: k === 2 ? "ROC curve" : "ROC curves (one-vs-rest)",
              x: { label: "false positive rate", domain: [0, 1] },
              y: { label: "true positive rate", domain: [0, 1] },
              series: roc,
              refLines: [{ from: [0, 0], to: [1, 1], label: "chance" }],
              legend: true,
              width: 460,
              height: 400,
            }),
          ),
        );
        const pr: Series[] = drawn.map((c) => ({
          name: name(c, `AP ${fmt(c.pr!.ap, 3)}`),
          points: c.pr!.recall.map((x, i) => [x, c.pr!.precision[i]!] as const),
          kind: "step",
        }));
        const base =
          k === 2 && drawn[0]
            ? [
                {
                  from: [0, drawn[0].pr!.prevalence] as const,
                  to: [1, drawn[0].pr!.prevalence] as const,
                  label: `chance (prevalence ${fmt(drawn[0].pr!.prevalence, 3)})`,
                },
              ]
            : [];
        figs.push(
          figure(
            plot({
              title: k === 2 ? "Precision-recall curve" : "Precision-recall curves (one-vs-rest)",
              x: { label: "recall", domain: [0, 1] },
              y: { label: "precision", domain: [0, 1] },
              series: pr,
              refLines: base,
              legend: true,
              width: 460,
              height: 400,
            }),
            k > 2
              ? `A classifier that guesses has precision equal to the class's prevalence: ${drawn.map((c) => `${p.classes[c.cls]} ${fmt(c.pr!.prevalence, 3)}`).join(", ")}.`
              : undefined,
          ),
        );
      }

      const cal = calibrationError(p.labels, p.probs, { labels, nBins: 10 });
      items.push(["expected calibration error", fmt(cal.value, 3), "10 bins, top-label confidence"]);
      figs.push(
        figure(
          plot({
            title: `Reliability diagram (ECE ${fmt(cal.value, 3)})`,
            x: { label: "confidence (top predicted probability)", domain: [0, 1] },
            y: { label: "accuracy", domain: [0, 1] },
            bars: cal.bins.map((b) => ({
              x0: b.lo,
              x1: b.hi,
              y: b.accuracy,
              title: `confidence ${fmt(b.lo, 2)}–${fmt(b.hi, 2)}: accuracy ${fmt(b.accuracy, 3)}, mean confidence ${fmt(b.confidence, 3)}, ${b.count} examples`,
            })),
            barName: "accuracy per bin",
            series: [
              {
                name: "mean confidence per bin",
                points: cal.bins.map((b) => [b.confidence, b.accuracy] as const),
                kind: "markers",
                color: "#e15759",
              },
            ],
            refLines: [{ from: [0, 0], to: [1, 1], label: "perfect calibration" }],
            legend: true,
            width: 460,
            height: 400,
          }),
          "Bars: accuracy of the examples whose confidence falls in each bin; dots sit at the bin's mean confidence. Bars under the diagonal mean over-confidence.",
        ),
      );
    }

    const byClass = new Map(curves.map((c) => [c.cls, c]));
    const headers = ["class", "precision", "recall", "F1", "support", ...(p.probs ? ["ROC AUC", "AP"] : [])];
    const rows: Cell[][] = rep.classes.map(([nm, r], i) => {
      const c = byClass.get(i);
      return [
        nm,
        r.precision,
        r.recall,
        r.f1,
        String(r.support),
        ...(p.probs ? [c?.roc?.auc ?? null, c?.pr?.ap ?? null] : []),
      ];
    });
    for (const [nm, r] of rep.averages) {
      rows.push(
        nm === "accuracy"
          ? [nm, null, null, r.f1, String(r.support), ...(p.probs ? [null, null] : [])]
          : [nm, r.precision, r.recall, r.f1, String(r.support), ...(p.probs ? [null, null] : [])],
      );
    }
    const tbl = table(headers, rows, {
      numeric: [1, 2, 3, 4, 5, 6],
      rowClass: (i) => (i >= rep.classes.length ? "avg" : undefined),
    });
    return cards(items) + figures(figs) + `<h3>Per class</h3>` + tbl;
  });
  for (const w of warnings) notes.push(`metrics: ${w}`);
  const where = p.meta.step !== undefined ? ` (step ${p.meta.step})` : "";
  return { id: "evaluation", title: `Evaluation: classification${where}`, body };
}

/** The entity type of a tag for the token-level confusion ("B-PER" → "PER"; "O" stays "O"). */
function tagType(tag: string): string {
  return tag === "O" || tag === "" ? "O" : splitTag(tag, false)[1];
}

export function nerSection(p: NerPredictions, notes: string[]): Section {
  const yTrue = p.sentences.map((s) => s.labels),
    yPred = p.sentences.map((s) => s.preds);
  const { value: body, warnings } = captureWarnings(() => {
    // zeroDivision 0: a type never predicted scores 0, as seqeval prints it
    const rep = entityReport(yTrue, yPred, { zeroDivision: 0 });
    const counts = entityCounts(yTrue, yPred);
    const micro = rep.averages[0]![1];
    const tokens = yTrue.reduce((a, s) => a + s.length, 0);
    const items: [string, string, string?][] = [
      ["sentences", String(p.sentences.length)],
      ["tokens", String(tokens)],
      ["token accuracy", tokens ? pct(tokenAccuracy(yTrue, yPred)) : "—"],
      ["entity precision", fmt(micro.precision)],
      ["entity recall", fmt(micro.recall)],
      ["entity F1", fmt(micro.fscore), "micro average, exact match (conlleval)"],
    ];
    const figs: string[] = [];
    if (rep.rows.length) {
      figs.push(
        figure(
          plot({
            title: "F1 by entity type",
            x: { label: "entity type", categories: rep.rows.map(([t]) => t) },
            y: { label: "F1", domain: [0, 1] },
            bars: rep.rows.map(([t, r], i) => ({
              x0: i - 0.35,
              x1: i + 0.35,
              y: r.fscore,
              title: `${t}: F1 ${fmt(r.fscore, 3)} (precision ${fmt(r.precision, 3)}, recall ${fmt(r.recall, 3)}, ${r.support} entities)`,
            })),
          }),
        ),
      );
    }
    // token-level confusion of entity types (B-/I- prefixes dropped): which types the model mixes up
    const types = [...new Set([...yTrue, ...yPred].flat().map(tagType))].sort((a, b) =>
      a === "O" ? 1 : b === "O" ? -1 : a < b ? -1 : a > b ? 1 : 0,
    );
    const idx = new Map(types.map((t, i) => [t, i]));
    const m = types.map(() => types.map(() => 0));
    yTrue.forEach((s, k) => s.forEach((t, i) => m[idx.get(tagType(t))!]![idx.get(tagType(yPred[k]![i]!))!]!++));
    const sums = m.map((r) => r.reduce((a, b) => a + b, 0));
    figs.push(
      figure(
        heatmap({
          title: "Token confusion by entity type",
          rowLabels: types,
          colLabels: types,
          values: m,
          rowAxis: "true",
          colAxis: "predicted",
          intensity: m.map((r, i) => r.map((v) => (sums[i] ? v / sums[i]! : 0))),
          format: (v) => formatNumber(v, 3),
        }),
        "Tokens, by the entity type of their tag (O: outside any entity); colour is the share of the row.",
      ),
    );
    const row = (
      name: string,
      r: { precision: number; recall: number; fscore: number; support: number },
      predicted: number,
      correct: number,
    ): Cell[] => [name, r.precision, r.recall, r.fscore, String(r.support), String(predicted), String(correct)];
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const rows: Cell[][] = [
      ...rep.rows.map(([t, r]) => {
        const i = counts.types.indexOf(t);
        return row(t, r, counts.pred[i]!, counts.tp[i]!);
      }),
      ...rep.averages.map(([n, r]) => row(n, r, sum(counts.pred), sum(counts.tp))),
    ];
    const tbl = table(["entity type", "precision", "recall", "F1", "support", "predicted", "correct"], rows, {
      numeric: [1, 2, 3, 4, 5, 6],
      rowClass: (i) => (i >= rep.rows.length ? "avg" : undefined),
    });
    return cards(items) + figures(figs) + "<h3>Per entity type</h3>" + tbl;
  });
  for (const w of warnings) notes.push(`metrics: ${w}`);
  const where = p.meta.step !== undefined ? ` (step ${p.meta.step})` : "";
  return { id: "entities", title: `Evaluation: entities${where}`, body };
}
