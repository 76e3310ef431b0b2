/**
 * A line chart (uPlot) of one scalar for one or several runs, x = step. Runs are told apart by dash pattern and
 * legend name as well as colour. `smoothing` is TensorBoard's exponential moving average (0 = raw), debiased at the
 * start. The wrapper carries data-series and data-points (points per series) for tests and screen readers.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface Line {
  label: string;
  xs: number[];
  ys: (number | null)[];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const DASHES: number[][] = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 2]];

/** An axis label short enough for the axis: 3 significant digits, exponents for tiny or huge values. */
const tick = (v: number): string =>
  v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(1) : String(+v.toPrecision(3));

export function smooth(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  let last = 0,
    n = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return null;
    last = last * weight + (1 - weight) * y;
    n++;
    return last / (1 - weight ** n);
  });
}

export function Chart(props: {
  title: string;
  lines: Line[];
  smoothing?: number;
  points?: boolean;
  logY?: boolean;
  xLabel?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const { title, lines, smoothing = 0 } = props;
  useEffect(() => {
    const el = host.current;
    if (!el || !lines.length) return;
    const aligned = uPlot.join(
      lines.map((l) => [l.xs, smooth(l.ys, smoothing)] as uPlot.AlignedData),
    ) as uPlot.AlignedData;
    const opts: uPlot.Options = {
      title,
      width: Math.max(320, Math.min(el.clientWidth || 560, 720)),
      height: 240,
      scales: { x: { time: false }, ...(props.logY ? { y: { distr: 3 } } : {}) },
      axes: [{ label: props.xLabel ?? "step" }, { size: 60, values: (_u, vals) => vals.map((v) => tick(v)) }],
      series: [
        { label: props.xLabel ?? "step" },
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: COLORS[i % COLORS.length],
          dash: DASHES[i % DASHES.length],
          width: 2,
          spanGaps: true,
          ...(props.points ? { points: { show: true, size: 6 } } : {}),
        })),
      ],
    };
    const plot = new uPlot(opts, aligned, el);
    return () => plot.destroy();
  }, [title, lines, smoothing, props.points, props.logY, props.xLabel]);
  const counts = lines.map((l) => l.ys.filter((y) => y !== null && Number.isFinite(y)).length);
  return (
    <figure class="chart" data-series={lines.length} data-points={counts.join(",")}>
      <div ref={host} role="img" aria-label={`${title}: ${lines.map((l, i) => `${l.label} (${counts[i]} points)`).join(", ")}`} />
    </figure>
  );
}
