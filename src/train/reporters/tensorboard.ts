/**
 * `--report-to tensorboard`: TensorBoard event files written as the run goes, so `tensorboard --logdir runs/` shows
 * graft's runs. A file is a sequence of TFRecord frames, each holding one `Event` protobuf:
 *
 *   frame  = uint64 length (LE) · uint32 masked CRC-32C of the 8 length bytes · data · uint32 masked CRC-32C of data
 *   Event  = { 1: double wall_time, 2: int64 step, 3: string file_version | 5: Summary summary }
 *   Summary.Value = { 1: string tag, 2: float simple_value | 5: HistogramProto histo | 8: TensorProto tensor,
 *                     9: SummaryMetadata metadata }
 *   HistogramProto = { 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (doubles), 6 bucket_limit, 7 bucket (packed) }
 *   TensorProto (text) = { 1: dtype DT_STRING (7), 2: shape [1], 8: bytes string_val }, metadata plugin "text"
 *
 * The first event names the format version ("brain.Event:2"). Training records become `train/<key>` scalars,
 * evaluations `eval/<metric>`, the run's resolved configuration one text summary, and optionally each parameter
 * a histogram at every evaluation. A resumed run opens a new file; TensorBoard merges the files of a directory.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Module } from "../../nn/index.js";
import { maskedCrc32c } from "../../util/crc32c.js";
import { ProtoWriter } from "./protobuf.js";
import type { Reporter, ReporterContext, TrainerView } from "./types.js";

/** TensorFlow's DataType code for strings. */
const DT_STRING = 7;
/** Equal-width buckets of a weight histogram. */
const HISTOGRAM_BUCKETS = 30;

/** One TFRecord frame around `data`. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** An Event with its wall time (seconds) and step around a summary or the file version. */
function event(step: number, wallTime: number, body: { version: string } | { summary: ProtoWriter }): Uint8Array {
  const w = new ProtoWriter().double(1, wallTime).int(2, step);
  if ("version" in body) w.string(3, body.version);
  else w.message(5, body.summary);
  return w.finish();
}

/** A Summary holding scalar values. */
function scalars(values: [string, number][]): ProtoWriter {
  const s = new ProtoWriter();
  for (const [tag, v] of values) s.message(1, new ProtoWriter().string(1, tag).float(2, v));
  return s;
}

/** A Summary holding one text value (rendered as markdown by TensorBoard's text plugin). */
function text(tag: string, body: string): ProtoWriter {
  const tensor = new ProtoWriter()
    .int(1, DT_STRING)
    .message(2, new ProtoWriter().message(2, new ProtoWriter().int(1, 1)))
    .string(8, body);
  const metadata = new ProtoWriter().message(1, new ProtoWriter().string(1, "text"));
  return new ProtoWriter().message(1, new ProtoWriter().string(1, tag).message(9, metadata).message(8, tensor));
}

/** Equal-width histogram of values, in TensorFlow's form: bucket i counts (limit[i-1], limit[i]]. */
export function histogram(values: ArrayLike<number>): {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  limits: number[];
  counts: number[];
} {
  let min = Number.POSITIVE_INFINITY,
    max = Number.NEGATIVE_INFINITY,
    sum = 0,
    sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  if (values.length === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, limits: [], counts: [] };
  const buckets = max > min ? HISTOGRAM_BUCKETS : 1;
  const width = (max - min) / buckets;
  const limits = Array.from({ length: buckets }, (_, i) => (i === buckets - 1 ? max : min + width * (i + 1)));
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = width > 0 ? Math.min(buckets - 1, Math.max(0, Math.ceil((values[i] - min) / width) - 1)) : 0;
    counts[b]++;
  }
  return { min, max, num: values.length, sum, sumSquares, limits, counts };
}

function histogramSummary(tag: string, values: ArrayLike<number>): ProtoWriter {
  const h = histogram(values);
  const histo = new ProtoWriter()
    .double(1, h.min)
    .double(2, h.max)
    .double(3, h.num)
    .double(4, h.sum)
    .double(5, h.sumSquares)
    .packedDoubles(6, h.limits)
    .packedDoubles(7, h.counts);
  return new ProtoWriter().message(1, new ProtoWriter().string(1, tag).message(5, histo));
}

/** Appends events to one `events.out.tfevents.*` file, each frame written whole (a crash loses at most the last). */
export class EventFileWriter {
  readonly path: string;
  private fd: number | null;

  constructor(dir: string, now = Date.now()) {
    this.path = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}.graft`);
    this.fd = openSync(this.path, "a");
    this.write(event(0, now / 1000, { version: "brain.Event:2" }));
  }

  private write(e: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: the event file is closed`);
    writeSync(this.fd, tfRecord(e));
  }

  scalars(step: number, values: [string, number][], wallTime = Date.now() / 1000): void {
    const finite = values.filter(([, v]) => Number.isFinite(v));
    if (finite.length) this.write(event(step, wallTime, { summary: scalars(finite) }));
  }

  text(step: number, tag: string, body: string, wallTime = Date.now() / 1000): void {
    this.write(event(step, wallTime, { summary: text(tag, body) }));
  }

  histogram(step: number, tag: string, values: ArrayLike<number>, wallTime = Date.now() / 1000): void {
    this.write(event(step, wallTime, { summary: histogramSummary(tag, values) }));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The numeric entries of a training log record, as `train/<key>` scalars (the step is the event's own). */
function trainScalars(record: Record<string, number | string>): [string, number][] {
  return Object.entries(record)
    .filter((e): e is [string, number] => e[0] !== "step" && typeof e[1] === "number")
    .map(([k, v]) => [`train/${k}`, v]);
}

/** The TensorBoard reporter of one training run (see the file comment for what it writes). */
export class TensorBoardReporter implements Reporter {
  readonly name = "tensorboard";
  private writer: EventFileWriter | null = null;

  constructor(private readonly ctx: ReporterContext) {}

  onTrainBegin(t: TrainerView): void {
    this.writer = new EventFileWriter(this.ctx.runDir);
    this.writer.text(t.globalStep, "config", `\`\`\`json\n${JSON.stringify(this.ctx.config, null, 2)}\n\`\`\``);
  }

  onLog(_t: TrainerView, record: Record<string, number | string>): void {
    this.writer?.scalars(Number(record.step), trainScalars(record));
  }

  onEvaluate(t: TrainerView, metrics: Record<string, number>): void {
    if (!this.writer) return;
    this.writer.scalars(
      t.globalStep,
      Object.entries(metrics).map(([k, v]) => [`eval/${k}`, v]),
    );
    if (this.ctx.histograms) writeHistograms(this.writer, t.globalStep, t.model);
  }

  async close(_status: string): Promise<void> {
    this.writer?.close();
    this.writer = null;
  }
}

function writeHistograms(w: EventFileWriter, step: number, model: Module): void {
  for (const [name, p] of model.namedParameters()) w.histogram(step, `weights/${name}`, p.toArray() as number[]);
}
