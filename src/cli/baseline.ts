/**
 * `graft baseline`: the classical model transfer learning has to beat. Reads the data (with the same validation
 * as every command), holds out a seeded stratified test split unless a test file is given, fits text preparation
 * + TF-IDF + logistic regression / naive Bayes / linear SVM, reports accuracy and macro-F1, and saves a model
 * directory for `graft predict` with the run's configuration, metrics and data summary (split included).
 */
import { join } from "node:path";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import type { Example } from "../data/types.js";
import { loadSplits } from "../data/dataset.js";
import { resolveStopWords, STOP_WORD_SOURCE } from "../data/prep/stopwords.js";
import { Lexicon } from "../data/prep/lexicon.js";
import type { PrepareOptions } from "../data/prep/prepare.js";
import type { TfidfOptions } from "../data/features/tfidf.js";
import { CLASSIFIER_KINDS } from "../data/classical/model.js";
import { TextClassifier, exampleText, type BaselineConfig, type Prediction } from "../data/classical/pipeline.js";
import { accuracy, f1, classificationReport } from "../metrics/classification/index.js";
import { captureWarnings } from "../metrics/warnings.js";
import { type Resolved, opt, resolveOptions } from "../util/options.js";
import { readOptionsFrom, readSchema, reportSkipped } from "./data.js";
import { addOptions, configAndFlags, configSwitch, flagOptions } from "./options.js";
import { version } from "./version.js";

const isRange = (v: unknown) =>
  typeof v === "string" ||
  typeof v === "number" ||
  (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x)));

/** Every setting of `graft baseline` (a config file names them like the flags, in camelCase). */
export const BASELINE_SCHEMA = {
  data: opt.string({ flag: "--data <file>", help: "training data (CSV, TSV or JSONL with a text and a label column)" }),
  validation: opt.string({
    flag: "--validation <file>",
    help: "validation data",
    defaultHelp: "none, or --validation-size of --data",
  }),
  test: opt.string({ flag: "--test <file>", help: "test data", defaultHelp: "--test-size of --data, stratified" }),
  testSize: opt.number({
    min: 0,
    lt: 1,
    flag: "--test-size <fraction>",
    help: "fraction of --data held out for testing when there is no --test file",
    defaultHelp: "0.2",
  }),
  validationSize: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    flag: "--validation-size <fraction>",
    help: "fraction of --data held out for validation when there is no --validation file",
  }),
  seed: opt.integer({ default: 0, help: "seed for the split and the SVM's row order" }),
  stratify: opt.boolean({ default: true, help: "hold out a random rather than a label-stratified split" }),
  dedupe: opt.boolean({ help: "drop repeated texts from --data before splitting" }),
  task: opt.string({ default: "classify", flag: "--task <task>", help: "what to train (classify)" }),
  model: opt.enum(CLASSIFIER_KINDS, {
    default: "logreg",
    flag: "--model <model>",
    help: `classifier: ${CLASSIFIER_KINDS.join(", ")}`,
  }),
  C: opt.number({ default: 1, gt: 0, flag: "--C <c>", help: "inverse regularization strength (logreg, svm)" }),
  alpha: opt.number({ default: 1, min: 0, flag: "--alpha <a>", help: "additive smoothing (nb)" }),
  maxIter: opt.integer({
    min: 1,
    help: "solver iterations (logreg: L-BFGS iterations; svm: epochs)",
    defaultHelp: "1000",
  }),
  tol: opt.number({ gt: 0, flag: "--tol <t>", help: "solver tolerance", defaultHelp: "logreg 1e-6, svm 1e-4" }),
  analyzer: opt.enum(["word", "char", "char_wb"], {
    default: "word",
    flag: "--analyzer <a>",
    help: "TF-IDF features: word, char or char_wb n-grams",
  }),
  ngram: opt.value<string>({
    default: "1,2",
    flag: "--ngram <min,max>",
    help: "n-gram lengths",
    describe: '"min,max" (e.g. 1,2) or one number',
    check: isRange,
    parse: (s) => s,
    coerce: (v) => (Array.isArray(v) ? v.join(",") : String(v)),
  }),
  minDf: opt.number({ default: 1, gt: 0, help: "ignore terms in fewer documents (count, or fraction < 1)" }),
  maxDf: opt.number({ default: 1, gt: 0, help: "ignore terms in more documents (fraction <= 1, or count > 1)" }),
  maxFeatures: opt.integer({ min: 1, help: "keep only the n most frequent terms" }),
  sublinearTf: opt.boolean({ default: true, help: "raw term counts instead of 1 + ln(count)" }),
  binary: opt.boolean({ help: "term presence (0/1) instead of counts" }),
  norm: opt.enum(["l2", "l1", "none"], {
    default: "l2",
    flag: "--norm <norm>",
    help: "row normalization: l2, l1 or none",
  }),
  lowercase: opt.boolean({ default: true, help: "keep case in TF-IDF tokens" }),
  stripAccents: opt.enum(["unicode", "ascii"], { flag: "--strip-accents <how>", help: "unicode or ascii" }),
  tokenPattern: opt.string({
    flag: "--token-pattern <regex>",
    help: "word token regex (JS syntax, u flag)",
    defaultHelp: "runs of 2+ letters/digits/_",
  }),
  normalize: opt.value<string>({
    flag: "--normalize <form>",
    help: "Unicode normalization first: NFC or NFKC",
    describe: "NFC or NFKC",
    check: (v) => typeof v === "string" && ["NFC", "NFKC"].includes(v.toUpperCase()),
    parse: (s) => s,
  }),
  maskUrls: opt.boolean({ help: "replace URLs by xxurl" }),
  maskEmails: opt.boolean({ help: "replace e-mail addresses by xxemail" }),
  maskNumbers: opt.boolean({ help: "replace numbers by xxnum" }),
  stopWords: opt.list("string", {
    separator: ",",
    flag: "--stop-words <langs>",
    help: `remove stop words of these languages (e.g. en or en,de; lists from ${STOP_WORD_SOURCE})`,
  }),
  stopWordsFile: opt.list("string", {
    flag: "--stop-words-file <file...>",
    help: "remove the words listed in these files (one per line)",
  }),
  normalizeTerms: opt.string({
    flag: "--normalize-terms <file>",
    help: "lexicon mapping variants to canonical terms (variant<TAB>canonical)",
  }),
  lexicon: opt.string({
    flag: "--lexicon <file>",
    help: "category or score lexicon whose features are added (term<TAB>category or term<TAB>score)",
  }),
  lexiconWeight: opt.number({
    default: 1,
    min: 0,
    flag: "--lexicon-weight <w>",
    help: "scale of the lexicon features",
  }),
  out: opt.string({
    flag: "--out <dir>",
    help: "model directory to write",
    defaultHelp: "runs/baseline-<model>-<time>",
  }),
  predictions: opt.string({
    flag: "--predictions <file>",
    help: "also write the test predictions as JSONL, with their class probabilities (or SVM decision scores)",
  }),
  json: opt.boolean({ help: "print the metrics as JSON" }),
  ...readSchema("fail"),
};

