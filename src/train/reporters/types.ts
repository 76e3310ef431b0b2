/** What a reporter sees of the Trainer and of the run (kept apart from trainer.ts so the two do not import each other). */
import type { Module } from "../../nn/index.js";

/** The part of a Trainer a reporter reads. */
export interface TrainerView {
  readonly globalStep: number;
  readonly model: Module;
}

/** Where and what a reporter reports. */
export interface ReporterContext {
  /** The run directory (tensorboard writes its event files here; mlflow keeps its run id here for a resume). */
  runDir: string;
  /** The run's resolved configuration as run.json holds it. */
  config: Record<string, unknown>;
  /** Whether this train() call resumes an earlier run. */
  resumed: boolean;
  /** Weight histograms at each evaluation (tensorboard). */
  histograms: boolean;
  /** Messages about reporting (a tracking server that refuses a request). */
  log: (line: string) => void;
}

/** A reporter is a Trainer callback that may hold a file or a connection, closed when training ends. */
export interface Reporter {
  readonly name: string;
  onTrainBegin?(t: TrainerView): void;
  onLog?(t: TrainerView, record: Record<string, number | string>): void;
  onEvaluate?(t: TrainerView, metrics: Record<string, number>, isBest: boolean): void;
  /** Ends the report: `status` says how training ended. Waits for pending uploads. */
  close(status: "FINISHED" | "FAILED" | "KILLED"): Promise<void>;
}
