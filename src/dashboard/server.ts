/**
 * `createDashboard(options)`: the web UI over run and study directories (`graft dashboard`), on the same HTTP stack
 * as `graft serve` (Fastify). The page is a single-page app (Preact + uPlot, bundled by esbuild at build time into
 * assets/; nothing is fetched from elsewhere) reading these JSON routes:
 *
 *   GET /api/entries          the runs table: one row per run or study, plus problems with the folders given
 *   GET /api/runs/:id         a run: curves, evaluations, configuration, notes; its evaluation sections as HTML
 *                             (the report's own: confusion matrix, per-class / per-entity tables) and worst predictions
 *   GET /api/studies/:id      a study: trials, the best, parameter importance
 *   GET /api/served           drift of the models served at the `serve` addresses (their GET /drift), with history
 *   GET /api/events           server-sent events: `entries` when runs appear or go, `change` {id} when one is
 *                             written, `served` when a server's drift report changes
 *
 * Directories are re-scanned every `pollMs`; a run being written updates the open page without a reload. Routes
 * take ids, never paths.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance } from "fastify";
import {
  classificationSection,
  nerSection,
  PREDICTIONS_FILE,
  readStudy,
  TASK_PREDICTIONS_FILE,
} from "../report/index.js";
import type { RunData, Study, Trial } from "../report/index.js";
import type { pbtLineage } from "../tune/pbt.js";
import { discover, type Entry, type EntryRow, entryRow, fingerprint, runDetail } from "./entries.js";
import type { WorstPredictions } from "./predictions.js";
import { DriftPoller } from "./drift.js";
import { paramImportance } from "./importance.js";
import { worstPredictions } from "./predictions.js";

/** GET /api/runs/:id: the runs-table row with the run's curves, evaluations, configuration and notes. */
export type RunResponse = Omit<EntryRow, "best"> &
  Pick<RunData, "config" | "train" | "evals" | "best" | "summary" | "test" | "missing" | "notes"> & {
    sections: { id: string; title: string; html: string }[];
    worst: WorstPredictions | null;
  };

/** A PBT study's lineage as tune/ writes it in plots/pbt-lineage.json. */
export type Lineage = { interval: number } & ReturnType<typeof pbtLineage>;

/** GET /api/studies/:id: the row with the trials (each linked to its run page), importance and lineage. */
export type StudyResponse = EntryRow & {
  study: Omit<Study, "trials"> & { trials: (Trial & { runId: string | null })[] };
  params: string[];
  importance: Record<string, number> | null;
  lineage: Lineage | null;
  notes: string[];
};

export interface DashboardOptions {
  /** Run and study directories, or folders holding them. */
  roots: string[];
  /** How often directories are re-scanned for news, in ms (default 1000). */
  pollMs?: number;
  /** `graft serve` addresses whose `GET /drift` feeds the Served page. */
  serve?: string[];
  /** How often the servers are asked for drift, in ms (default 10000). */
  drift?: { everyMs?: number };
}

const ASSETS = fileURLToPath(new URL("./assets/", import.meta.url));