export const BASELINE_SWITCHES = configSwitch(
  'settings (JSON or YAML) named like the flags in camelCase, e.g. {"model": "svm", "ngram": "1,3"}; flags override it',
);

type BaselineSettings = Resolved<typeof BASELINE_SCHEMA>;

export interface Evaluation {
  rows: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  warnings: string[];
}

/** Accuracy, macro-F1 and the per-class table over the model's labels (scikit-learn's definitions). */
export function evaluate(
  gold: readonly string[],
  pred: readonly string[],
  labels: readonly string[],
): Evaluation & { table: string } {
  const { value, warnings } = captureWarnings(() => ({
    accuracy: accuracy(gold as string[], pred as string[]),
    macroF1: f1(gold as string[], pred as string[], { average: "macro", labels: [...new Set([...labels, ...gold])] }),
    report: classificationReport(gold as string[], pred as string[], {
      labels: [...new Set([...labels, ...gold])],
      digits: 4,
    }),
  }));
  const perClass = Object.fromEntries(
    value.report.classes.map(([name, r]) => [
      name,
      { precision: r.precision, recall: r.recall, f1: r.f1, support: r.support },
    ]),
  );
  return {
    rows: gold.length,
    accuracy: value.accuracy,
    macroF1: value.macroF1,
    perClass,
    warnings,
    table: value.report.text,
  };
}

