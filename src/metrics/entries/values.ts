/** Metrics of numbers: regression errors and correlations, ranking quality, language-model losses. */
import { pyFixed } from "../format.js";
import { LossAccumulator } from "../language-model.js";
import {
  hitRateAtK,
  meanAveragePrecision,
  meanReciprocalRank,
  ndcgAtK,
  precisionAtK,
  recallAtK,
  type ItemId,
  type RankingOptions,
  type Relevance,
} from "../ranking.js";
import {
  explainedVarianceScore,
  meanAbsoluteError,
  meanSquaredError,
  pearson,
  r2Score,
  rootMeanSquaredError,
  spearman,
  type ExplainedOptions,
  type Targets,
} from "../regression.js";
import { ArgumentError } from "../../util/errors.js";
import { entry, one, type InputKinds, type MetricEntry } from "../entry.js";

/** The regression errors and R²: 1-D targets, or rows of several outputs (sklearn's n_samples × n_outputs). */
function multiOutputEntry(
  name: string,
  aliases: string[],
  label: string,
  fn: (yTrue: Targets, yPred: Targets, o: ExplainedOptions) => number | number[],
  direction: "higher" | "lower",
  description: string,
  explained: boolean,
): MetricEntry {
  return entry<number | number[], number | number[]>({
    name,
    aliases,
    description,
    prediction: "number",
    reference: "number",
    references: "one",
    options: explained ? ["multioutput", "forceFinite"] : ["multioutput"],
    direction,
    format: "value",
    bootstrap: "none",
    compute(input, o) {
      const yTrue = input.references[0]! as Targets,
        yPred = input.predictions as Targets;
      const value = fn(yTrue, yPred, { multioutput: o.multioutput, forceFinite: o.forceFinite });
      if (typeof value === "number") {
        const averaged = o.multioutput === "variance_weighted" ? " (variance weighted)" : "";
        return one(`${label}${averaged}`, value);
      }
      return value.map((v, j) => ({ metric: `${label}[${j}]`, score: v }));
    },
  });
}

function regressionEntry(
  name: string,
  label: string,
  fn: (yTrue: number[], yPred: number[]) => number,
  direction: "higher" | "lower",
  description: string,
): MetricEntry {
  return entry<number, number>({
    name,
    aliases: [],
    description,
    prediction: "number",
    reference: "number",
    references: "one",
    options: [],
    direction,
    format: "value",
    bootstrap: "none",
    compute(input) {
      const yTrue = input.references[0]!,
        yPred = input.predictions;
      if ([...yTrue, ...yPred].some((v) => typeof v !== "number"))
        throw new ArgumentError(`${name} takes one number per item, not rows of several outputs`);
      return one(label, fn(yTrue as number[], yPred as number[]));
    },
  });
}

function rankingEntry(
  name: string,
  aliases: string[],
  label: string,
  fn: (recs: ItemId[][], rel: Relevance[], o: RankingOptions) => number,
  description: string,
): MetricEntry {
  return entry<ItemId[], Relevance>({
    name,
    aliases,
    description,
    prediction: "items",
    reference: "relevance",
    references: "one",
    options: ["k"],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute(input, o) {
      const score = fn(input.predictions as ItemId[][], input.references[0]! as Relevance[], { k: o.k });
      return one(o.k === undefined ? label : `${label}@${o.k}`, score);
    },
  });
}

function lmEntry(
  name: string,
  aliases: string[],
  what: "perplexity" | "bits per token" | "bits per character",
  description: string,
): MetricEntry {
  return entry<InputKinds["losses"], never>({
    name,
    aliases,
    description,
    prediction: "losses",
    reference: null,
    references: "none",
    options: what === "bits per character" ? ["lossField", "tokensField", "charsField"] : ["lossField", "tokensField"],
    direction: "lower",
    format: "value",
    bootstrap: "none",
    compute(input) {
      const acc = new LossAccumulator();
      for (const r of input.predictions) acc.add(r.loss, r.tokens, r.characters ?? 0);
      const score =
        what === "perplexity"
          ? acc.perplexity()
          : what === "bits per token"
            ? acc.bitsPerToken()
            : acc.bitsPerCharacter();
      return one(what, score, { details: `${acc.tokens} tokens, loss ${pyFixed(acc.lossSum, 4)} nats` });
    },
  });
}

export const VALUE_METRICS: readonly MetricEntry[] = [
  multiOutputEntry("mse", [], "MSE", meanSquaredError, "lower", "mean squared error", false),
  multiOutputEntry("rmse", [], "RMSE", rootMeanSquaredError, "lower", "root mean squared error", false),
  multiOutputEntry("mae", [], "MAE", meanAbsoluteError, "lower", "mean absolute error", false),
  multiOutputEntry("r2", [], "R²", r2Score, "higher", "coefficient of determination", true),
  multiOutputEntry(
    "explained-variance",
    ["explained_variance"],
    "explained variance",
    explainedVarianceScore,
    "higher",
    "explained variance score",
    true,
  ),
  regressionEntry("pearson", "Pearson r", pearson, "higher", "Pearson correlation"),
  regressionEntry("spearman", "Spearman ρ", spearman, "higher", "Spearman rank correlation"),
  rankingEntry("precision@k", ["p@k"], "precision", precisionAtK, "fraction of the top k that is relevant"),
  rankingEntry("recall@k", ["r@k"], "recall", recallAtK, "fraction of the relevant items in the top k"),
  rankingEntry(
    "hit-rate@k",
    ["hit-rate", "hitrate"],
    "hit rate",
    hitRateAtK,
    "fraction of lists with a relevant item in the top k",
  ),
  rankingEntry("mrr", [], "MRR", meanReciprocalRank, "mean reciprocal rank of the first relevant item"),
  rankingEntry("map", [], "MAP", meanAveragePrecision, "mean average precision"),
  rankingEntry("ndcg@k", ["ndcg"], "NDCG", ndcgAtK, "normalized discounted cumulative gain"),
  lmEntry("perplexity", ["ppl"], "perplexity", "exp of the mean loss per token"),
  lmEntry("bits-per-token", ["bpt"], "bits per token", "mean loss per token in bits"),
  lmEntry("bits-per-char", ["bpc"], "bits per character", "loss per character in bits"),
];
