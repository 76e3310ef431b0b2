/**
 * graft dashboard: runs table, run page, comparison of runs, study page. Hash routes (#/, #/run/ID, #/compare/A,B,
 * #/study/ID) so every view has a link and the back button works. Every control has a label; states and runs are
 * named in text and told apart by dash pattern, never by colour alone.
 */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  duration,
  type EntryRow,
  fmt,
  type RunDetail,
  type Lineage,
  type ServedState,
  type StudyDetail,
  type Trial,
  useLive,
} from "./api.js";
import { Chart, type Line } from "./chart.js";

function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean);
}

function Messages(props: { error?: string | null; notes?: string[]; missing?: string[] }) {
  return (
    <>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      {!!props.notes?.length && (
        <section class="notes" aria-label="Notes about the files">
          <h3>Notes</h3>
          <ul>
            {props.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </section>
      )}
      {!!props.missing?.length && (
        <details class="missing">
          <summary>Missing parts ({props.missing.length})</summary>
          <ul>
            {props.missing.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

type SortKey = "name" | "task" | "model" | "status" | "best" | "durationS" | "updated";
const COLUMNS: [SortKey, string][] = [
  ["name", "Run"],
  ["task", "Task"],
  ["model", "Model"],
  ["status", "Status"],
  ["best", "Best"],
  ["durationS", "Duration"],
  ["updated", "Updated"],
];

function RunsPage() {
  const { data, error } = useLive<{ entries: EntryRow[]; problems: string[] }>("/api/entries", "entries");
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "updated", desc: true });
  const [selected, setSelected] = useState<string[]>([]);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = (data?.entries ?? []).filter(
      (e) => !f || [e.name, e.task, e.model, e.data, e.status, e.dir].some((v) => v?.toLowerCase().includes(f)),
    );
    const val = (e: EntryRow) => e[sort.key] ?? (typeof e[sort.key] === "number" ? Number.NEGATIVE_INFINITY : "");
    return list.sort((a, b) => {
      const x = val(a),
        y = val(b);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -c : c;
    });
  }, [data, filter, sort]);
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const runsSelected = selected.filter((id) => data?.entries.some((e) => e.id === id && e.kind === "run"));
  return (
    <main>
      <h1>Runs</h1>
      <Messages error={error} notes={data?.problems} />
      <div class="toolbar">
        <label>
          Filter runs <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          disabled={runsSelected.length < 2}
          onClick={() => (location.hash = `#/compare/${runsSelected.join(",")}`)}
        >
          Compare selected runs ({runsSelected.length})
        </button>
      </div>
      {data && !data.entries.length && <p role="status">No runs or studies found in the folders given.</p>}
      <table class="runs">
        <caption class="visually-hidden">Runs and studies</caption>
        <thead>
          <tr>
            <th scope="col">Select</th>
            {COLUMNS.map(([key, label]) => (
              <th
                scope="col"
                key={key}
                aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}
              >
                <button
                  type="button"
                  class="sort"
                  onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "name" }))}
                >
                  {label}
                  {sort.key === key ? (sort.desc ? " ▼" : " ▲") : ""}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.id} data-id={e.id} class={e.error ? "bad" : ""}>
              <td>
                {e.kind === "run" && (
                  <input
                    type="checkbox"
                    aria-label={`Select ${e.name}`}
                    checked={selected.includes(e.id)}
                    onChange={() => toggle(e.id)}
                  />
                )}
              </td>
              <th scope="row">
                <a href={`#/${e.kind}/${e.id}`}>{e.name}</a>
                {e.kind === "study" && <span class="tag"> study · {e.trials} trials</span>}
                {e.parent && <span class="tag"> trial</span>}
                <div class="dir">{e.dir}</div>
                {e.error && <div class="error">{e.error}</div>}
              </th>
              <td>{e.task ?? "—"}</td>
              <td>{e.model ?? "—"}</td>
              <td>
                <span class={`status ${e.status.replace(" ", "-")}`}>{e.status}</span>
              </td>
              <td>{e.best === null ? "—" : `${e.metric} ${fmt(e.best)}`}</td>
              <td>{duration(e.durationS)}</td>
              <td>{e.updated ? new Date(e.updated).toLocaleString() : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

/** Every scalar of a run as chart lines: training keys and evaluation metrics. */
function scalars(run: RunDetail): Map<string, { xs: number[]; ys: (number | null)[] }> {
  const out = new Map<string, { xs: number[]; ys: (number | null)[] }>();
  const add = (key: string, x: number, y: number | null) => {
    if (!out.has(key)) out.set(key, { xs: [], ys: [] });
    const s = out.get(key)!;
    s.xs.push(x);
    s.ys.push(y);
  };
  for (const r of run.train) {
    add("train loss", r.step, r.loss);
    if (r.lr !== null) add("learning rate", r.step, r.lr);
    if (r.gradNorm !== null) add("gradient norm", r.step, r.gradNorm);
    if (r.examplesPerS !== null) add("examples/s", r.step, r.examplesPerS);
  }
  for (const e of run.evals) for (const [k, v] of Object.entries(e.metrics)) add(`eval ${k}`, e.step, v);
  return out;
}

function flatten(o: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  if (o !== null && typeof o === "object" && !Array.isArray(o))
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = JSON.stringify(o);
  return out;
}

function ConfigDiff(props: { runs: { name: string; config: Record<string, unknown> | null }[] }) {
  const flat = props.runs.map((r) => flatten(r.config ?? {}));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differ = keys.filter((k) => new Set(flat.map((f) => f[k] ?? "—")).size > 1);
  if (!differ.length) return <p role="status">The configurations are the same.</p>;
  return (
    <table class="diff">
      <caption>Settings that differ ({differ.length})</caption>
      <thead>
        <tr>
          <th scope="col">Setting</th>
          {props.runs.map((r) => (
            <th scope="col" key={r.name}>
              {r.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {differ.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            {flat.map((f, i) => (
              <td key={i}>{f[k] ?? "—"}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Smoothing(props: { value: number; set: (v: number) => void }) {
  return (
    <label class="smoothing">
      Smoothing{" "}
      <input
        type="range"
        min="0"
        max="0.99"
        step="0.01"
        value={props.value}
        onInput={(e) => props.set(Number(e.currentTarget.value))}
      />{" "}
      <output>{props.value.toFixed(2)}</output>
    </label>
  );
}

/** BIO tags → entity spans [type, first, last]. */
function spans(tags: string[]): [string, number, number][] {
  const out: [string, number, number][] = [];
  tags.forEach((t, i) => {
    const [p, type] = t.includes("-") ? [t.slice(0, t.indexOf("-")), t.slice(t.indexOf("-") + 1)] : [t, ""];
    const last = out.at(-1);
    if (p === "I" && last && last[0] === type && last[2] === i - 1) last[2] = i;
    else if (p === "B" || p === "I" || p === "S" || p === "E") out.push([type, i, i]);
  });
  return out;
}

function Entities(props: { tokens: string[]; tags: string[]; label: string }) {
  const s = spans(props.tags);
  const parts: preact.JSX.Element[] = [];
  let i = 0;
  for (const [type, a, b] of s) {
    if (i < a) parts.push(<span key={`t${i}`}>{props.tokens.slice(i, a).join(" ")} </span>);
    parts.push(
      <mark key={`e${a}`} class={`ent ent-${type}`} title={type}>
        {props.tokens.slice(a, b + 1).join(" ")} <span class="ent-type">[{type}]</span>
      </mark>,
    );
    parts.push(<span key={`s${a}`}> </span>);
    i = b + 1;
  }
  if (i < props.tokens.length) parts.push(<span key={`t${i}`}>{props.tokens.slice(i).join(" ")}</span>);
  return (
    <div class="sentence">
      <span class="which">{props.label}:</span> {parts}
    </div>
  );
}

function Worst(props: { worst: RunDetail["worst"] }) {
  const w = props.worst;
  if (!w) return null;
  return (
    <section>
      <h2>Worst predictions</h2>
      <p>
        {w.wrong} of {w.total} {w.task === "ner" ? "sentences have a wrong tag" : "predictions are wrong"}; the first{" "}
        {w.rows.length} shown{w.task === "classification" ? ", the most confident mistakes first" : ", most errors first"}.
      </p>
      {w.task === "classification" ? (
        <table class="worst">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Text</th>
              <th scope="col">Gold</th>
              <th scope="col">Predicted</th>
              <th scope="col">Confidence</th>
            </tr>
          </thead>
          <tbody>
            {w.rows.map((r) => (
              <tr key={r.line}>
                <td>{r.line}</td>
                <td>{r.text ?? "—"}</td>
                <td>{r.label}</td>
                <td>{r.pred}</td>
                <td>{fmt(r.confidence, 3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <ol class="worst-ner">
          {w.rows.map((r) => (
            <li key={r.line}>
              <span class="meta">
                line {r.line}, {r.errors} wrong tags
              </span>
              <Entities tokens={r.tokens} tags={r.labels} label="gold" />
              <Entities tokens={r.tokens} tags={r.preds} label="predicted" />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function RunPage(props: { id: string }) {
  const { data: run, error } = useLive<RunDetail>(`/api/runs/${props.id}`, [props.id]);
  const all = useLive<{ entries: EntryRow[] }>("/api/entries", "entries").data;
  const [smoothing, setSmoothing] = useState(0);
  const [other, setOther] = useState("");
  const otherRun = useLive<RunDetail>(other ? `/api/runs/${other}` : "/api/entries", other ? [other] : []).data;
  const curves = useMemo(() => (run ? [...scalars(run)] : []), [run]);
  if (!run)
    return (
      <main>
        <Messages error={error ?? null} />
        {!error && <p>Loading…</p>}
      </main>
    );
  return (
    <main>
      <h1>
        {run.name} <span class={`status ${run.status.replace(" ", "-")}`}>{run.status}</span>
      </h1>
      <p class="dir">{run.dir}</p>
      <Messages error={error} notes={run.notes} missing={run.missing} />
      <dl class="cards">
        <div>
          <dt>Task</dt>
          <dd>{run.task ?? "—"}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{run.model ?? "—"}</dd>
        </div>
        <div>
          <dt>Steps</dt>
          <dd>{run.steps ?? "—"}</dd>
        </div>
        <div>
          <dt>Best {run.best?.metric ?? ""}</dt>
          <dd>{run.best ? `${fmt(run.best.value)} at step ${run.best.step}` : "—"}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(run.durationS)}</dd>
        </div>
      </dl>
      <section>
        <h2>Curves</h2>
        <Smoothing value={smoothing} set={setSmoothing} />
        <div class="charts">
          {curves.map(([name, s]) => (
            <Chart
              key={name}
              title={name}
              lines={[{ label: run.name, ...s }]}
              smoothing={name.startsWith("eval") ? 0 : smoothing}
              points={name.startsWith("eval")}
            />
          ))}
        </div>
      </section>
      {(run.test || run.evals.length > 0) && (
        <section>
          <h2>Evaluation</h2>
          <table class="metrics">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Last validation</th>
                <th scope="col">Best checkpoint</th>
                <th scope="col">Test</th>
              </tr>
            </thead>
            <tbody>
              {[
                ...new Set([
                  ...Object.keys(run.evals.at(-1)?.metrics ?? {}),
                  ...Object.keys(run.test ?? {}),
                ]),
              ].map((k) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{fmt(run.evals.at(-1)?.metrics[k])}</td>
                  <td>{fmt(run.best?.metrics[k])}</td>
                  <td>{fmt(run.test?.[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {run.sections.map((s) => (
        <section key={s.id} class="report-section">
          <h2>{s.title}</h2>
          {/* the report's own section: built by src/report from the run's files, every value escaped there */}
          <div dangerouslySetInnerHTML={{ __html: s.html }} />
        </section>
      ))}
      <Worst worst={run.worst} />
      <section>
        <h2>Configuration</h2>
        <label>
          Compare with{" "}
          <select value={other} onChange={(e) => setOther(e.currentTarget.value)}>
            <option value="">(no other run)</option>
            {(all?.entries ?? [])
              .filter((e) => e.kind === "run" && e.id !== run.id)
              .map((e) => (
                <option key={e.id} value={e.id}>
                  {e.name}
                </option>
              ))}
          </select>
        </label>
        {other && otherRun && "config" in otherRun ? (
          <ConfigDiff runs={[run, otherRun as RunDetail]} />
        ) : (
          <pre class="config">{JSON.stringify(run.config, null, 2)}</pre>
        )}
      </section>
    </main>
  );
}

function ComparePage(props: { ids: string[] }) {
  const runs = props.ids.map((id) => useLive<RunDetail>(`/api/runs/${id}`, [id]));
  const [smoothing, setSmoothing] = useState(0);
  const loaded = runs.map((r) => r.data).filter((r): r is RunDetail => r !== null);
  const charts = useMemo(() => {
    const byName = new Map<string, Line[]>();
    for (const run of loaded)
      for (const [name, s] of scalars(run)) {
        if (!byName.has(name)) byName.set(name, []);
        byName.get(name)!.push({ label: run.name, ...s });
      }
    return [...byName];
  }, [runs.map((r) => r.version).join()]);
  return (
    <main>
      <h1>Comparing {props.ids.length} runs</h1>
      {runs.map((r, i) => r.error && <Messages key={i} error={`${props.ids[i]}: ${r.error}`} />)}
      <ul class="legend">
        {loaded.map((r) => (
          <li key={r.id}>
            <a href={`#/run/${r.id}`}>{r.name}</a> — {r.status}, best {r.best ? `${r.best.metric} ${fmt(r.best.value)}` : "—"}
          </li>
        ))}
      </ul>
      <Smoothing value={smoothing} set={setSmoothing} />
      <div class="charts">
        {charts.map(([name, lines]) => (
          <Chart
            key={name}
            title={name}
            lines={lines}
            smoothing={name.startsWith("eval") ? 0 : smoothing}
            points={name.startsWith("eval")}
          />
        ))}
      </div>
      <h2>Configuration</h2>
      <ConfigDiff runs={loaded} />
    </main>
  );
}

/** Parallel coordinates: one vertical axis per parameter and the objective, one polyline per trial. */
function ParallelCoordinates(props: { trials: Trial[]; params: string[]; metric: string }) {
  const axes = [...props.params, props.metric];
  const W = Math.max(480, axes.length * 140),
    H = 280,
    pad = 40;
  const value = (t: Trial, a: string) => (a === props.metric ? t.value : t.params[a]);
  const scales = axes.map((a) => {
    const vs = props.trials.map((t) => value(t, a)).filter((v) => v !== null && v !== undefined);
    if (vs.every((v) => typeof v === "number")) {
      const nums = vs as number[];
      const lo = Math.min(...nums),
        hi = Math.max(...nums);
      const log = lo > 0 && hi / lo > 100;
      const f = (v: number) => (log ? Math.log10(v) : v);
      return {
        pos: (v: unknown) => (hi === lo ? 0.5 : (f(v as number) - f(lo)) / (f(hi) - f(lo))),
        ticks: [lo, hi].map((v) => fmt(v, 3)),
      };
    }
    const cats = [...new Set(vs.map(String))];
    return { pos: (v: unknown) => (cats.length < 2 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1)), ticks: [cats[0] ?? "", cats.at(-1) ?? ""] };
  });
  const x = (i: number) => pad + (i * (W - 2 * pad)) / Math.max(1, axes.length - 1);
  const y = (p: number) => H - pad - p * (H - 2 * pad);
  return (
    <svg class="parallel" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`Parallel coordinates of ${props.trials.length} trials over ${axes.join(", ")}`}>
      {props.trials.map((t) => {
        const pts = axes
          .map((a, i) => {
            const v = value(t, a);
            return v === null || v === undefined ? null : `${x(i)},${y(scales[i].pos(v))}`;
          })
          .filter(Boolean);
        return (
          <polyline
            key={t.number}
            points={pts.join(" ")}
            class={`trial ${t.state}`}
            stroke-dasharray={t.state === "complete" ? undefined : "4 3"}
          >
            <title>
              trial {t.number} ({t.state}): {fmt(t.value)}
            </title>
          </polyline>
        );
      })}
      {axes.map((a, i) => (
        <g key={a}>
          <line x1={x(i)} x2={x(i)} y1={pad} y2={H - pad} class="axis" />
          <text x={x(i)} y={pad - 14} text-anchor="middle">
            {a}
          </text>
          <text x={x(i) + 4} y={H - pad + 14} class="tick">
            {scales[i].ticks[0]}
          </text>
          <text x={x(i) + 4} y={pad + 4} class="tick">
            {scales[i].ticks[1]}
          </text>
        </g>
      ))}
    </svg>
  );
}

/**
 * PBT lineage: one lane per member, a bar per segment (its steps, labelled with its score), and a line from the
 * donor's lane where a member copied another's weights (exploit).
 */
function LineageChart(props: { lineage: Lineage }) {
  const segs = props.lineage.members.flatMap((m) => m.segments);
  const maxStep = Math.max(1, ...segs.map((s) => s.endStep));
  const lanes = props.lineage.members.map((m) => m.member);
  const W = 760,
    lane = 34,
    left = 80,
    H = lanes.length * lane + 40;
  const x = (step: number) => left + (step / maxStep) * (W - left - 20);
  const y = (member: number) => 20 + lanes.indexOf(member) * lane + lane / 2;
  return (
    <svg class="lineage" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`PBT lineage of ${lanes.length} members over ${maxStep} steps`}>
      {lanes.map((m) => (
        <text key={m} x={4} y={y(m) + 4}>
          member {m}
        </text>
      ))}
      {segs.map((s) => (
        <g key={s.trial}>
          {s.donor !== null && s.donor !== s.member && (
            <line class="exploit" x1={x(s.startStep)} y1={y(s.donor)} x2={x(s.startStep)} y2={y(s.member)} stroke-dasharray="3 2">
              <title>
                trial {s.trial}: member {s.member} took member {s.donor}'s weights at step {s.startStep}
              </title>
            </line>
          )}
          <rect class={`segment ${s.state}`} x={x(s.startStep)} y={y(s.member) - 9} width={Math.max(2, x(s.endStep) - x(s.startStep) - 2)} height={18}>
            <title>
              trial {s.trial}, generation {s.generation}, steps {s.startStep}–{s.endStep}: {fmt(s.score)} ({s.state})
            </title>
          </rect>
          <text class="score" x={x(s.startStep) + 3} y={y(s.member) + 4}>
            {fmt(s.score, 3)}
          </text>
        </g>
      ))}
      <text x={left} y={H - 6} class="tick">
        step 0
      </text>
      <text x={W - 20} y={H - 6} class="tick" text-anchor="end">
        step {maxStep}
      </text>
    </svg>
  );
}

function StudyPage(props: { id: string }) {
  const { data, error } = useLive<StudyDetail>(`/api/studies/${props.id}`, [props.id]);
  if (!data)
    return (
      <main>
        <Messages error={error ?? null} />
        {!error && <p>Loading…</p>}
      </main>
    );
  const s = data.study;
  const maximize = s.direction === "maximize";
  const done = s.trials.filter((t) => t.value !== null);
  let best: number | null = null;
  const history: Line[] = [
    { label: s.metric, xs: done.map((t) => t.number), ys: done.map((t) => t.value) },
    {
      label: "best so far",
      xs: done.map((t) => t.number),
      ys: done.map((t) => {
        if (t.state === "complete" && (best === null || (maximize ? t.value! > best : t.value! < best))) best = t.value;
        return best;
      }),
    },
  ];
  const pruned = s.trials.filter((t) => t.intermediate.length > 0).slice(0, 30);
  return (
    <main>
      <h1>
        Study {data.name} <span class={`status ${data.status}`}>{data.status}</span>
      </h1>
      <p class="dir">{data.dir}</p>
      <Messages error={error} notes={data.notes} />
      <p>
        {s.trials.length} trials ({["complete", "pruned", "failed", "running", "waiting"]
          .map((st) => `${s.trials.filter((t) => t.state === st).length} ${st}`)
          .join(", ")}); {s.direction} {s.metric}; best{" "}
        {s.best ? `${fmt(s.best.value)} (trial ${s.best.number})` : "—"}.
      </p>
      <div class="charts">
        <Chart title="Optimization history" lines={history} points xLabel="trial" />
        {pruned.length > 0 && (
          <Chart
            title="Intermediate values by trial"
            lines={pruned.map((t) => ({
              label: `trial ${t.number} (${t.state})`,
              xs: t.intermediate.map((p) => p[0]),
              ys: t.intermediate.map((p) => p[1]),
            }))}
          />
        )}
      </div>
      {data.importance && (
        <section>
          <h2>Hyperparameter importance</h2>
          <p>Permutation importance on a random-forest surrogate fitted to the complete trials.</p>
          <table class="importance">
            <tbody>
              {Object.entries(data.importance)
                .sort((a, b) => b[1] - a[1])
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>
                      <span class="bar" style={{ width: `${Math.round(v * 300)}px` }} /> {(v * 100).toFixed(1)}%
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      )}
      {data.lineage && (
        <section>
          <h2>Population-based training lineage</h2>
          <LineageChart lineage={data.lineage} />
        </section>
      )}
      {data.params.length > 0 && (
        <section>
          <h2>Parallel coordinates</h2>
          <ParallelCoordinates trials={s.trials} params={data.params} metric={s.metric} />
        </section>
      )}
      <section>
        <h2>Trials</h2>
        <table class="trials">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">State</th>
              <th scope="col">{s.metric}</th>
              {data.params.map((p) => (
                <th scope="col" key={p}>
                  {p}
                </th>
              ))}
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {s.trials.map((t) => (
              <tr key={t.number} class={t.state} data-trial={t.number}>
                <th scope="row">{t.runId ? <a href={`#/run/${t.runId}`}>{t.number}</a> : t.number}</th>
                <td>
                  {t.state}
                  {s.best?.number === t.number ? " (best)" : ""}
                  {t.error ? `: ${t.error}` : ""}
                </td>
                <td>{fmt(t.value)}</td>
                {data.params.map((p) => (
                  <td key={p}>{t.params[p] === undefined ? "—" : typeof t.params[p] === "number" ? fmt(t.params[p] as number) : String(t.params[p])}</td>
                ))}
                <td>{duration(t.durationS)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}

function ServedPage() {
  const { data, error } = useLive<{ servers: ServedState[] }>("/api/served", "served");
  return (
    <main>
      <h1>Served models</h1>
      <Messages error={error} />
      {data && !data.servers.length && (
        <p role="status">
          No servers given: start the dashboard with <code>--serve http://127.0.0.1:8080</code> to follow the drift of
          a <code>graft serve</code> that records samples (<code>--sample-log</code>).
        </p>
      )}
      {data?.servers.map((s) => (
        <section key={s.server}>
          <h2>{s.server}</h2>
          {s.error && (
            <p class="error" role="alert">
              {s.error}
            </p>
          )}
          {s.models.map((m) => {
            const r = m.latest;
            const t0 = m.history[0]?.at ?? 0;
            const xs = m.history.map((h) => (h.at - t0) / 60_000);
            const names = r ? r.features.map((f) => f.feature).slice(0, 8) : [];
            return (
              <article key={m.model} class="served-model">
                <h3>
                  {m.model}{" "}
                  {r ? (
                    <span class={`status ${r.status === "ok" ? "finished" : "failed"}`}>{r.status}</span>
                  ) : (
                    <span class="status">no reference</span>
                  )}
                </h3>
                {r && (
                  <>
                    <p>
                      {r.samples} served samples compared; {(r.driftedShare * 100).toFixed(0)}% of the tested features
                      drifted.
                    </p>
                    {r.reasons.length > 0 && (
                      <ul>
                        {r.reasons.map((x) => (
                          <li key={x}>{x}</li>
                        ))}
                      </ul>
                    )}
                    <table class="drift">
                      <thead>
                        <tr>
                          <th scope="col">Feature</th>
                          <th scope="col">Test</th>
                          <th scope="col">Statistic</th>
                          <th scope="col">p-value</th>
                          <th scope="col">Threshold</th>
                          <th scope="col">Drift</th>
                        </tr>
                      </thead>
                      <tbody>
                        {r.features.map((f) => (
                          <tr key={f.feature} class={f.drift ? "bad" : ""}>
                            <th scope="row">{f.feature}</th>
                            <td>{f.test}</td>
                            <td>{fmt(f.statistic)}</td>
                            <td>{fmt(f.pValue)}</td>
                            <td>{fmt(f.threshold)}</td>
                            <td>{f.drift ? "drifted" : "no"}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                    <div class="charts">
                      <Chart
                        title={`${m.model}: share of features drifted`}
                        xLabel="minutes since the dashboard started"
                        points
                        lines={[{ label: "drifted share", xs, ys: m.history.map((h) => h.driftedShare) }]}
                      />
                      <Chart
                        title={`${m.model}: test statistic by feature`}
                        xLabel="minutes since the dashboard started"
                        points
                        lines={names.map((n) => ({
                          label: n,
                          xs,
                          ys: m.history.map((h) => h.features[n]?.statistic ?? null),
                        }))}
                      />
                    </div>
                  </>
                )}
              </article>
            );
          })}
        </section>
      ))}
    </main>
  );
}

function App() {
  const route = useRoute();
  const [view, arg] = route;
  return (
    <>
      <header>
        <nav aria-label="Main">
          <a href="#/" class="brand">
            graft dashboard
          </a>
          <a href="#/">Runs</a>
          <a href="#/served">Served models</a>
        </nav>
      </header>
      {view === "run" && arg ? (
        <RunPage id={arg} key={arg} />
      ) : view === "study" && arg ? (
        <StudyPage id={arg} key={arg} />
      ) : view === "served" ? (
        <ServedPage />
      ) : view === "compare" && arg ? (
        <ComparePage ids={arg.split(",")} key={arg} />
      ) : (
        <RunsPage />
      )}
    </>
  );
}

render(<App />, document.getElementById("app")!);