function parseRange(v: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[,:-]\s*(\d+)\s*)?$/.exec(v);
  if (!m) throw new GraftError(`--ngram must be "min,max" (e.g. 1,2) or one number, got "${v}"`);
  const lo = Number(m[1]),
    hi = m[2] !== undefined ? Number(m[2]) : lo;
  if (lo < 1 || hi < lo) throw new GraftError(`--ngram needs 1 <= min <= max, got "${v}"`);
  return [lo, hi];
}

async function buildConfig(o: BaselineSettings): Promise<BaselineConfig> {
  const tfidf: TfidfOptions = {
    analyzer: o.analyzer,
    ngramRange: parseRange(o.ngram),
    minDf: o.minDf,
    maxDf: o.maxDf,
    maxFeatures: o.maxFeatures ?? null,
    sublinearTf: o.sublinearTf,
    binary: o.binary === true,
    norm: o.norm === "none" ? null : o.norm,
    lowercase: o.lowercase,
    stripAccents: o.stripAccents ?? null,
    ...(o.tokenPattern !== undefined ? { tokenPattern: o.tokenPattern } : {}),
  };
  const languages = o.stopWords ?? [];
  const stopWords =
    languages.length > 0 || (o.stopWordsFile?.length ?? 0) > 0
      ? await resolveStopWords(languages, o.stopWordsFile ?? [])
      : [];
  const prepare: PrepareOptions = {
    ...(o.normalize !== undefined ? { normalize: o.normalize.toUpperCase() as "NFC" | "NFKC" } : {}),
    ...(o.maskUrls ? { maskUrls: true } : {}),
    ...(o.maskEmails ? { maskEmails: true } : {}),
    ...(o.maskNumbers ? { maskNumbers: true } : {}),
    ...(stopWords.length > 0 ? { stopWords } : {}),
    ...(o.normalizeTerms
      ? { normalizeTerms: (await Lexicon.load(o.normalizeTerms, { kind: "normalize" })).toJSON() }
      : {}),
  };
  return {
    model: o.model,
    classifier: {
      C: o.C,
      alpha: o.alpha,
      ...(o.maxIter !== undefined ? { maxIter: o.maxIter } : {}),
      ...(o.tol !== undefined ? { tol: o.tol } : {}),
      seed: o.seed,
    },
    tfidf,
    prepare,
    lexicon: o.lexicon ? (await Lexicon.load(o.lexicon)).toJSON() : null,
    lexiconWeight: o.lexiconWeight,
  };
}

function labelsOf(rows: readonly Example[], file: string, role: string): string[] {
  return rows.map((e) => {
    if (e.label === undefined)
      throw new GraftError(`${file}: the ${role} data has no labels (line ${e.line})`, "pass --label-column NAME");
    return String(e.label);
  });
}

const pct = (x: number): string => (x * 100).toFixed(2);

