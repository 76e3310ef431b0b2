/**
 * `--report-to mlflow`: the run, its parameters, metrics and files sent to an MLflow tracking server through its
 * REST API (https://mlflow.org/docs/latest/rest-api.html), at MLFLOW_TRACKING_URI:
 *
 *   GET  /api/2.0/mlflow/experiments/get-by-name?experiment_name=…   (POST experiments/create when it is missing)
 *   POST /api/2.0/mlflow/runs/create    { experiment_id, run_name, start_time, tags }
 *   POST /api/2.0/mlflow/runs/log-batch { run_id, params | metrics }   (≤ 100 params, ≤ 1000 metrics per request)
 *   POST /api/2.0/mlflow/runs/update    { run_id, status, end_time }
 *   PUT  /api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>   (the server's artifact proxy)
 *
 * The experiment is MLFLOW_EXPERIMENT_NAME (default "Default"), the run name MLFLOW_RUN_NAME or the run directory's
 * name; MLFLOW_TRACKING_TOKEN (bearer) or MLFLOW_TRACKING_USERNAME/PASSWORD (basic) authenticate. Parameters are the
 * resolved configuration flattened to dotted keys (values cut to 500 characters, the limit older servers enforce),
 * metrics the training log's numbers and the evaluations' `eval_<metric>` at their step. The run id is kept in the
 * run directory's mlflow.json, so a resumed run continues the same MLflow run. At the end, run.json, data.json,
 * metrics.jsonl and best/ are uploaded as artifacts: through the proxy for an `mlflow-artifacts:` URI, copied for a
 * local `file:` one; another store (s3:, gs:, ...) is skipped with a note. Requests go in order in the background; a
 * refused one is reported once through the run's log and training goes on.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "../../util/atomic.js";
import { ArgumentError } from "../../util/errors.js";
import type { Reporter, ReporterContext, TrainerView } from "./types.js";

const MAX_PARAM_VALUE = 500;
const MAX_PARAMS_PER_BATCH = 100;
const MAX_METRICS_PER_BATCH = 1000;
/** The files of a run directory uploaded at the end (best/ whole). */
const ARTIFACTS = ["run.json", "data.json", "metrics.jsonl", "best"];
export const MLFLOW_STATE = "mlflow.json";

/** Where the tracking server is and how to authenticate, from the MLFLOW_* environment. */
export interface MlflowSettings {
  trackingUri: string;
  experimentName: string;
  runName?: string;
  headers: Record<string, string>;
}

