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
import type { Analyzer } from "../data/features/analyze.js";
import { CLASSIFIER_KINDS, type ClassifierKind } from "../data/classical/model.js";
import { TextClassifier, exampleText, type BaselineConfig } from "../data/classical/pipeline.js";
import { accuracy, f1, classificationReport } from "../metrics/classification/index.js";
import { captureWarnings } from "../metrics/warnings.js";
import { addReadOptions, numberFlag, readOptionsFrom, reportSkipped, type ReadFlags } from "./data.js";
import { mergeConfig, readConfigFile } from "./config.js";
import { version } from "./version.js";

interface BaselineFlags extends ReadFlags {
  config?: string;
  data: string;
  validation?: string;
  test?: string;
  testSize?: string;
  validationSize: string;
  seed: string;
  stratify: boolean;
  dedupe?: boolean;
  task: string;
  model: string;
  C: string;
  alpha: string;
  maxIter?: string;
  tol?: string;
  analyzer: string;
  ngram: string;
  minDf: string;
  maxDf: string;
  maxFeatures?: string;
  sublinearTf: boolean;
  binary?: boolean;
  norm: string;
  lowercase: boolean;
  stripAccents?: string;
  tokenPattern?: string;
  normalize?: string;
  maskUrls?: boolean;
  maskEmails?: boolean;
  maskNumbers?: boolean;
  stopWords?: string;
  stopWordsFile?: string[];
  normalizeTerms?: string;
  lexicon?: string;
  lexiconWeight: string;
  out?: string;
  predictions?: string;
  json?: boolean;
}

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

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new GraftError(`${name} must be one of ${allowed.join(", ")}, got "${v}"`);
  return v as T;
}

