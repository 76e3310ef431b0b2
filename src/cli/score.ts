/**
 * `graft score <metric...>`: scores predictions against references read from files, like
 * sacrebleu's command line (`graft score bleu ter chrf --hyp hyp.txt --ref ref.txt --ref ref2.txt`)
 * but for every metric in the registry (metrics/registry.ts). Files are plain text (one item per line) or JSONL
 * with the value in a field, read by data/readers/predictions.ts. Mismatched line counts, unparsable values and
 * undefined scores are errors or warnings that name the file and line; nothing is scored silently wrong.
 */
import type { Command } from "commander";
import { parseValues, readValueFile, type LossFields, type ValueFile } from "../data/index.js";
import { formatScore } from "../metrics/format.js";
import {
  METRICS,
  METRIC_OPTIONS,
  captureWarnings,
  resolveMetric,
  scoreSystems,
  type MetricEntry,
  type MetricOptions,
  type MetricOptionSpec,
  type SystemResult,
} from "../metrics/index.js";
import { ArgumentError, DataError } from "../util/errors.js";
import { type Option, opt, type Resolved, type Schema, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

/** A resampling switch: given bare, the default count; given a value, that many resamples. */
function resamples(flag: string, help: string): Option<number | true, false> {
  const o = opt.value<number | true>({
    flag,
    help,
    describe: "a positive integer",
    check: (v) => v === true || (typeof v === "number" && Number.isInteger(v) && v >= 1),
  });
  return { ...o, parse: (raw, name) => (raw === true ? true : o.parse(raw, name)) };
}

/** `graft score`'s own flags (no config file). */
export const SCORE_SWITCHES = switchesOnly({
  hyp: opt.list("string", {
    flag: "--hyp <file>",
    help: "predictions, one per line (text) or per record (JSONL); repeat to compare systems",
  }),
  ref: opt.list("string", {
    flag: "--ref <file>",
    help: "references; repeat for several references (generation metrics)",
  }),
  format: opt.enum(["text", "jsonl"], {
    flag: "--format <text|jsonl>",
    help: "input format",
    defaultHelp: "jsonl for .jsonl/.ndjson files, else text",
  }),
  hypField: opt.string({ default: "prediction", flag: "--hyp-field <name>", help: "JSONL field with the prediction" }),
  refField: opt.string({ default: "reference", flag: "--ref-field <name>", help: "JSONL field with the reference" }),
  json: opt.boolean({ help: "print JSON" }),
  digits: opt.integer({ default: 4, min: 0, help: "decimals in the table" }),
  sentenceLevel: opt.boolean({ help: "generation metrics: one score per line" }),
  confidence: resamples("--confidence [n]", "bootstrap 95% confidence interval (n resamples, default 1000)"),
  pairedBs: resamples(
    "--paired-bs [n]",
    "paired bootstrap test of each --hyp against the first (default 1000 resamples)",
  ),
  pairedAr: resamples("--paired-ar [n]", "paired approximate randomization test (default 10000 trials)"),
  seed: opt.number({ default: 12345, flag: "--seed <n>", help: "seed for resampling" }),
});

/** One option of METRIC_OPTIONS (metrics/entry.ts, the single list of them) as a schema entry with its flag. */
function metricOption(spec: MetricOptionSpec): Option {
  const meta = { flag: spec.flag, help: spec.description };
  switch (spec.type) {
    case "boolean":
      // a default-true option is a --no-x switch
      return opt.boolean(spec.default === "true" ? { ...meta, default: true } : meta);
    case "number":
      return opt.number({ ...meta, ...(spec.default !== undefined ? { default: Number(spec.default) } : {}) });
    case "list":
      // split as given, on every comma (a label may hold spaces)
      return opt.value<string[]>({
        ...meta,
        describe: "a comma-separated list",
        check: (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
        parse: (raw) => raw.split(","),
      });
    default:
      return opt.string({ ...meta, ...(spec.default !== undefined ? { default: spec.default } : {}) });
  }
}

/** The metric options' flags, generated from METRIC_OPTIONS: each metric reads those its entry lists. */
export const SCORE_METRIC_SWITCHES: Schema = switchesOnly(
  Object.fromEntries(METRIC_OPTIONS.map((spec) => [spec.key, metricOption(spec)])),
);

/** `graft score`'s resolved flags: its own, and the metric options (by METRIC_OPTIONS key) beside them. */
export type ScoreFlags = Resolved<typeof SCORE_SWITCHES> & { metric: Partial<MetricOptions> };

/** The options an entry reads, from their flags ("ndcg@10" carries its own cut-off; otherwise --k applies). */
function metricOptions(entry: MetricEntry, f: ScoreFlags, k: number | undefined): MetricOptions {
  const o: Record<string, unknown> = { digits: f.digits };
  for (const spec of METRIC_OPTIONS) {
    if (!entry.options.includes(spec.key)) continue;
    const value = spec.key === "k" ? k : f.metric[spec.key];
    if (value !== undefined) o[spec.key] = value;
  }
  return o as MetricOptions;
}

function checkCounts(hyps: ValueFile[], refs: ValueFile[], metric: string): void {
  const hyp0 = hyps[0]!;
  const n = hyp0.items.length;
  if (n === 0) throw new DataError("no predictions", { file: hyp0.file });
  for (const h of hyps)
    if (h.items.length !== n)
      throw new DataError(
        `${h.items.length} predictions, but ${hyp0.file} has ${n}`,
        { file: h.file },
        "systems in a paired comparison must cover the same items",
      );
  for (const r of refs)
    if (r.items.length !== n)
      throw new DataError(
        `${r.items.length} references, but ${hyp0.file} has ${n} predictions`,
        { file: r.file },
        `${metric} needs exactly one reference line per prediction line`,
      );
}

function resampleCount(v: number | true | undefined, fallback: number): number | undefined {
  return v === true ? fallback : v;
}

const STATS_METRICS = () =>
  METRICS.filter((e) => e.bootstrap === "stats")
    .map((e) => e.name)
    .join(", ")
    .replace(/, ([^,]+)$/, " and $1");

export function scoreCommand(metricNames: string[], f: ScoreFlags): { rows: SystemResult[]; warnings: string[] } {
  const metrics = metricNames.map((m) => {
    const { entry, k } = resolveMetric(m);
    return { entry, k: k ?? f.metric.k };
  });
  const hypFiles = f.hyp ?? [],
    refFiles = f.ref ?? [];
  if (!hypFiles.length) throw new ArgumentError("no predictions: pass --hyp <file>");
  const lm = metrics.some((m) => m.entry.references === "none");
  if (lm && metrics.some((m) => m.entry.references !== "none"))
    throw new ArgumentError(
      `language-model metrics (${METRICS.filter((e) => e.references === "none")
        .map((e) => e.name)
        .join(", ")}) read loss files; score them separately`,
    );
  if (!lm && !refFiles.length) throw new ArgumentError("no references: pass --ref <file>");
  // Every file is read once; LM metrics read whole JSONL records (their fields are options).
  const hyps = hypFiles.map((p) => readValueFile(p, { format: f.format, field: lm ? undefined : f.hypField }));
  const refs = refFiles.map((p) => readValueFile(p, { format: f.format, field: lm ? undefined : f.refField }));
  const bs = resampleCount(f.pairedBs, 1000),
    ar = resampleCount(f.pairedAr, 10000),
    ci = resampleCount(f.confidence, 1000);
  if (bs && ar) throw new ArgumentError("choose one of --paired-bs and --paired-ar");
  if ((bs || ar) && hypFiles.length < 2)
    throw new ArgumentError("paired tests compare systems: pass two or more --hyp files (the first is the baseline)");
  const seed = f.seed;
  const { value: rows, warnings } = captureWarnings(() =>
    metrics.flatMap(({ entry, k }) => {
      const name = entry.name;
      if (entry.references === "one" && refFiles.length > 1)
        throw new ArgumentError(`${name} takes exactly one --ref file, got ${refFiles.length}`);
      if (!lm) checkCounts(hyps, refs, name);
      const stats = entry.bootstrap === "stats";
      if (f.sentenceLevel && !stats)
        throw new ArgumentError(`${name}: --sentence-level is available for ${STATS_METRICS()}`);
      if (f.sentenceLevel && (bs || ar || ci))
        throw new ArgumentError("--sentence-level cannot be combined with confidence intervals or paired tests");
      if ((bs || ar || ci) && !stats)
        throw new ArgumentError(`${name}: confidence intervals and paired tests are available for ${STATS_METRICS()}`);
      const options = metricOptions(entry, f, k);
      const fields: LossFields | undefined =
        entry.prediction === "losses"
          ? { loss: options.lossField!, tokens: options.tokensField!, characters: options.charsField }
          : undefined;
      const references = entry.reference === null ? [] : refs.map((r) => parseValues(r, entry.reference!));
      const systems = hyps.map((h) => ({
        name: hypFiles.length > 1 ? h.file : undefined,
        predictions: parseValues(h, entry.prediction, fields),
      }));
      return scoreSystems(entry, systems, references, options, {
        sentenceLevel: f.sentenceLevel,
        confidence: bs || ar ? undefined : ci,
        pairedBootstrap: bs,
        pairedRandomization: ar,
        seed,
      });
    }),
  );
  for (const r of rows)
    if (Number.isNaN(r.score) && r.text === undefined && warnings.length === 0)
      warnings.push(`${r.metric} is undefined (NaN) for these inputs`);
  return { rows, warnings };
}

function printRows(rows: SystemResult[], json: boolean, digits: number): void {
  if (json) {
    const out = rows.map((r) => ({
      metric: r.metric,
      ...(r.system ? { system: r.system } : {}),
      score: Number.isNaN(r.score) ? null : r.score,
      ...(r.details ? { details: r.details } : {}),
      ...(r.signature ? { signature: r.signature } : {}),
      ...(r.extra ?? {}),
    }));
    process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 1)}\n`);
    return;
  }
  const label = (r: SystemResult) => (r.system ? `${r.system}: ${r.metric}` : r.metric);
  const w = Math.max(...rows.filter((r) => r.text === undefined).map((r) => label(r).length), 6);
  for (const r of rows) {
    if (r.text !== undefined) {
      process.stdout.write(`${r.system ? `${r.system}\n` : ""}${r.text}\n`);
      continue;
    }
    process.stdout.write(
      `${label(r).padEnd(w)}  ${formatScore(r.score, digits)}${r.details ? `  ${r.details}` : ""}\n`,
    );
    if (r.signature) process.stdout.write(`${" ".repeat(w)}  ${r.signature}\n`);
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

let pipeGuarded = false;
/** `graft score ... --sentence-level | head` closes the pipe early: stop quietly, as sacrebleu does. */
function guardPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

export function register(program: Command): void {
  const cmd = program
    .command("score")
    .description(
      "score predictions against references with any graft metric (BLEU/chrF/TER as sacrebleu, classification as scikit-learn, entities as seqeval)",
    )
    .argument("<metric...>", `metrics: ${METRICS.map((e) => e.name).join(", ")}`);
  addOptions(cmd, SCORE_SWITCHES, SCORE_METRIC_SWITCHES);
  // --hyp and --ref may be repeated: commander collects every value into the list
  for (const o of cmd.options) if (o.long === "--hyp" || o.long === "--ref") o.argParser(collect);
  cmd
    .addHelpText(
      "after",
      [
        "",
        "Inputs: text files hold one item per line (a sentence, a label, a score or space-separated scores, space-separated tags,",
        "space-separated item ids); JSONL files hold one record per line with the value in --hyp-field / --ref-field.",
        "",
        "Examples:",
        "  graft score bleu ter chrf --hyp hyp.txt --ref ref.txt --ref ref2.txt",
        "  graft score bleu --hyp base.txt --hyp new.txt --ref ref.txt --paired-bs",
        "  graft score f1 classification-report --hyp preds.jsonl --ref gold.jsonl --hyp-field label --ref-field label --average macro",
        "  graft score roc-auc pr-auc --hyp scores.txt --ref labels.txt",
        "  graft score entity-f1 entity-report --hyp pred.tags --ref gold.tags --mode strict --scheme IOB2",
        "  graft score ndcg@10 mrr --hyp recs.jsonl --ref relevant.jsonl --hyp-field items --ref-field items",
        "  graft score perplexity --hyp losses.jsonl",
        "",
      ].join("\n"),
    )
    .action((metrics: string[], _: unknown, command: Command) => {
      const f: ScoreFlags = {
        ...resolveFlags(SCORE_SWITCHES, command),
        metric: resolveFlags(SCORE_METRIC_SWITCHES, command) as Partial<MetricOptions>,
      };
      guardPipe();
      const { rows, warnings } = scoreCommand(metrics, f);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      printRows(rows, f.json === true, f.digits);
    });
}
