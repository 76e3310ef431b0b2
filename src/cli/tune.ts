/** `graft tune`: hyperparameter search — start, resume, inspect and export studies. */
import type { Command } from "commander";
import { resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { TUNE_SCHEMA, readConfigFile } from "../tune/config.js";
import { isObject, opt, optionPaths, suggestKey } from "../util/options.js";
import { FINETUNE_SCHEMA, validateFinetuneOptions } from "../tasks/config.js";
import { TRAINING_SCHEMA } from "../train/args.js";
import { addOptions, configSwitch, flagOptions } from "./options.js";
import { describeBuiltins } from "../tune/objectives/builtins.js";
import { exportBest, formatLeaderboard, leaderboard } from "../tune/outputs.js";
import { runTune } from "../tune/run.js";
import { Study } from "../tune/study.js";
import { registerFinetuneObjective } from "../tasks/tune-objective.js";
import { datasetMetaFeatures } from "../methods/metafeatures.js";

/** Switches of the command line that are not study settings. */
export const TUNE_SWITCHES = {
  ...configSwitch("tune configuration (JSON or YAML); flags override it"),
  dir: opt.string({ file: false, flag: "--dir <dir>", help: "study directory", defaultHelp: "runs/tune-<time>" }),
  resume: opt.string({
    file: false,
    flag: "--resume <dir>",
    help: "continue an interrupted study; finished trials are not run again",
  }),
  leaderboard: opt.string({
    file: false,
    flag: "--leaderboard <dir>",
    help: "print the leaderboard of a study and exit",
  }),
  limit: opt.integer({ file: false, min: 1, help: "rows of the leaderboard to print" }),
  export: opt.string({
    file: false,
    flag: "--export <dir>",
    help: "copy the best trial's run directory and config out of a study (with --to)",
  }),
  to: opt.string({ file: false, flag: "--to <dir>", help: "where --export puts the best model" }),
  checkpoints: opt.boolean({ file: false, help: "with --export: include intermediate checkpoints" }),
  json: opt.boolean({ file: false, help: "print JSON" }),
  quiet: opt.boolean({ file: false, help: "no progress lines" }),
  metaLogme: opt.boolean({
    file: false,
    flag: "--meta-logme",
    help: "finetune objective: add the model's LogME score on the data to the study's meta-features (for warm starts)",
  }),
};

/**
 * A new finetune study's meta-features (size, classes, meanLength, labelEntropy, optionally logme), measured on
 * its training file unless the config gives them: kept with the study, so that later studies can warm-start from
 * it, and compared with those of the studies it warm-starts from.
 */
async function withMetaFeatures(
  config: Record<string, unknown>,
  logmeModel: boolean,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const o = config.objective;
  if (config.metaFeatures !== undefined || !isObject(o) || o.name !== "finetune" || !isObject(o.config)) return config;
  const c = o.config as Record<string, unknown>;
  const task = c.task ?? "classification";
  if (typeof c.data !== "string" || (task !== "classification" && task !== "ner")) return config;
  const meta = await datasetMetaFeatures(c.data, {
    task,
    logmeModel: logmeModel && typeof c.model === "string" ? c.model : undefined,
  });
  log(
    `meta-features of ${c.data}: ${Object.entries(meta)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
      .join(", ")}`,
  );
  return { ...config, metaFeatures: meta };
}

/**
 * A new study's finetune objective checked before any trial runs: its `config` against the finetune schema, and
 * the space's parameters against the settings they set (bare training names such as "lr" mean "training.lr").
 */
function checkFinetuneObjective(config: Record<string, unknown>, source: string): void {
  const o = config.objective;
  if (!isObject(o) || o.name !== "finetune") return;
  if (o.config !== undefined) validateFinetuneOptions(o.config, { source, at: "objective.config" });
  if (isObject(config.space)) {
    const paths = new Set(optionPaths(FINETUNE_SCHEMA).map(([p]) => p));
    for (const k of Object.keys(config.space)) {
      const path = Object.hasOwn(TRAINING_SCHEMA, k) ? `training.${k}` : k;
      if (!paths.has(path)) {
        const guess = suggestKey(FINETUNE_SCHEMA, path);
        throw new ArgumentError(
          `unknown finetune setting "${k}" in ${source}: space${guess ? ` (did you mean "${guess}"?)` : ""}`,
          "a parameter of the finetune objective is a setting's path, e.g. training.lr or freeze.firstLayers",
        );
      }
    }
  }
}

async function tune(command: Command): Promise<void> {
  const f = flagOptions(TUNE_SWITCHES, command);
  const out = (s: string) => process.stdout.write(s);
  const log = f.quiet ? () => {} : (line: string) => process.stderr.write(line + "\n");
  if (f.leaderboard) {
    const study = await Study.load(f.leaderboard);
    try {
      if (f.json) out(JSON.stringify({ directions: study.directions, trials: leaderboard(study) }, null, 2) + "\n");
      else out(formatLeaderboard(study, undefined, f.limit ?? 20));
    } finally {
      study.close();
    }
    return;
  }
  if (f.export) {
    if (!f.to) throw new ArgumentError("--export needs --to OUT_DIR (where the best model goes)");
    const study = await Study.load(f.export);
    try {
      const r = exportBest(study, resolve(f.to), { checkpoints: f.checkpoints });
      out(
        f.json
          ? JSON.stringify(r) + "\n"
          : `trial ${r.trial} exported to ${r.dir} (run directory, weights, best-config.json)\n`,
      );
    } finally {
      study.close();
    }
    return;
  }
  const fromFlags = flagOptions(TUNE_SCHEMA, command) as Record<string, unknown>;
  const resume = f.resume !== undefined;
  if (resume && (f.config || f.dir))
    throw new ArgumentError("--resume DIR continues a study as it was configured; it takes no --config or --dir");
  const dir = resolve(f.resume ?? f.dir ?? `runs/tune-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
  let config = resume ? fromFlags : { ...(f.config ? readConfigFile(f.config) : {}), ...fromFlags };
  if (!resume) {
    checkFinetuneObjective(config, f.config ?? "the flags");
    config = await withMetaFeatures(config, f.metaLogme ?? false, log);
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    log(
      `stopping: no new trials; running ones finish (Ctrl-C again to quit now). Continue later with graft tune --resume ${dir}`,
    );
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const r = await runTune({ dir, config, resume, log, signal: abort.signal, source: f.config ?? "the flags" });
    try {
      if (f.json) {
        const best = r.study.isMultiObjective ? null : r.study.bestTrial;
        out(
          JSON.stringify(
            {
              dir,
              trials: r.study.trials.length,
              finished: r.finished,
              directions: r.study.directions,
              best: best ? { trial: best.number, values: best.values, params: best.params } : null,
              pareto: r.study.isMultiObjective
                ? r.study.paretoFront.map((t) => ({ trial: t.number, values: t.values, params: t.params }))
                : undefined,
              outputs: r.outputs,
            },
            null,
            2,
          ) + "\n",
        );
      } else {
        out(formatLeaderboard(r.study, undefined, f.limit ?? 10));
        out(
          `\nstudy: ${dir}\nleaderboard: ${r.outputs.leaderboard}\n${r.outputs.bestConfig ? `best config: ${r.outputs.bestConfig}\n` : ""}plots data: ${resolve(dir, "plots")}\n`,
        );
      }
    } finally {
      r.study.close();
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

export function register(program: Command): void {
  registerFinetuneObjective();
  const cmd = program
    .command("tune")
    .description(
      "search hyperparameters: samplers (TPE, random, grid, differential evolution), pruning (ASHA, median), PBT, local or distributed trials",
    );
  const { config, ...switches } = TUNE_SWITCHES;
  addOptions(cmd, { config }, TUNE_SCHEMA, switches)
    .addHelpText(
      "after",
      `
Examples:
  graft tune --objective builtin:rosenbrock --sampler de --trials 300 --dir runs/rosen
  graft tune --config tune.json --dir runs/lr-search --parallel 2
  graft tune --resume runs/lr-search --trials 100
  graft tune --config tune.json --dir runs/big --redis redis://queue-host:6379 --parallel 8
  graft tune --leaderboard runs/lr-search
  graft tune --export runs/lr-search --to models/best
  graft tune --config tune.json --dir runs/sst2 --warm-start runs/agnews runs/spam --trials 20

Synthetic objectives (for trying the tuner):
  ${describeBuiltins().join("\n  ")}

A study directory holds study.sqlite (every trial, its parameters, intermediate values and result), trials/
(one run directory per trial), leaderboard.txt/.json, best.json, best-config.json and plots/*.json.
`,
    )
    .action((_: unknown, command: Command) => tune(command));
}