export function mlflowSettings(env: NodeJS.ProcessEnv = process.env): MlflowSettings {
  const uri = (env.MLFLOW_TRACKING_URI ?? "").trim();
  if (!uri)
    throw new ArgumentError(
      "--report-to mlflow needs MLFLOW_TRACKING_URI, the tracking server's address (e.g. http://127.0.0.1:5000)",
    );
  if (!/^https?:\/\//.test(uri))
    throw new ArgumentError(
      `MLFLOW_TRACKING_URI must be an http(s) address of a tracking server, got "${uri}" (graft reports through the REST API, not to a local mlruns/ store)`,
    );
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME)
    headers.authorization = `Basic ${Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD ?? ""}`).toString("base64")}`;
  return {
    trackingUri: uri.replace(/\/+$/, ""),
    experimentName: env.MLFLOW_EXPERIMENT_NAME?.trim() || "Default",
    ...(env.MLFLOW_RUN_NAME ? { runName: env.MLFLOW_RUN_NAME } : {}),
    headers,
  };
}

/** A nested configuration as `a.b.c` → value strings (arrays and nulls as JSON), cut to MLflow's length limit. */
export function flattenParams(obj: Record<string, unknown>, prefix = ""): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      out.push(...flattenParams(v as Record<string, unknown>, key));
    else if (v !== undefined) {
      const s = typeof v === "string" ? v : JSON.stringify(v);
      out.push({ key, value: s.length > MAX_PARAM_VALUE ? s.slice(0, MAX_PARAM_VALUE) : s });
    }
  }
  return out;
}

interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** Every file under `dir` (or `dir` itself when it is a file), relative to `root`. */
function filesUnder(root: string, dir: string): string[] {
  const p = join(root, dir);
  if (!existsSync(p)) return [];
  if (!statSync(p).isDirectory()) return [dir];
  return readdirSync(p).flatMap((e) => filesUnder(root, join(dir, e)));
}

export class MlflowReporter implements Reporter {
  readonly name = "mlflow";
  private readonly settings: MlflowSettings;
  private queue: Promise<void> = Promise.resolve();
  private runId: string | null = null;
  private artifactUri = "";
  private failures = 0;

  constructor(private readonly ctx: ReporterContext) {
    this.settings = mlflowSettings();
  }

  /** One REST call; a non-2xx answer throws with MLflow's error_code and message. */
  private async call(method: "GET" | "POST", path: string, body?: unknown): Promise<Record<string, unknown>> {
    const url = `${this.settings.trackingUri}/api/2.0/mlflow/${path}`;
    const res = await fetch(url, {
      method,
      headers: this.settings.headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // a proxy's HTML error page: reported by status below
    }
    if (!res.ok) {
      const err = new Error(
        `MLflow ${method} ${path}: HTTP ${res.status}${json.error_code ? ` ${json.error_code}` : ""}${json.message ? `: ${json.message}` : ""}`,
      ) as Error & { code?: unknown };
      err.code = json.error_code;
      throw err;
    }
    return json;
  }

  /** Queues work after everything queued before it; a failure is logged (the first with its reason) and skipped. */
  private enqueue(what: string, work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      try {
        await work();
      } catch (e) {
        if (this.failures++ === 0)
          this.ctx.log(
            `mlflow: ${what} failed (${(e as Error).message}); training goes on, later failures are counted`,
          );
      }
    });
  }

  private async experimentId(): Promise<string> {
    const name = this.settings.experimentName;
    try {
      const got = await this.call("GET", `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return String((got.experiment as Record<string, unknown>).experiment_id);
    } catch (e) {
      if ((e as { code?: unknown }).code !== "RESOURCE_DOES_NOT_EXIST") throw e;
      const made = await this.call("POST", "experiments/create", { name });
      return String(made.experiment_id);
    }
  }

  onTrainBegin(): void {
    const statePath = join(this.ctx.runDir, MLFLOW_STATE);
    this.enqueue("starting the run", async () => {
      const previous =
        this.ctx.resumed && existsSync(statePath)
          ? (JSON.parse(readFileSync(statePath, "utf8")) as { runId: string; artifactUri: string })
          : null;
      if (previous) {
        this.runId = previous.runId;
        this.artifactUri = previous.artifactUri;
        await this.call("POST", "runs/update", { run_id: this.runId, status: "RUNNING" });
        return;
      }
      const experimentId = await this.experimentId();
      const runName = this.settings.runName ?? basename(this.ctx.runDir);
      const made = await this.call("POST", "runs/create", {
        experiment_id: experimentId,
        run_name: runName,
        start_time: Date.now(),
        tags: [
          { key: "mlflow.runName", value: runName },
          { key: "mlflow.source.name", value: "graft" },
          { key: "graft.run_dir", value: this.ctx.runDir },
        ],
      });
      const info = (made.run as Record<string, Record<string, unknown>>).info;
      this.runId = String(info.run_id);
      this.artifactUri = String(info.artifact_uri ?? "");
      writeJsonAtomic(statePath, { runId: this.runId, artifactUri: this.artifactUri, experimentId });
      const params = flattenParams(this.ctx.config);
      for (let i = 0; i < params.length; i += MAX_PARAMS_PER_BATCH)
        await this.call("POST", "runs/log-batch", {
          run_id: this.runId,
          params: params.slice(i, i + MAX_PARAMS_PER_BATCH),
        });
    });
  }

  private logMetrics(metrics: Metric[]): void {
    if (!metrics.length) return;
    this.enqueue("logging metrics", async () => {
      if (!this.runId) return; // the run could not be created: already reported
      for (let i = 0; i < metrics.length; i += MAX_METRICS_PER_BATCH)
        await this.call("POST", "runs/log-batch", {
          run_id: this.runId,
          metrics: metrics.slice(i, i + MAX_METRICS_PER_BATCH),
        });
    });
  }

  onLog(_t: TrainerView, record: Record<string, number | string>): void {
    const step = Number(record.step);
    const now = Date.now();
    this.logMetrics(
      Object.entries(record)
        .filter((e): e is [string, number] => e[0] !== "step" && typeof e[1] === "number" && Number.isFinite(e[1]))
        .map(([key, value]) => ({ key, value, timestamp: now, step })),
    );
  }

  onEvaluate(t: TrainerView, metrics: Record<string, number>): void {
    const now = Date.now();
    this.logMetrics(
      Object.entries(metrics)
        .filter(([, v]) => Number.isFinite(v))
        .map(([k, value]) => ({ key: `eval_${k}`, value, timestamp: now, step: t.globalStep })),
    );
  }

  /** Uploads (or copies) the run's files as the run's artifacts. */
  private async uploadArtifacts(): Promise<void> {
    const files = ARTIFACTS.flatMap((a) => filesUnder(this.ctx.runDir, a));
    const uri = this.artifactUri;
    if (uri.startsWith("mlflow-artifacts:")) {
      const base = uri.replace(/^mlflow-artifacts:\/*/, "").replace(/\/+$/, "");
      for (const f of files) {
        const rel = f.split("\\").join("/");
        const url = `${this.settings.trackingUri}/api/2.0/mlflow-artifacts/artifacts/${base}/${rel.split("/").map(encodeURIComponent).join("/")}`;
        const res = await fetch(url, {
          method: "PUT",
          headers: { ...this.settings.headers, "content-type": "application/octet-stream" },
          body: readFileSync(join(this.ctx.runDir, f)),
        });
        if (!res.ok) throw new Error(`MLflow PUT artifact ${rel}: HTTP ${res.status}`);
      }
    } else if (uri.startsWith("file:") || uri.startsWith("/")) {
      const root = uri.startsWith("file:") ? fileURLToPath(uri) : uri;
      for (const f of files) {
        const dest = join(root, f);
        mkdirSync(join(dest, ".."), { recursive: true });
        copyFileSync(join(this.ctx.runDir, f), dest);
      }
    } else if (files.length) {
      this.ctx.log(
        `mlflow: the run's artifact store is ${uri || "not given"}; graft uploads only through the server's artifact proxy (mlflow-artifacts:) or to a local file: store, so its ${files.length} files were not uploaded`,
      );
    }
  }

  async close(status: "FINISHED" | "FAILED" | "KILLED"): Promise<void> {
    this.enqueue("uploading artifacts", async () => {
      if (this.runId) await this.uploadArtifacts();
    });
    this.enqueue("ending the run", async () => {
      if (this.runId) await this.call("POST", "runs/update", { run_id: this.runId, status, end_time: Date.now() });
    });
    await this.queue;
    if (this.failures > 1) this.ctx.log(`mlflow: ${this.failures} requests failed in all`);
  }
}
