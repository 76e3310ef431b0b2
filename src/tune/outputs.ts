/**
 * What a study leaves for people and for the report: a leaderboard (text table and JSON), the best trial (its run
 * directory, weights included, and its parameters), the best configuration as a file that runs as it is, and the
 * data series of the report's plots — optimization history, parameter importance, parallel coordinates, the Pareto
 * front of multi-objective studies and the lineage of population-based training — as JSON under `plots/`.
 */
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ArgumentError } from "../util/errors.js";
import { crowdingDistance, losses, nondominatedFronts } from "./pareto.js";
import { pbtLineage } from "./pbt.js";
import { applyParams } from "./space.js";
import type { Study } from "./study.js";
import { lossSign, type Params, type Trial } from "./types.js";

/** A leaderboard row (also the trial shape the report module reads from leaderboard.json). */
export interface LeaderboardRow {
  rank: number | null;
  number: number;
  state: string;
  values: number[] | null;
  params: Params;
  /** Cross-validation summary when the objective recorded one. */
  /** Cross-validation: mean and std over the folds that ran (all of them, unless the trial was pruned). */
  cv: { mean: number; std: number; folds: number } | null;
  duration_s: number | null;
  attempt: number;
  /** The trial's run directory, relative to the study directory. */
  run_dir: string;
  intermediate: [number, number][];
  /** Multi-objective: the trial's non-dominated front (0 = Pareto front). */
  front?: number;
  error?: string;
}

/** Complete trials best first, then pruned (those that got further first), failed, and unfinished ones. */
export function leaderboard(study: Study): LeaderboardRow[] {
  const ranked = study.ranked();
  const fronts = new Map<number, number>();
  if (study.isMultiObjective) {
    const pts = ranked.map((t) => losses(t.values!, study.directions));
    nondominatedFronts(pts).forEach((f, i) => f.forEach((j) => fronts.set(ranked[j]!.number, i)));
  }
  const s = lossSign(study.pruneDirection);
  const last = (t: Trial) => t.intermediate[t.intermediate.length - 1];
  const pruned = study.trials
    .filter((t) => t.state === "pruned")
    .sort((a, b) => (last(b)?.step ?? 0) - (last(a)?.step ?? 0) || s * ((last(a)?.value ?? 0) - (last(b)?.value ?? 0)));
  const rest = study.trials
    .filter((t) => t.state !== "complete" && t.state !== "pruned")
    .sort((a, b) => (a.state === "failed" ? 0 : 1) - (b.state === "failed" ? 0 : 1) || a.number - b.number);
  const row = (t: Trial, rank: number | null): LeaderboardRow => {
    const cv = t.attrs.cv as { mean: number; std: number; scores?: number[] } | undefined;
    return {
      rank,
      number: t.number,
      state: t.state,
      values: t.values,
      params: t.params,
      cv: cv ? { mean: cv.mean, std: cv.std, folds: cv.scores?.length ?? 0 } : null,
      duration_s: t.startedAt !== null && t.finishedAt !== null ? (t.finishedAt - t.startedAt) / 1000 : null,
      attempt: t.attempt,
      run_dir: relative(study.dir ?? "", study.trialDir(t.number)),
      intermediate: t.intermediate.map((v) => [v.step, v.value]),
      ...(fronts.has(t.number) ? { front: fronts.get(t.number)! } : {}),
      ...(t.error ? { error: t.error.split("\n")[0]! } : {}),
    };
  };
  return [...ranked.map((t, i) => row(t, i + 1)), ...pruned.map((t) => row(t, null)), ...rest.map((t) => row(t, null))];
}

function fmt(v: unknown): string {
  if (typeof v === "number")
    return Number.isInteger(v)
      ? String(v)
      : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
        ? v.toExponential(3)
        : v.toPrecision(5);
  return String(v);
}

