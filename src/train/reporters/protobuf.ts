/**
 * The few protocol-buffer wire-format pieces TensorBoard's `Event` messages need (varints, 64-bit doubles, 32-bit
 * floats, length-delimited fields, packed doubles), as a small writer. Field numbers are the callers'; see
 * tensorboard.ts for the message layouts.
 */

/** Wire types of the protobuf encoding. */
const VARINT = 0,
  FIXED64 = 1,
  LEN = 2,
  FIXED32 = 5;

const utf8 = new TextEncoder();

/** Builds one message; nested messages are built with their own writer and added with `message()`. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A non-negative integer (up to 2^53) as a varint. */
  private varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`protobuf varint: ${v} is not a non-negative integer`);
    const out: number[] = [];
    let n = v;
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    this.push(Uint8Array.from(out));
  }

  /** An int64 / int32 / enum field (non-negative values only: graft writes steps, sizes and enum codes). */
  int(field: number, v: number): this {
    this.key(field, VARINT);
    this.varint(v);
    return this;
  }

  double(field: number, v: number): this {
    this.key(field, FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.push(b);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, LEN);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** A packed repeated double field. */
  packedDoubles(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(8 * vs.length);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat64(8 * i, vs[i], true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
