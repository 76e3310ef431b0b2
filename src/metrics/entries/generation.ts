/**
 * Generation metrics: sacrebleu's BLEU (and BLEU-1, BLEU-2: n-grams up to 1 or 2, as dialogue papers report them),
 * chrF, chrF++ and TER (with per-segment statistics), ROUGE, exact match, distinct-n.
 */
import { pyFixed } from "../format.js";
import { BLEU, CHRF, TER, distinctN, exactMatch, rouge, type CorpusScore } from "../generation/index.js";
import { entry, one, type MetricEntry, type MetricOptions } from "../entry.js";

type CorpusKind = "bleu" | "chrf" | "chrf++" | "ter";

function corpusMetric(o: MetricOptions, kind: CorpusKind, order?: number) {
  if (kind === "bleu")
    return new BLEU({
      tokenize: o.tokenize,
      lowercase: o.lowercase,
      smoothMethod: o.smoothMethod,
      smoothValue: o.smoothValue,
      force: o.force,
      ...(order ? { maxNgramOrder: order } : {}),
    });
  if (kind === "ter")
    return new TER({
      caseSensitive: o.terCaseSensitive,
      normalized: o.terNormalized,
      noPunct: o.terNoPunct,
      asianSupport: o.terAsianSupport,
    });
  return new CHRF({
    charOrder: o.chrfCharOrder,
    wordOrder: kind === "chrf++" ? 2 : o.chrfWordOrder,
    beta: o.chrfBeta,
    lowercase: o.lowercase,
    whitespace: o.chrfWhitespace,
    epsSmoothing: o.chrfEpsSmoothing,
  });
}

const CORPUS_OPTIONS: Record<CorpusKind, (keyof MetricOptions)[]> = {
  bleu: ["tokenize", "lowercase", "smoothMethod", "smoothValue", "force"],
  chrf: ["chrfCharOrder", "chrfWordOrder", "chrfBeta", "lowercase", "chrfWhitespace", "chrfEpsSmoothing"],
  "chrf++": ["chrfCharOrder", "chrfBeta", "lowercase", "chrfWhitespace", "chrfEpsSmoothing"],
  ter: ["terCaseSensitive", "terNormalized", "terNoPunct", "terAsianSupport"],
};

function corpusEntry(
  kind: CorpusKind,
  aliases: string[],
  description: string,
  direction: "higher" | "lower",
  order?: number,
): MetricEntry {
  return entry<string, string>({
    name: order ? `${kind}-${order}` : kind,
    aliases,
    description,
    prediction: "text",
    reference: "text",
    references: "many",
    options: CORPUS_OPTIONS[kind],
    direction,
    format: "points",
    bootstrap: "stats",
    compute({ predictions, references }, o) {
      const metric = corpusMetric(o, kind, order);
      const s = metric.corpusScore(predictions, references) as CorpusScore & { format(w?: number): string };
      const signature = metric.signature();
      const details = s.format(2).replace(/^\S+ = \S+ ?/, "");
      return [{ metric: s.name, score: s.score, details: details || undefined, signature }];
    },
    itemStats({ predictions, references }, o) {
      const metric = corpusMetric(o, kind, order);
      return {
        stats: metric.segmentStats(predictions, references),
        score: (s) => metric.scoreFromStats(s).score,
      };
    },
    sentences({ predictions, references }, o) {
      return predictions.map((h, i) => {
        const s = corpusMetric(o, kind, order).corpusScore(
          [h],
          references.map((r) => [r[i]!]),
        );
        return { metric: `${s.name}[${i + 1}]`, score: s.score };
      });
    },
  });
}

export const GENERATION_METRICS: readonly MetricEntry[] = [
  corpusEntry("bleu", [], "BLEU as sacrebleu computes it (corpus-level, one or more references)", "higher"),
  corpusEntry("chrf", [], "chrF, character n-gram F-score (sacrebleu)", "higher"),
  corpusEntry("chrf++", ["chrfpp", "chrf+"], "chrF++: chrF with word bigrams (sacrebleu)", "higher"),
  corpusEntry("ter", [], "translation edit rate (sacrebleu)", "lower"),
  entry<string, string>({
    name: "rouge",
    aliases: [],
    description: "ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures (rouge-score), best over the references",
    prediction: "text",
    reference: "text",
    references: "many",
    options: [],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute(input) {
      const r = rouge(input.predictions, input.references, ["rouge1", "rouge2", "rougeL", "rougeLsum"]);
      return Object.entries(r).map(([k, v]) => ({
        metric: k,
        score: v.fmeasure,
        details: `P = ${pyFixed(v.precision, 4)} R = ${pyFixed(v.recall, 4)}`,
        values: { precision: v.precision, recall: v.recall, fmeasure: v.fmeasure },
      }));
    },
  }),
  entry<string, string>({
    name: "exact-match",
    aliases: ["em", "exact_match"],
    description: "fraction of predictions equal to one of their references (SQuAD normalization)",
    prediction: "text",
    reference: "text",
    references: "many",
    options: ["lowercase"],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute: (input, o) =>
      one("exact match", exactMatch(input.predictions, input.references, { ignoreCase: o.lowercase })),
  }),
  corpusEntry("bleu", ["bleu1"], "BLEU with unigrams only (max n-gram order 1, sacrebleu)", "higher", 1),
  corpusEntry("bleu", ["bleu2"], "BLEU with n-grams up to 2 (max n-gram order 2, sacrebleu)", "higher", 2),
  entry<string, never>({
    name: "distinct",
    aliases: ["distinct-n", "dist"],
    description: "distinct-1 and distinct-2: distinct n-grams / all n-grams of the predictions (Li et al. 2016)",
    prediction: "text",
    reference: null,
    references: "none",
    options: [],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute: (input) => [
      { metric: "distinct-1", score: distinctN(input.predictions, 1) },
      { metric: "distinct-2", score: distinctN(input.predictions, 2) },
    ],
  }),
];