/** The leaderboard as an aligned text table (at most `limit` rows). */
export function formatLeaderboard(study: Study, rows = leaderboard(study), limit = 20): string {
  const names = study.space.names;
  const metrics = study.config.metrics as string[] | undefined;
  const valueCols = study.directions.map(
    (d, i) => `${metrics?.[i] ?? (study.directions.length === 1 ? "value" : `v${i}`)} (${d})`,
  );
  const header = [
    "rank",
    "trial",
    "state",
    ...valueCols,
    ...(rows.some((r) => r.cv) ? ["cv ± std"] : []),
    ...names,
    "seconds",
  ];
  const body = rows
    .slice(0, limit)
    .map((r) => [
      r.rank === null ? "-" : String(r.rank),
      String(r.number),
      r.state + (r.attempt > 1 ? ` (attempt ${r.attempt})` : ""),
      ...study.directions.map((_, i) =>
        r.values ? fmt(r.values[i]) : r.state === "failed" ? (r.error ?? "").slice(0, 40) : "",
      ),
      ...(rows.some((x) => x.cv)
        ? [
            r.cv
              ? r.state === "pruned"
                ? `${fmt(r.cv.mean)} (${r.cv.folds} fold${r.cv.folds === 1 ? "" : "s"})`
                : `${fmt(r.cv.mean)} ± ${fmt(r.cv.std)}`
              : "",
          ]
        : []),
      ...names.map((n) => (n in r.params ? fmt(r.params[n]) : "")),
      r.duration_s === null ? "" : r.duration_s.toFixed(1),
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const more = rows.length > limit ? `\n... ${rows.length - limit} more (leaderboard.json has them all)` : "";
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n") + more + "\n";
}

/** The trial whose model and configuration are exported: the best (multi-objective: the front's best on objective 0). */
export function exportedTrial(study: Study): Trial | null {
  if (!study.isMultiObjective) return study.bestTrial;
  return study.paretoFront[0] ?? null;
}

/** The configuration that reproduces a trial: the study's base config with the trial's parameters written in. */
export function trialConfig(study: Study, t: Trial): Record<string, unknown> {
  const base = (study.config.base as Record<string, unknown> | undefined) ?? {};
  return applyParams(base, t.params);
}

/**
 * Parameter importance, "fANOVA-lite": for each parameter, the share of the variance of the (rank-transformed)
 * objective explained by the parameter alone — the correlation ratio η² over its values (choices, or five
 * equal-count bins of a numeric parameter; trials where it is inactive form their own group). These main effects
 * are normalized to sum to one.
 */
export function parameterImportance(
  study: Study,
  objective = 0,
): { param: string; importance: number; eta2: number }[] {
  const done = study.trials.filter((t) => t.state === "complete" && t.values);
  if (done.length < 3) return study.space.names.map((param) => ({ param, importance: 0, eta2: 0 }));
  const ranks = rankOf(done.map((t) => lossSign(study.directions[objective]!) * t.values![objective]!));
  const mean = ranks.reduce((a, b) => a + b, 0) / ranks.length;
  const total = ranks.reduce((a, r) => a + (r - mean) ** 2, 0);
  const raw = study.space.params.map((def) => {
    const groups = new Map<string, number[]>();
    const active = done.map((t, i) => ({ t, i })).filter(({ t }) => def.name in t.params);
    const bins = Math.max(1, Math.min(5, Math.floor(active.length / 3)));
    const sorted = def.numeric
      ? [...active].sort((a, b) => def.encode(a.t.params[def.name]!) - def.encode(b.t.params[def.name]!))
      : active;
    sorted.forEach(({ t, i }, k) => {
      const key = def.numeric ? `bin${Math.floor((k * bins) / sorted.length)}` : JSON.stringify(t.params[def.name]);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(ranks[i]!);
    });
    const inactive = done.map((t, i) => (def.name in t.params ? -1 : i)).filter((i) => i >= 0);
    if (inactive.length)
      groups.set(
        "inactive",
        inactive.map((i) => ranks[i]!),
      );
    let between = 0;
    for (const g of groups.values()) {
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      between += g.length * (m - mean) ** 2;
    }
    return { param: def.name, eta2: total > 0 ? between / total : 0 };
  });
  const sum = raw.reduce((a, r) => a + r.eta2, 0);
  return raw.map((r) => ({ ...r, importance: sum > 0 ? r.eta2 / sum : 0 })).sort((a, b) => b.importance - a.importance);
}

function rankOf(xs: number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const r = new Array<number>(xs.length);
  order.forEach(({ i }, k) => {
    r[i] = k;
  });
  return r;
}

/** Data series for the report's plots. */
export function plotData(study: Study): Record<string, unknown> {
  const s = lossSign(study.directions[0]!);
  let best: number | null = null;
  const history = study.trials
    .filter((t) => t.state === "complete" && t.values)
    .map((t) => {
      const v = t.values![0]!;
      if (best === null || s * v < s * best) best = v;
      return {
        trial: t.number,
        values: t.values,
        best: study.isMultiObjective ? null : best,
        finishedAt: t.finishedAt,
      };
    });
  const parallel = {
    dimensions: study.space.params.map((d) => ({ name: d.name, spec: d.spec })),
    objectives: study.directions,
    rows: study.trials
      .filter((t) => t.state === "complete" || t.state === "pruned")
      .map((t) => ({ trial: t.number, state: t.state, values: t.values, params: t.params })),
  };
  const out: Record<string, unknown> = {
    history: {
      directions: study.directions,
      points: history,
      pruned: study.trials
        .filter((t) => t.state === "pruned")
        .map((t) => ({ trial: t.number, intermediate: t.intermediate })),
    },
    importance: {
      method: "correlation ratio of the rank-transformed objective (main effects)",
      params: parameterImportance(study),
    },
    "parallel-coordinates": parallel,
    "intermediate-values": study.trials
      .filter((t) => t.intermediate.length)
      .map((t) => ({ trial: t.number, state: t.state, points: t.intermediate })),
  };
  if (study.isMultiObjective) {
    const front = study.paretoFront;
    const pts = front.map((t) => losses(t.values!, study.directions));
    const cd = crowdingDistance(pts);
    out.pareto = {
      directions: study.directions,
      front: front.map((t, i) => ({ trial: t.number, values: t.values, params: t.params, crowding: cd[i] })),
      all: history,
    };
  }
  if (study.pbt) out["pbt-lineage"] = { interval: study.pbt.options.interval, ...pbtLineage(study) };
  return out;
}

export interface WrittenOutputs {
  leaderboard: string;
  best: string | null;
  bestConfig: string | null;
  plots: string[];
}

/** Writes leaderboard.{txt,json}, best.json, best-config.json, the best-trial link and plots/*.json into the study dir. */
export function writeStudyOutputs(study: Study): WrittenOutputs {
  const dir = study.dir;
  if (!dir) throw new ArgumentError("this study keeps no directory to write its outputs into");
  const rows = leaderboard(study);
  const metrics = study.config.metrics as string[] | undefined;
  writeJsonAtomic(join(dir, "leaderboard.json"), {
    study: study.name,
    metric: metrics?.[0] ?? "objective",
    metrics: metrics ?? study.directions.map((_, i) => `objective ${i}`),
    direction: study.directions[0],
    directions: study.directions,
    params: study.space.names,
    trials: rows,
  });
  writeFileAtomic(join(dir, "leaderboard.txt"), formatLeaderboard(study, rows, Infinity));
  const plotsDir = join(dir, "plots");
  mkdirSync(plotsDir, { recursive: true });
  const plots = Object.entries(plotData(study)).map(([name, data]) => {
    const p = join(plotsDir, `${name}.json`);
    writeJsonAtomic(p, data);
    return p;
  });
  const best = exportedTrial(study);
  let bestPath: string | null = null,
    configPath: string | null = null;
  if (best) {
    const trialDir = study.trialDir(best.number);
    bestPath = join(dir, "best.json");
    writeJsonAtomic(bestPath, {
      trial: best.number,
      values: best.values,
      directions: study.directions,
      params: best.params,
      runDir: relative(dir, trialDir),
      attrs: best.attrs,
      ...(study.isMultiObjective
        ? {
            note: "multi-objective: the Pareto front's best trial on the first objective; plots/pareto.json has the whole front",
          }
        : {}),
    });
    configPath = join(dir, "best-config.json");
    writeJsonAtomic(configPath, trialConfig(study, best));
    linkBestTrial(dir, trialDir);
  }
  return { leaderboard: join(dir, "leaderboard.txt"), best: bestPath, bestConfig: configPath, plots };
}

/** `<study>/best-trial` → the best trial's run directory (a relative link; skipped where links are not allowed). */
function linkBestTrial(dir: string, trialDir: string): void {
  const link = join(dir, "best-trial");
  rmSync(link, { force: true, recursive: false });
  if (!existsSync(trialDir)) return;
  try {
    symlinkSync(relative(dir, trialDir), link, "dir");
  } catch {
    // best.json names the directory anyway
  }
}

/**
 * Copies the best trial's run directory (weights included; intermediate checkpoints only with `checkpoints`) and
 * its configuration into `outDir`.
 */
export function exportBest(
  study: Study,
  outDir: string,
  opts: { checkpoints?: boolean } = {},
): { trial: number; dir: string } {
  const best = exportedTrial(study);
  if (!best) throw new ArgumentError("the study has no complete trial to export");
  const src = study.trialDir(best.number);
  if (existsSync(outDir)) throw new ArgumentError(`${outDir} already exists`, "choose a new directory for the export");
  mkdirSync(outDir, { recursive: true });
  if (existsSync(src)) {
    cpSync(src, outDir, {
      recursive: true,
      filter: (p) => opts.checkpoints === true || relative(src, p) !== "checkpoints",
    });
  }
  writeJsonAtomic(join(outDir, "tune-trial.json"), {
    trial: best.number,
    values: best.values,
    directions: study.directions,
    params: best.params,
    study: study.dir,
  });
  writeJsonAtomic(join(outDir, "best-config.json"), trialConfig(study, best));
  return { trial: best.number, dir: outDir };
}
