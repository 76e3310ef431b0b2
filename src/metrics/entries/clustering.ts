/** Clustering agreement with reference classes (labels compared up to renaming), as scikit-learn defines it. */
import { adjustedRandScore, normalizedMutualInfoScore } from "../clustering.js";
import { entry, one, type MetricEntry } from "../entry.js";

type Label = string | number;

function clusterEntry(name: string, aliases: string[], description: string, f: (t: Label[], p: Label[]) => number) {
  return entry<Label, Label>({
    name,
    aliases,
    description,
    prediction: "label",
    reference: "label",
    references: "one",
    options: [],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute(input) {
      return one(
        name === "ari" ? "adjusted Rand index" : "NMI",
        f(input.references[0] as Label[], input.predictions as Label[]),
      );
    },
  });
}

export const CLUSTERING_METRICS: readonly MetricEntry[] = [
  clusterEntry("ari", ["adjusted-rand"], "adjusted Rand index of clusters against classes", adjustedRandScore),
  clusterEntry("nmi", ["normalized-mutual-info"], "normalized mutual information (arithmetic mean)", (t, p) =>
    normalizedMutualInfoScore(t, p),
  ),
];