function page(): string {
  const built = existsSync(join(ASSETS, "app.js"));
  const body = built
    ? '<div id="app"></div><noscript>The dashboard needs JavaScript.</noscript><script type="module" src="/assets/app.js"></script>'
    : "<main><h1>graft dashboard</h1><p role=\"alert\">The dashboard's front end is not built: run <code>npm run build</code> in graft's folder.</p></main>";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>graft dashboard</title><link rel="stylesheet" href="/assets/app.css"></head>
<body>${body}</body></html>`;
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

/** A PBT study's lineage as tune/ writes it (plots/pbt-lineage.json), or null. */
function readLineage(dir: string, notes: string[]): Lineage | null {
  const p = join(dir, "plots", "pbt-lineage.json");
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Lineage;
  } catch (e) {
    notes.push(`plots/pbt-lineage.json: ${(e as Error).message}; no lineage shown`);
    return null;
  }
}

export async function createDashboard(opts: DashboardOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const pollMs = opts.pollMs ?? 1000;
  let problems: string[] = [];
  let entries: Entry[] = [];
  let prints = new Map<string, string>();
  const clients = new Set<ServerResponse>();

  const scan = () => {
    const found: string[] = [];
    const next = discover(opts.roots, found);
    const changed: string[] = [];
    const nextPrints = new Map<string, string>();
    for (const e of next) {
      const f = fingerprint(e.dir);
      nextPrints.set(e.id, f);
      if (prints.has(e.id) && prints.get(e.id) !== f) changed.push(e.id);
    }
    const listChanged =
      next.length !== entries.length ||
      next.some((e, i) => e.id !== entries[i]?.id) ||
      found.join() !== problems.join();
    entries = next;
    prints = nextPrints;
    problems = found;
    return { changed, listChanged };
  };
  scan();

  const send = (event: string, data: unknown) => {
    for (const c of clients) c.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const timer = setInterval(() => {
    const { changed, listChanged } = scan();
    if (listChanged || changed.length) send("entries", {});
    for (const id of changed) send("change", { id });
  }, pollMs);
  timer.unref();
  const drift = new DriftPoller(opts.serve ?? []);
  let polling = false;
  const pollDrift = async () => {
    if (polling || !opts.serve?.length) return;
    polling = true;
    try {
      if (await drift.poll()) send("served", {});
    } finally {
      polling = false;
    }
  };
  void pollDrift();
  const driftTimer = setInterval(() => void pollDrift(), opts.drift?.everyMs ?? 10_000);
  driftTimer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
    clearInterval(driftTimer);
    for (const c of clients) c.end();
    clients.clear();
  });

  const byId = (id: string, kind: Entry["kind"]) => entries.find((e) => e.id === id && e.kind === kind);

  app.addHook("onSend", async (_req, reply) => {
    reply.header("content-security-policy", CSP);
    reply.header("x-content-type-options", "nosniff");
  });

  app.get("/", async (_req, reply) => reply.type("text/html; charset=utf-8").send(page()));
  app.get<{ Params: { file: string } }>("/assets/:file", async (req, reply) => {
    const file = req.params.file;
    if (!/^app\.(js|css)$/.test(file)) return reply.code(404).send({ error: `no asset ${file}` });
    const p = join(ASSETS, file);
    if (!existsSync(p)) return reply.code(404).send({ error: `${file} is not built: run npm run build` });
    return reply
      .type(file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8")
      .send(readFileSync(p));
  });

  app.get("/favicon.ico", async (_req, reply) => reply.code(204).send());
  app.get("/api/entries", async () => ({ entries: entries.map((e) => entryRow(e)), problems }));

  app.get<{ Params: { id: string } }>("/api/runs/:id", async (req, reply): Promise<RunResponse | undefined> => {
    const e = byId(req.params.id, "run");
    if (!e) return reply.code(404).send({ error: `no run ${req.params.id} (it may have been removed)` });
    try {
      const run = runDetail(e);
      const sections =
        run.predictions?.task === "classification"
          ? [classificationSection(run.predictions, run.notes)]
          : run.predictions?.task === "ner"
            ? [nerSection(run.predictions, run.notes)]
            : [];
      const predFile = [PREDICTIONS_FILE, TASK_PREDICTIONS_FILE].map((f) => join(e.dir, f)).find(existsSync);
      return {
        ...entryRow(e, { run }),
        config: run.config,
        train: run.train,
        evals: run.evals,
        best: run.best,
        summary: run.summary,
        test: run.test,
        missing: run.missing,
        notes: run.notes,
        sections: sections.map((s) => ({ id: s.id, title: s.title, html: s.body })),
        worst: predFile ? worstPredictions(readFileSync(predFile, "utf8"), run.predictions, 25) : null,
      };
    } catch (err) {
      return reply.code(422).send({ error: (err as Error).message });
    }
  });

  app.get<{ Params: { id: string } }>("/api/studies/:id", async (req, reply): Promise<StudyResponse | undefined> => {
    const e = byId(req.params.id, "study");
    if (!e) return reply.code(404).send({ error: `no study ${req.params.id} (it may have been removed)` });
    const { value, notes } = readStudy(e.dir);
    if (!value) return reply.code(422).send({ error: `${e.dir}: no trials could be read`, notes });
    const complete = value.trials.filter((t) => t.state === "complete" && t.value !== null);
    const names = [...new Set(value.trials.flatMap((t) => Object.keys(t.params)))].sort();
    const runs = new Map(entries.filter((x) => x.parent === e.id).map((x) => [x.dir, x.id]));
    return {
      ...entryRow(e, { study: value }),
      study: {
        ...value,
        trials: value.trials.map((t) => ({
          ...t,
          runId: t.runDir ? (runs.get(resolve(e.dir, t.runDir)) ?? null) : null,
        })),
      },
      params: names,
      importance: paramImportance(
        complete.map((t) => t.params),
        complete.map((t) => t.value as number),
        names,
      ),
      lineage: readLineage(e.dir, notes),
      notes,
    };
  });

  app.get("/api/served", async () => ({ servers: drift.state }));

  app.get("/api/events", (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "content-security-policy": CSP,
    });
    res.write("retry: 2000\n\n");
    clients.add(res);
    req.raw.on("close", () => clients.delete(res));
  });

  return app;
}
