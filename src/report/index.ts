/**
 * Run reports: `report.html` in a run (or tuning-study) directory, and side-by-side comparisons of runs.
 * The page shows only the sections the directory has data for and says which parts are missing.
 */
import { join, resolve } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ArgumentError } from "../util/errors.js";
import { renderComparison } from "./compare.js";
import { classificationSection, nerSection } from "./evaluation.js";
import { esc, page, type Section } from "./html.js";
import { readRun, SUMMARY_FILE, type RunData } from "./run.js";
import { configSection, curvesSection, scheduleSection, summaryCards, timingSection } from "./sections.js";
import { studySections } from "./study-view.js";

export {
  readRun,
  parseMetrics,
  SUMMARY_FILE,
  type RunData,
  type TrainRecord,
  type EvalRecord,
  type BestInfo,
  type TrainSummaryFile,
} from "./run.js";
export {
  writePredictions,
  readPredictions,
  parsePredictions,
  PREDICTIONS_FILE,
  TASK_PREDICTIONS_FILE,
  type EvalPredictions,
  type PredictionsMeta,
  type PredictionExample,
} from "./predictions.js";
export type { Section } from "./html.js";
export { classificationSection, nerSection } from "./evaluation.js";
export { readStudy, STUDY_FILES, type Study, type Trial } from "./study.js";
export { plot, heatmap, escapeXml, type Series, type PlotOptions, type HeatmapOptions } from "./svg.js";

export const REPORT_FILE = "report.html";

export interface ReportOptions {
  /** Where to write (default: report.html in the run directory, or in the first run directory for a comparison). */
  out?: string;
  /** Timestamp in the footer; leave it out for byte-identical output. */
  generatedAt?: Date;
  /** Sections a task kind adds after the evaluation sections (run reports only). */
  sections?: readonly Section[];
}

export interface ReportResult {
  path: string;
  /** Parts of the run(s) that were absent, with what the report leaves out because of them. */
  missing: string[];
  notes: string[];
}

/** The report page of one read run, and the notes raised while computing it (metric warnings included). */
export function renderRunReport(
  run: RunData,
  generatedAt?: Date,
  extra: readonly Section[] = [],
): { html: string; notes: string[] } {
  const notes = [...run.notes];
  const sections: Section[] = [];
  const overview = summaryCards(run);
  if (overview) sections.push({ id: "overview", title: "Overview", body: overview });
  const add = (s: Section | null) => {
    if (s) sections.push(s);
  };
  add(curvesSection(run));
  add(scheduleSection(run));
  if (run.predictions?.task === "classification") add(classificationSection(run.predictions, notes));
  if (run.predictions?.task === "ner") add(nerSection(run.predictions, notes));
  sections.push(...extra);
  add(timingSection(run));
  if (run.study) sections.push(...studySections(run.study, run.dir));
  add(configSection(run));
  const kind = run.study && !run.train.length ? "study" : "run";
  const model = typeof run.config?.model === "string" ? ` · model <code>${esc(run.config.model)}</code>` : "";
  return {
    html: page({
      title: `graft ${kind}: ${run.name}`,
      subtitle: `<code>${esc(run.dir)}</code>${model}`,
      sections,
      missing: run.missing,
      notes,
      generatedAt,
    }),
    notes,
  };
}

/** Reads a run directory and writes its report (atomically); returns where, and what the run lacked. */
export function writeReport(runDir: string, options: ReportOptions = {}): ReportResult {
  const run = readRun(runDir);
  const path = resolve(options.out ?? join(run.dir, REPORT_FILE));
  const { html, notes } = renderRunReport(run, options.generatedAt, options.sections);
  writeFileAtomic(path, html);
  return { path, missing: run.missing, notes };
}

/** Writes a page comparing runs side by side (default: compare.html in the first run directory). */
export function compareRuns(runDirs: readonly string[], options: ReportOptions = {}): ReportResult {
  if (runDirs.length < 2)
    throw new ArgumentError(`compareRuns: give at least two run directories, got ${runDirs.length}`);
  const runs = runDirs.map((d) => readRun(d));
  const path = resolve(options.out ?? join(runs[0]!.dir, "compare.html"));
  writeFileAtomic(path, renderComparison(runs, path, options.generatedAt));
  return {
    path,
    missing: runs.flatMap((r) => r.missing.map((m) => `${r.name}: ${m}`)),
    notes: runs.flatMap((r) => r.notes.map((m) => `${r.name}: ${m}`)),
  };
}

/**
 * A Trainer callback (structurally typed: report/ may not import train/) that saves the training summary and
 * writes report.html when training ends. A failed report never fails the training it describes.
 */
export function reportCallback(): { onTrainEnd(t: { run: { path: string } | null }, summary: object): void } {
  return {
    onTrainEnd(t, summary) {
      if (!t.run) return;
      try {
        writeJsonAtomic(join(t.run.path, SUMMARY_FILE), summary);
        writeReport(t.run.path);
      } catch (e) {
        process.emitWarning(`could not write the run report in ${t.run.path}: ${(e as Error).message}`, {
          type: "ReportWarning",
        });
      }
    },
  };
}
export { anomalyReportHtml, type AnomalyReportInput } from "./anomaly.js";
