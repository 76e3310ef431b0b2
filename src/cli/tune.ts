/** `graft tune`: hyperparameter search — start, resume, inspect and export studies. */
import { type Command, Option } from "commander";
import { resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { readConfigFile } from "../tune/config.js";
import { describeBuiltins } from "../tune/objectives/builtins.js";
import { exportBest, formatLeaderboard, leaderboard } from "../tune/outputs.js";
import { runTune } from "../tune/run.js";
import { Study } from "../tune/study.js";
import { registerFinetuneObjective } from "../tasks/tune-objective.js";

interface TuneFlags {
  config?: string;
  dir?: string;
  resume?: string;
  objective?: string;
  name?: string;
  sampler?: string;
  pruner?: string;
  direction?: string;
  trials?: string;
  parallel?: string;
  timeout?: string;
  studyTimeout?: string;
  retries?: string;
  seed?: string;
  threads?: string;
  redis?: string;
  queue?: string;
  leaderboard?: string;
  export?: string;
  to?: string;
  checkpoints?: boolean;
  limit?: string;
  json?: boolean;
  quiet?: boolean;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ArgumentError(`${flag} must be an integer, got "${v}"`);
  return n;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ArgumentError(`${flag} must be a number, got "${v}"`);
  return n;
}

/** Flags as config keys (only those given). */
function flagConfig(f: TuneFlags): Record<string, unknown> {
  const c: Record<string, unknown> = {
    objective: f.objective,
    name: f.name,
    sampler: f.sampler,
    pruner: f.pruner === "none" ? null : f.pruner,
    directions: f.direction?.split(",").map((d) => d.trim()),
    trials: int("--trials", f.trials),
    parallel: int("--parallel", f.parallel),
    timeout: num("--timeout", f.timeout),
    studyTimeout: num("--study-timeout", f.studyTimeout),
    retries: int("--retries", f.retries),
    seed: int("--seed", f.seed),
    threads: int("--threads", f.threads),
    redis: f.redis,
    queue: f.queue,
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

async function tune(f: TuneFlags): Promise<void> {
  const out = (s: string) => process.stdout.write(s);
  const log = f.quiet ? () => {} : (line: string) => process.stderr.write(line + "\n");
  if (f.leaderboard) {
    const study = await Study.load(f.leaderboard);
    try {
      if (f.json) out(JSON.stringify({ directions: study.directions, trials: leaderboard(study) }, null, 2) + "\n");
      else out(formatLeaderboard(study, undefined, int("--limit", f.limit) ?? 20));
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
  const fromFlags = flagConfig(f);
  const resume = f.resume !== undefined;
  if (resume && (f.config || f.dir))
    throw new ArgumentError("--resume DIR continues a study as it was configured; it takes no --config or --dir");
  const dir = resolve(f.resume ?? f.dir ?? `runs/tune-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
  const config = resume ? fromFlags : { ...(f.config ? readConfigFile(f.config) : {}), ...fromFlags };
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
        out(formatLeaderboard(r.study, undefined, int("--limit", f.limit) ?? 10));
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
  program
    .command("tune")
    .description(
      "search hyperparameters: samplers (TPE, random, grid, differential evolution), pruning (ASHA, median), PBT, local or distributed trials",
    )
    .option("--config <file>", "tune configuration (JSON or YAML); flags override it")
    .option("--dir <dir>", "study directory (default runs/tune-<time>)")
    .option("--resume <dir>", "continue an interrupted study; finished trials are not run again")
    .option(
      "--objective <name>",
      "what to optimize: builtin:sphere, builtin:rosenbrock, builtin:noisy-quadratic (synthetic, for trying the tuner) or module:PATH#EXPORT",
    )
    .option("--name <name>", "study name")
    .addOption(new Option("--sampler <name>", "how parameters are chosen").choices(["tpe", "random", "grid", "de"]))
    .addOption(
      new Option("--pruner <name>", "stop bad trials early from their intermediate values").choices([
        "asha",
        "median",
        "none",
      ]),
    )
    .option("--direction <dir>", "minimize or maximize (comma-separated, one per objective)")
    .option("--trials <n>", "total trials of the study")
    .option(
      "--parallel <n>",
      "trials at once: local processes with cores/N threads each (with --redis: trials queued at once)",
    )
    .option("--timeout <seconds>", "a trial running longer is stopped and recorded as failed")
    .option("--study-timeout <seconds>", "start no new trials after this long")
    .option(
      "--retries <n>",
      "extra attempts for a trial whose process crashed (default 1); trials of lost workers are retried by the other workers",
    )
    .option("--seed <n>", "seed of the sampler and PBT (default 0)")
    .option("--threads <n>", "threads per trial (default: cores / parallel)")
    .option("--redis <url>", "run trials as BullMQ jobs on this Redis (start workers with graft worker --redis URL)")
    .option("--queue <name>", "BullMQ queue name (default graft-trials)")
    .option("--leaderboard <dir>", "print the leaderboard of a study and exit")
    .option("--limit <n>", "rows of the leaderboard to print")
    .option("--export <dir>", "copy the best trial's run directory and config out of a study (with --to)")
    .option("--to <dir>", "where --export puts the best model")
    .option("--checkpoints", "with --export: include intermediate checkpoints")
    .option("--json", "print JSON")
    .option("--quiet", "no progress lines")
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

Synthetic objectives (for trying the tuner):
  ${describeBuiltins().join("\n  ")}

A study directory holds study.sqlite (every trial, its parameters, intermediate values and result), trials/
(one run directory per trial), leaderboard.txt/.json, best.json, best-config.json and plots/*.json.
`,
    )
    .action((f: TuneFlags) => tune(f));
}
