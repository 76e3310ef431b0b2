/**
 * Reporting a run to other tools as it trains (`--report-to`, Hugging Face's `report_to`): TensorBoard event files
 * and an MLflow tracking server. The Trainer builds the reporters its arguments name and closes them when training
 * ends; run.json and metrics.jsonl are written either way.
 */
import { ArgumentError } from "../../util/errors.js";
import { MlflowReporter } from "./mlflow.js";
import { TensorBoardReporter } from "./tensorboard.js";
import type { Reporter, ReporterContext } from "./types.js";

export { EventFileWriter, histogram, tfRecord, TensorBoardReporter } from "./tensorboard.js";
export { flattenParams, MLFLOW_STATE, MlflowReporter, mlflowSettings } from "./mlflow.js";
export type { Reporter, ReporterContext, TrainerView } from "./types.js";

/** The tools a run can report to. */
export const REPORT_TARGETS = ["tensorboard", "mlflow"] as const;
export type ReportTarget = (typeof REPORT_TARGETS)[number];

/** The reporters of `targets` for one run ("none" alone: none); settings are checked here, before training. */
export function createReporters(targets: readonly string[], ctx: ReporterContext | null): Reporter[] {
  const wanted = targets.filter((t) => t !== "none");
  if (!wanted.length) return [];
  if (!ctx)
    throw new ArgumentError(`--report-to ${wanted.join(",")} needs a run directory (the Trainer was given none)`);
  return [...new Set(wanted)].map((t) => {
    switch (t) {
      case "tensorboard":
        return new TensorBoardReporter(ctx);
      case "mlflow":
        return new MlflowReporter(ctx);
      default:
        throw new ArgumentError(`--report-to: unknown target "${t}" (known: ${REPORT_TARGETS.join(", ")}, none)`);
    }
  });
}