export function register(program: Command): void {
  const cmd = program
    .command("baseline")
    .description(
      "train and evaluate a classical baseline (TF-IDF + logistic regression, naive Bayes or linear SVM) and save it for graft predict",
    );
  addOptions(cmd, BASELINE_SWITCHES, BASELINE_SCHEMA)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  graft baseline --data sst2/train.tsv --test sst2/dev.tsv --model logreg --out runs/sst2-logreg\n" +
        "  graft baseline --data SMSSpamCollection --no-header --label-column 0 --text-column 1 --test-size 0.2 --model nb\n",
    )
    .action(async (_: unknown, command: Command) => {
      const { config: configFile } = flagOptions(BASELINE_SWITCHES, command);
      const o = resolveOptions(BASELINE_SCHEMA, configAndFlags(BASELINE_SCHEMA, command, configFile));
      if (!o.data) throw new GraftError("no training data", "pass --data FILE (or data in --config)");
      if (o.task !== "classify")
        throw new GraftError(
          `--task ${o.task} is not supported by graft baseline`,
          "the classical baselines do text classification: --task classify",
        );
      if (o.labelType === "float")
        throw new GraftError(
          "--label-type float means regression; graft baseline classifies",
          "use string or int labels",
        );
      if (o.test !== undefined && o.testSize !== undefined)
        throw new GraftError("give --test or --test-size, not both");
      const config = await buildConfig(o);
      const loaded = await loadSplits({
        train: o.data,
        ...(o.validation !== undefined ? { validation: o.validation } : {}),
        ...(o.test !== undefined ? { test: o.test } : {}),
        read: readOptionsFrom(o),
        testFraction: o.test !== undefined ? 0 : (o.testSize ?? 0.2),
        validationFraction: o.validation !== undefined ? 0 : o.validationSize,
        seed: o.seed,
        ...(o.stratify ? {} : { stratify: false }),
        dedupe: o.dedupe === true,
      });
      reportSkipped(loaded.skipped);
      const log = (s: string) => process.stderr.write(s + "\n");
      const { sizes, split } = loaded.summary;
      log(
        `data: train ${sizes.train}, validation ${sizes.validation}, test ${sizes.test} rows` +
          (split ? ` (held out of ${o.data}: ${split.method}, seed ${split.seed})` : ""),
      );
      if (loaded.summary.dedupe)
        log(
          `dedupe: dropped ${loaded.summary.dedupe.removed} repeated rows (${loaded.summary.dedupe.conflictingLabels} with conflicting labels)`,
        );
      if (sizes.test === 0) throw new GraftError("nothing to evaluate on", "pass --test FILE or a --test-size above 0");

      const yTrain = labelsOf(loaded.train, o.data, "training");
      const started = performance.now();
      const model = TextClassifier.fit(loaded.train.map(exampleText), yTrain, config);
      const trainSeconds = (performance.now() - started) / 1000;
      log(
        `trained ${config.model} on ${model.vectorizer.vocabulary.length} TF-IDF features in ${trainSeconds.toFixed(1)} s`,
      );

      const results: Record<string, Evaluation> = {};
      const tables: Record<string, string> = {};
      const testPredictions: Prediction[] = [];
      for (const [role, rows, file] of [
        ["validation", loaded.validation, o.validation ?? o.data],
        ["test", loaded.test, o.test ?? o.data],
      ] as const) {
        if (rows.length === 0) continue;
        const gold = labelsOf(rows, file, role);
        // the test rows keep their class scores too, for --predictions (as graft predict writes them)
        const scored = role === "test" && o.predictions ? model.predict(rows.map(exampleText)) : undefined;
        if (scored) testPredictions.push(...scored);
        const pred = scored
          ? scored.map((p) => p.label)
          : Array.from(model.predictIds(rows.map(exampleText)), (id) => model.labels[id]!);
        const unseen = [...new Set(gold)].filter((l) => !model.labels.includes(l));
        if (unseen.length > 0)
          log(`warning: ${role} labels never seen in training (always wrong): ${unseen.join(", ")}`);
        const { table, ...ev } = evaluate(gold, pred, model.labels);
        results[role] = ev;
        tables[role] = table;
      }

      const out =
        o.out ??
        join("runs", `baseline-${config.model}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
      model.save(out);
      const { out: _o, predictions: _p, json: _j, ...settings } = o;
      writeJsonAtomic(join(out, "run.json"), {
        command: "baseline",
        graft: version(),
        created: new Date().toISOString(),
        settings,
        config: {
          ...config,
          lexicon: config.lexicon ? `${o.lexicon} (${config.lexicon.entries.length} entries)` : null,
        },
      });
      writeJsonAtomic(join(out, "metrics.json"), {
        model: config.model,
        features: model.vectorizer.vocabulary.length,
        trainSeconds,
        ...results,
      });
      writeJsonAtomic(join(out, "data.json"), { ...loaded.summary, skippedRows: loaded.skipped });
      if (o.predictions) {
        // class scores as graft predict writes them: probabilities (logreg, nb) or decision scores (svm), by label
        const lines = loaded.test.map((e, i) => {
          const p = testPredictions[i]!;
          return JSON.stringify({
            line: e.line,
            label: e.label,
            prediction: p.label,
            [p.kind === "probability" ? "probabilities" : "scores"]: p.scores,
          });
        });
        writeFileAtomic(o.predictions, lines.join("\n") + "\n");
      }

      if (o.json) {
        process.stdout.write(JSON.stringify({ model: out, ...results }, null, 2) + "\n");
        return;
      }
      for (const [role, ev] of Object.entries(results)) {
        process.stdout.write(
          `${role}: accuracy ${pct(ev.accuracy)}%  macro-F1 ${pct(ev.macroF1)}%  (${ev.rows} rows)\n`,
        );
        for (const w of ev.warnings) process.stdout.write(`  warning: ${w}\n`);
      }
      process.stdout.write("\n" + tables.test + "\n");
      process.stdout.write(`saved ${join(out, "baseline.json")} (use: graft predict --model ${out} --input FILE)\n`);
    });
}
