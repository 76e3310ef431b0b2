/**
 * An event-file reader for the tests, written from the TFRecord framing and the `Event` / `Summary` protobuf specs
 * (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto), independently of graft's writer: its
 * own bitwise CRC-32C, its own protobuf decoder. Every frame's two checksums are checked.
 */

/** Bitwise CRC-32C (no table: a different implementation from src/util/crc32c.ts). */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

type Field = { no: number; wire: number; varint?: bigint; bytes?: Uint8Array; f64?: number; f32?: number };

/** The fields of one protobuf message, in order. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  const varint = (): bigint => {
    let v = 0n,
      shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("protobuf: truncated varint");
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3,
      wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 1) {
      out.push({ no, wire, f64: dv.getFloat64(i, true) });
      i += 8;
    } else if (wire === 5) {
      out.push({ no, wire, f32: dv.getFloat32(i, true) });
      i += 4;
    } else if (wire === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw new Error("protobuf: truncated length-delimited field");
      out.push({ no, wire, bytes: buf.subarray(i, i + n) });
      i += n;
    } else throw new Error(`protobuf: wire type ${wire} is not used by Event`);
  }
  return out;
}

export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: {
    min: number;
    max: number;
    num: number;
    sum: number;
    sumSquares: number;
    limits: number[];
    counts: number[];
  };
  text?: string;
  pluginName?: string;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: SummaryValue[];
}

const dec = new TextDecoder();
const doubles = (b: Uint8Array) => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 8 }, (_, k) => dv.getFloat64(8 * k, true));
};

function summaryValue(b: Uint8Array): SummaryValue {
  const v: SummaryValue = { tag: "" };
  for (const f of fields(b)) {
    if (f.no === 1) v.tag = dec.decode(f.bytes);
    else if (f.no === 2) v.simpleValue = f.f32;
    else if (f.no === 5) {
      const h = { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, limits: [] as number[], counts: [] as number[] };
      for (const g of fields(f.bytes!)) {
        if (g.no === 1) h.min = g.f64!;
        else if (g.no === 2) h.max = g.f64!;
        else if (g.no === 3) h.num = g.f64!;
        else if (g.no === 4) h.sum = g.f64!;
        else if (g.no === 5) h.sumSquares = g.f64!;
        else if (g.no === 6) h.limits = doubles(g.bytes!);
        else if (g.no === 7) h.counts = doubles(g.bytes!);
      }
      v.histo = h;
    } else if (f.no === 8) {
      const t = fields(f.bytes!);
      if (Number(t.find((g) => g.no === 1)?.varint) !== 7) throw new Error("text tensor: dtype is not DT_STRING");
      v.text = dec.decode(t.find((g) => g.no === 8)?.bytes);
    } else if (f.no === 9) {
      const plugin = fields(f.bytes!).find((g) => g.no === 1);
      const name = plugin && fields(plugin.bytes!).find((g) => g.no === 1);
      if (name) v.pluginName = dec.decode(name.bytes);
    }
  }
  return v;
}

/** Every event of a file; a frame with a bad length or data checksum throws, naming the frame. */
export function readEvents(file: Uint8Array): DecodedEvent[] {
  const events: DecodedEvent[] = [];
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let i = 0,
    frame = 0;
  while (i < file.length) {
    if (i + 12 > file.length) throw new Error(`frame ${frame}: truncated header`);
    const len = Number(dv.getBigUint64(i, true));
    if (dv.getUint32(i + 8, true) !== masked(file.subarray(i, i + 8)))
      throw new Error(`frame ${frame}: bad length CRC`);
    const data = file.subarray(i + 12, i + 12 + len);
    if (i + 16 + len > file.length) throw new Error(`frame ${frame}: truncated data`);
    if (dv.getUint32(i + 12 + len, true) !== masked(data)) throw new Error(`frame ${frame}: bad data CRC`);
    const e: DecodedEvent = { wallTime: 0, step: 0, values: [] };
    for (const f of fields(data)) {
      if (f.no === 1) e.wallTime = f.f64!;
      else if (f.no === 2) e.step = Number(f.varint);
      else if (f.no === 3) e.fileVersion = dec.decode(f.bytes);
      else if (f.no === 5) for (const g of fields(f.bytes!)) if (g.no === 1) e.values.push(summaryValue(g.bytes!));
    }
    events.push(e);
    i += 16 + len;
    frame++;
  }
  return events;
}
