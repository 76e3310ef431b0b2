/**
 * Drift of served models for the dashboard's "Served" page: each `graft serve` address given with `--serve` is asked
 * for `GET /drift` (the server's drift reports against each model's training reference, see docs/monitoring.md)
 * every `everyMs`, and the answers are kept as a history since the dashboard started, so the page can chart each
 * feature's statistic over time next to its threshold. GRAFT_API_KEY is sent as the bearer token when set.
 */
import type { DriftReport } from "../monitor/index.js";

export interface DriftPoint {
  at: number;
  status: DriftReport["status"];
  driftedShare: number;
  samples: number;
  /** feature → its test's statistic and whether it drifted. */
  features: Record<string, { statistic: number; drift: boolean }>;
}

export interface ServedModelDrift {
  server: string;
  model: string;
  latest: DriftReport | null;
  history: DriftPoint[];
}

export interface ServedState {
  server: string;
  /** The last poll's failure (the server is down, has no drift monitoring, refuses the key), else null. */
  error: string | null;
  models: ServedModelDrift[];
}

const MAX_HISTORY = 2000;

export class DriftPoller {
  private readonly states: ServedState[];

  constructor(
    servers: readonly string[],
    private readonly apiKey = process.env.GRAFT_API_KEY,
  ) {
    this.states = servers.map((s) => ({ server: s.replace(/\/+$/, ""), error: null, models: [] }));
  }

  get state(): readonly ServedState[] {
    return this.states;
  }

  /** One round of GET /drift on every server; true when anything changed. */
  async poll(now = Date.now()): Promise<boolean> {
    let changed = false;
    for (const s of this.states) {
      try {
        const res = await fetch(`${s.server}/drift`, {
          headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 404)
          throw new Error("no /drift route: start graft serve with --sample-log and a model with a drift reference");
        if (!res.ok) throw new Error(`GET /drift answered HTTP ${res.status}`);
        const body = (await res.json()) as { models?: Record<string, DriftReport | null> };
        for (const [model, report] of Object.entries(body.models ?? {})) {
          let m = s.models.find((x) => x.model === model);
          if (!m) {
            m = { server: s.server, model, latest: null, history: [] };
            s.models.push(m);
          }
          m.latest = report;
          if (report) {
            m.history.push({
              at: now,
              status: report.status,
              driftedShare: report.driftedShare,
              samples: report.samples,
              features: Object.fromEntries(
                report.features.map((f) => [f.feature, { statistic: f.statistic, drift: f.drift }]),
              ),
            });
            if (m.history.length > MAX_HISTORY) m.history.splice(0, m.history.length - MAX_HISTORY);
          }
        }
        changed ||= s.error !== null || Object.keys(body.models ?? {}).length > 0;
        s.error = null;
      } catch (e) {
        const msg = `${s.server}: ${(e as Error).message}`;
        changed ||= s.error !== msg;
        s.error = msg;
      }
    }
    return changed;
  }
}