async function buildConfig(o: BaselineFlags): Promise<BaselineConfig> {
  const model = oneOf<ClassifierKind>("--model", o.model, CLASSIFIER_KINDS);
  const positive = (name: string, v: string | undefined) => numberFlag(name, v, (x) => x > 0, "a positive number");
  const tfidf: TfidfOptions = {
    analyzer: oneOf<Analyzer>("--analyzer", o.analyzer, ["word", "char", "char_wb"]),
    ngramRange: parseRange(o.ngram),
    minDf: positive("--min-df", o.minDf)!,
    maxDf: positive("--max-df", o.maxDf)!,
    maxFeatures:
      numberFlag("--max-features", o.maxFeatures, (x) => Number.isInteger(x) && x > 0, "a positive integer") ?? null,
    sublinearTf: o.sublinearTf,
    binary: o.binary === true,
    norm: o.norm === "none" ? null : oneOf("--norm", o.norm, ["l2", "l1"] as const),
    lowercase: o.lowercase,
    stripAccents:
      o.stripAccents === undefined ? null : oneOf("--strip-accents", o.stripAccents, ["unicode", "ascii"] as const),
    ...(o.tokenPattern !== undefined ? { tokenPattern: o.tokenPattern } : {}),
  };
  const languages = o.stopWords
    ? o.stopWords
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  const stopWords =
    languages.length > 0 || (o.stopWordsFile?.length ?? 0) > 0
      ? await resolveStopWords(languages, o.stopWordsFile ?? [])
      : [];
  const prepare: PrepareOptions = {
    ...(o.normalize !== undefined
      ? { normalize: oneOf("--normalize", o.normalize.toUpperCase(), ["NFC", "NFKC"] as const) }
      : {}),
    ...(o.maskUrls ? { maskUrls: true } : {}),
    ...(o.maskEmails ? { maskEmails: true } : {}),
    ...(o.maskNumbers ? { maskNumbers: true } : {}),
    ...(stopWords.length > 0 ? { stopWords } : {}),
    ...(o.normalizeTerms
      ? { normalizeTerms: (await Lexicon.load(o.normalizeTerms, { kind: "normalize" })).toJSON() }
      : {}),
  };
  return {
    model,
    classifier: {
      C: positive("--C", o.C),
      alpha: numberFlag("--alpha", o.alpha, (x) => x >= 0, "a non-negative number"),
      ...(o.maxIter !== undefined
        ? { maxIter: numberFlag("--max-iter", o.maxIter, (x) => Number.isInteger(x) && x > 0, "a positive integer") }
        : {}),
      ...(o.tol !== undefined ? { tol: positive("--tol", o.tol) } : {}),
      seed: numberFlag("--seed", o.seed, Number.isInteger, "an integer"),
    },
    tfidf,
    prepare,
    lexicon: o.lexicon ? (await Lexicon.load(o.lexicon)).toJSON() : null,
    lexiconWeight: numberFlag("--lexicon-weight", o.lexiconWeight, (x) => x >= 0, "a non-negative number"),
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

/** Flags merged over --config: a flag typed on the command line wins, the file wins over flag defaults. */
function withConfigFile(flags: BaselineFlags, command: Command): BaselineFlags {
  if (!flags.config) return flags;
  const known = new Set(command.options.map((opt) => opt.attributeName()).filter((k) => k !== "config"));
  const explicit = new Set([...known].filter((k) => command.getOptionValueSource(k) === "cli"));
  // flags arrive as strings; accept plain numbers in the file too
  const file = Object.fromEntries(
    Object.entries(readConfigFile(flags.config)).map(([k, v]) => [k, typeof v === "number" ? String(v) : v]),
  );
  return {
    ...flags,
    ...mergeConfig(file, flags as unknown as Record<string, unknown>, explicit, known),
  } as BaselineFlags;
}

export function register(program: Command): void {
  const cmd = program
    .command("baseline")
    .description(
      "train and evaluate a classical baseline (TF-IDF + logistic regression, naive Bayes or linear SVM) and save it for graft predict",
    )
    .option(
      "--config <file>",
      'settings (JSON or YAML) named like the flags in camelCase, e.g. {"model": "svm", "ngram": "1,3"}; flags override it',
    )
    .option("--data <file>", "training data (CSV, TSV or JSONL with a text and a label column)")
    .option("--validation <file>", "validation data (default: none, or --validation-size of --data)")
    .option("--test <file>", "test data (default: --test-size of --data, stratified)")
    .option(
      "--test-size <fraction>",
      "fraction of --data held out for testing when there is no --test file (default 0.2)",
    )
    .option(
      "--validation-size <fraction>",
      "fraction of --data held out for validation when there is no --validation file",
      "0",
    )
    .option("--seed <n>", "seed for the split and the SVM's row order", "0")
    .option("--no-stratify", "hold out a random rather than a label-stratified split")
    .option("--dedupe", "drop repeated texts from --data before splitting")
    .option("--task <task>", "what to train (classify)", "classify")
    .option("--model <model>", `classifier: ${CLASSIFIER_KINDS.join(", ")}`, "logreg")
    .option("--C <c>", "inverse regularization strength (logreg, svm)", "1")
    .option("--alpha <a>", "additive smoothing (nb)", "1")
    .option("--max-iter <n>", "solver iterations (logreg: L-BFGS iterations, default 1000; svm: epochs, default 1000)")
    .option("--tol <t>", "solver tolerance (logreg default 1e-6, svm default 1e-4)")
    .option("--analyzer <a>", "TF-IDF features: word, char or char_wb n-grams", "word")
    .option("--ngram <min,max>", "n-gram lengths", "1,2")
    .option("--min-df <n>", "ignore terms in fewer documents (count, or fraction < 1)", "1")
    .option("--max-df <n>", "ignore terms in more documents (fraction <= 1, or count > 1)", "1")
    .option("--max-features <n>", "keep only the n most frequent terms")
    .option("--no-sublinear-tf", "raw term counts instead of 1 + ln(count)")
    .option("--binary", "term presence (0/1) instead of counts")
    .option("--norm <norm>", "row normalization: l2, l1 or none", "l2")
    .option("--no-lowercase", "keep case in TF-IDF tokens")
    .option("--strip-accents <how>", "unicode or ascii")
    .option("--token-pattern <regex>", "word token regex (JS syntax, u flag; default: runs of 2+ letters/digits/_)")
    .option("--normalize <form>", "Unicode normalization first: NFC or NFKC")
    .option("--mask-urls", "replace URLs by xxurl")
    .option("--mask-emails", "replace e-mail addresses by xxemail")
    .option("--mask-numbers", "replace numbers by xxnum")
    .option(
      "--stop-words <langs>",
      `remove stop words of these languages (e.g. en or en,de; lists from ${STOP_WORD_SOURCE})`,
    )
    .option("--stop-words-file <file...>", "remove the words listed in these files (one per line)")
    .option("--normalize-terms <file>", "lexicon mapping variants to canonical terms (variant<TAB>canonical)")
    .option(
      "--lexicon <file>",
      "category or score lexicon whose features are added (term<TAB>category or term<TAB>score)",
    )
    .option("--lexicon-weight <w>", "scale of the lexicon features", "1")
    .option("--out <dir>", "model directory to write (default: runs/baseline-<model>-<time>)")
    .option("--predictions <file>", "also write the test predictions as JSONL")
    .option("--json", "print the metrics as JSON");
  addReadOptions(cmd, "fail")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  graft baseline --data sst2/train.tsv --test sst2/dev.tsv --model logreg --out runs/sst2-logreg\n" +
        "  graft baseline --data SMSSpamCollection --no-header --label-column 0 --text-column 1 --test-size 0.2 --model nb\n",
    )
    .action(async (flags: BaselineFlags, command: Command) => {
      const o = withConfigFile(flags, command);
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
      const fraction = (name: string, v: string) =>
        numberFlag(name, v, (x) => x >= 0 && x < 1, "a fraction in [0, 1)")!;
      const config = await buildConfig(o);
      const loaded = await loadSplits({
        train: o.data,
        ...(o.validation !== undefined ? { validation: o.validation } : {}),
        ...(o.test !== undefined ? { test: o.test } : {}),
        read: readOptionsFrom(o),
        testFraction: o.test !== undefined ? 0 : fraction("--test-size", o.testSize ?? "0.2"),
        validationFraction: o.validation !== undefined ? 0 : fraction("--validation-size", o.validationSize),
        seed: numberFlag("--seed", o.seed, Number.isInteger, "an integer"),
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
      const testPredictions: string[] = [];
      for (const [role, rows, file] of [
        ["validation", loaded.validation, o.validation ?? o.data],
        ["test", loaded.test, o.test ?? o.data],
      ] as const) {
        if (rows.length === 0) continue;
        const gold = labelsOf(rows, file, role);
        const pred = Array.from(model.predictIds(rows.map(exampleText)), (id) => model.labels[id]!);
        if (role === "test") testPredictions.push(...pred);
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
      const { out: _o, predictions: _p, json: _j, config: _c, ...settings } = o;
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
        const lines = loaded.test.map((e, i) =>
          JSON.stringify({ line: e.line, label: e.label, prediction: testPredictions[i] }),
        );
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
