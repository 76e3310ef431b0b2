/**
 * `graft score <metric...>`: scores predictions against references read from files, like
 * sacrebleu's command line (`graft score bleu ter chrf --hyp hyp.txt --ref ref.txt --ref ref2.txt`)
 * but for every metric in the registry (metrics/registry.ts). Files are plain text (one item per line) or JSONL
 * with the value in a field, read by data/readers/predictions.ts. Mismatched line counts, unparsable values and
 * undefined scores are errors or warnings that name the file and line; nothing is scored silently wrong.
 */
import type { Command } from "commander";
import { parseValues, readValueFile, type LossFields, type ValueFile, type ValueFormat } from "../data/index.js";
import { formatScore } from "../metrics/format.js";
import {
  METRICS,
  METRIC_OPTIONS,
  captureWarnings,
  resolveMetric,
  scoreSystems,
  type MetricEntry,
  type MetricOptions,
  type SystemResult,
} from "../metrics/index.js";
import { ArgumentError, DataError } from "../util/errors.js";

/** The command's own flags; each metric option's flag (METRIC_OPTIONS) arrives as a string or boolean beside them. */
interface Flags extends Record<string, unknown> {
  hyp: string[];
  ref: string[];
  format?: ValueFormat;
  hypField: string;
  refField: string;
  json?: boolean;
  digits: string;
  sentenceLevel?: boolean;
  confidence?: string | boolean;
  pairedBs?: string | boolean;
  pairedAr?: string | boolean;
  seed: string;
  k?: string;
}

function num(s: string | undefined, name: string, fallback?: number): number | undefined {
  if (s === undefined) return fallback;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new ArgumentError(`--${name} must be a number, got "${s}"`);
  return v;
}

/** The options an entry reads, from their flags ("ndcg@10" carries its own cut-off; otherwise --k applies). */
function metricOptions(entry: MetricEntry, f: Flags, k: string | undefined): MetricOptions {
  const o: Record<string, unknown> = { digits: Number(f.digits) };
  for (const spec of METRIC_OPTIONS) {
    if (!entry.options.includes(spec.key)) continue;
    const raw = spec.key === "k" ? k : f[spec.key];
    if (raw === undefined) continue;
    const flag = spec.flag.split(" ")[0]!.slice(2);
    o[spec.key] = spec.type === "number" ? num(String(raw), flag) : spec.type === "list" ? String(raw).split(",") : raw;
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

function resampleCount(v: string | boolean | undefined, fallback: number): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`resample count must be a positive integer, got "${v}"`);
  return n;
}

const STATS_METRICS = () =>
  METRICS.filter((e) => e.bootstrap === "stats")
    .map((e) => e.name)
    .join(", ")
    .replace(/, ([^,]+)$/, " and $1");

export function scoreCommand(metricNames: string[], f: Flags): { rows: SystemResult[]; warnings: string[] } {
  const metrics = metricNames.map((m) => {
    const { entry, k } = resolveMetric(m);
    return { entry, k: k === undefined ? f.k : String(k) };
  });
  if (!f.hyp?.length) throw new ArgumentError("no predictions: pass --hyp <file>");
  const lm = metrics.some((m) => m.entry.references === "none");
  if (lm && metrics.some((m) => m.entry.references !== "none"))
    throw new ArgumentError(
      `language-model metrics (${METRICS.filter((e) => e.references === "none")
        .map((e) => e.name)
        .join(", ")}) read loss files; score them separately`,
    );
  if (!lm && !f.ref?.length) throw new ArgumentError("no references: pass --ref <file>");
  // Every file is read once; LM metrics read whole JSONL records (their fields are options).
  const hyps = f.hyp.map((p) => readValueFile(p, { format: f.format, field: lm ? undefined : f.hypField }));
  const refs = f.ref.map((p) => readValueFile(p, { format: f.format, field: lm ? undefined : f.refField }));
  const bs = resampleCount(f.pairedBs, 1000),
    ar = resampleCount(f.pairedAr, 10000),
    ci = resampleCount(f.confidence, 1000);
  if (bs && ar) throw new ArgumentError("choose one of --paired-bs and --paired-ar");
  if ((bs || ar) && f.hyp.length < 2)
    throw new ArgumentError("paired tests compare systems: pass two or more --hyp files (the first is the baseline)");
  const seed = num(f.seed, "seed", 12345)!;
  const { value: rows, warnings } = captureWarnings(() =>
    metrics.flatMap(({ entry, k }) => {
      const name = entry.name;
      if (entry.references === "one" && f.ref.length > 1)
        throw new ArgumentError(`${name} takes exactly one --ref file, got ${f.ref.length}`);
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
        name: f.hyp.length > 1 ? h.file : undefined,
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
    .argument("<metric...>", `metrics: ${METRICS.map((e) => e.name).join(", ")}`)
    .option(
      "--hyp <file>",
      "predictions, one per line (text) or per record (JSONL); repeat to compare systems",
      collect,
    )
    .option("--ref <file>", "references; repeat for several references (generation metrics)", collect)
    .option("--format <text|jsonl>", "input format (default: jsonl for .jsonl/.ndjson files, else text)")
    .option("--hyp-field <name>", "JSONL field with the prediction", "prediction")
    .option("--ref-field <name>", "JSONL field with the reference", "reference")
    .option("--json", "print JSON")
    .option("--digits <n>", "decimals in the table", "4")
    .option("--sentence-level", "generation metrics: one score per line")
    .option("--confidence [n]", "bootstrap 95% confidence interval (n resamples, default 1000)")
    .option("--paired-bs [n]", "paired bootstrap test of each --hyp against the first (default 1000 resamples)")
    .option("--paired-ar [n]", "paired approximate randomization test (default 10000 trials)")
    .option("--seed <n>", "seed for resampling", "12345");
  for (const o of METRIC_OPTIONS) cmd.option(o.flag, o.description, o.default);
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
    .action((metrics: string[], f: Flags) => {
      f.hyp ??= [];
      f.ref ??= [];
      if (f.format !== undefined && f.format !== "text" && f.format !== "jsonl")
        throw new ArgumentError(`--format must be text or jsonl, got "${f.format}"`);
      guardPipe();
      const { rows, warnings } = scoreCommand(metrics, f);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      printRows(rows, f.json === true, Number(f.digits));
    });
}
