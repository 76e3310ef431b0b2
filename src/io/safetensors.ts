/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 *   { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { key: value } }
 * then the data buffer, offsets relative to its start. Reading validates the header the way the reference
 * implementation does (header length bounds, known dtypes, shape × dtype size = byte span, spans that tile the
 * buffer exactly with no gap or overlap, buffer size = file size − 8 − N) before touching any tensor data, so a
 * corrupt or truncated file is refused with a reason and never read past its end.
 * Each tensor is read into its own fresh, aligned buffer, whatever its offset in the file.
 */
import { writeStreamAtomic } from "../util/atomic.js";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { FormatError, ArgumentError, fmtShape } from "../util/errors.js";
import { Tensor } from "../tensor/index.js";
import {
  DTYPE_BYTES,
  isSafeDType,
  isFloatDType,
  type SafeDType,
  f16ToF32,
  f8e4m3ToF32,
  f8e5m2ToF32,
  f32ToF16,
  f32ToBf16,
} from "./dtypes.js";

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  /** Byte span [begin, end) relative to the start of the data buffer. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Tensors in file order (sorted by offset). */
  readonly tensors: readonly TensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte position of the data buffer in the file (8 + N). */
  readonly dataStart: number;
}

/** Random access to bytes that refuses any read outside [0, size). */
interface ByteSource {
  readonly size: number;
  read(position: number, into: Uint8Array): void;
}

const HOST_LE = endianness() === "LE";

function fail(where: string, what: string, hint?: string): never {
  throw new FormatError(`${where}: ${what}`, hint);
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(position, into) {
      if (position < 0 || position + into.length > bytes.length)
        throw new RangeError(`read [${position}, ${position + into.length}) outside ${bytes.length} bytes`);
      into.set(bytes.subarray(position, position + into.length));
    },
  };
}

function fileSource(fd: number, size: number, where: string): ByteSource {
  return {
    size,
    read(position, into) {
      if (position < 0 || position + into.length > size)
        throw new RangeError(`read [${position}, ${position + into.length}) outside ${size} bytes`);
      let done = 0;
      while (done < into.length) {
        const n = readSync(fd, into, done, into.length - done, position + done);
        if (n === 0)
          fail(
            where,
            `file ended at byte ${position + done} while reading ${into.length} bytes at ${position} (was it truncated while being read?)`,
          );
        done += n;
      }
    },
  };
}

// ---- header

function parseHeader(src: ByteSource, where: string): SafetensorsHeader {
  if (src.size < 8)
    fail(
      where,
      `file is ${src.size} bytes, shorter than the 8-byte header length`,
      "the file is truncated or not a safetensors file",
    );
  const lenBytes = new Uint8Array(8);
  src.read(0, lenBytes);
  const view = new DataView(lenBytes.buffer);
  const hi = view.getUint32(4, true);
  const lo = view.getUint32(0, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    fail(
      where,
      `header length ${hi * 4294967296 + lo} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
      "the file is not a safetensors file, or its first 8 bytes are corrupt",
    );
  }
  const n = lo;
  if (n < 2) fail(where, `header length ${n} is too small to hold a JSON object`);
  if (8 + n > src.size)
    fail(where, `header length ${n} runs past the end of the ${src.size}-byte file`, "the file is truncated");
  const headerBytes = new Uint8Array(n);
  src.read(8, headerBytes);
  if (headerBytes[0] !== 0x7b)
    fail(where, `header does not start with '{' (byte 8 is 0x${headerBytes[0]!.toString(16).padStart(2, "0")})`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    fail(where, "header is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(where, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail(where, "header JSON is not an object");

  const dataStart = 8 + n;
  const bufferSize = src.size - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(entry, where);
      continue;
    }
    tensors.push(parseEntry(name, entry, where));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The spans must tile [0, bufferSize): each starts where the previous ended.
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin !== cursor) {
      const prev = tensors[tensors.indexOf(t) - 1];
      if (t.begin < cursor)
        fail(
          where,
          `tensor "${t.name}" bytes [${t.begin}, ${t.end}) overlap tensor "${prev!.name}" [${prev!.begin}, ${prev!.end})`,
        );
      fail(
        where,
        `gap in the data buffer: bytes [${cursor}, ${t.begin}) before tensor "${t.name}" belong to no tensor`,
      );
    }
    if (t.end > bufferSize) {
      fail(
        where,
        `tensor "${t.name}" bytes [${t.begin}, ${t.end}) run past the end of the ${bufferSize}-byte data buffer (file is ${src.size} bytes)`,
        "the file is truncated",
      );
    }
    cursor = t.end;
  }
  if (cursor !== bufferSize) {
    fail(
      where,
      `the tensors cover ${cursor} bytes but the data buffer holds ${bufferSize}`,
      cursor < bufferSize ? "the file has trailing bytes after the last tensor" : "the file is truncated",
    );
  }
  return { tensors, metadata, dataStart };
}

function parseMetadata(entry: unknown, where: string): Record<string, string> {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry))
    fail(where, `"__metadata__" must be an object of strings`);
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== "string") fail(where, `"__metadata__"."${k}" must be a string, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, entry: unknown, where: string): TensorInfo {
  const at = `tensor "${name}"`;
  if (entry === null || typeof entry !== "object" || Array.isArray(entry))
    fail(where, `${at}: entry must be an object { dtype, shape, data_offsets }`);
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e))
    if (k !== "dtype" && k !== "shape" && k !== "data_offsets") fail(where, `${at}: unknown field "${k}"`);
  if (!isSafeDType(e.dtype))
    fail(
      where,
      `${at}: unknown dtype ${JSON.stringify(e.dtype)}`,
      `known dtypes: ${Object.keys(DTYPE_BYTES).join(", ")}`,
    );
  const dtype = e.dtype;
  if (!Array.isArray(e.shape)) fail(where, `${at}: shape must be an array of non-negative integers`);
  let elements = 1;
  for (const d of e.shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0)
      fail(where, `${at}: shape ${JSON.stringify(e.shape)} has a dimension that is not a non-negative integer`);
    elements *= d as number;
    if (!Number.isSafeInteger(elements)) fail(where, `${at}: shape ${JSON.stringify(e.shape)} has too many elements`);
  }
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    fail(where, `${at}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(off)}`);
  }
  const [begin, end] = off as [number, number];
  if (end < begin) fail(where, `${at}: data_offsets [${begin}, ${end}] end before they begin`);
  const expected = elements * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    fail(
      where,
      `${at}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${fmtShape(e.shape as number[])} of ${dtype} needs ${expected}`,
    );
  }
  return { name, dtype, shape: Object.freeze([...(e.shape as number[])]), begin, end };
}

// ---- decoding

/** How tensors are read. */
export interface ReadOptions {
  /**
   * Refuse a floating tensor holding NaN or ±Infinity, naming it with the count and the first bad index (default
   * false: a file reader returns what the file holds; model loaders turn it on, see models/pretrained.ts).
   */
  checkFinite?: boolean;
}

/** How many values of `a` are NaN or ±Infinity, and the index of the first (-1 if none). */
export function countNonFinite(a: Float32Array): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // v - v is 0 for every finite value and NaN for NaN and ±Infinity
    if (v - v !== 0) {
      if (count === 0) first = i;
      count++;
    }
  }
  return { count, first };
}

function checkedFinite(info: TensorInfo, values: Float32Array, where: string): Float32Array {
  const { count, first } = countNonFinite(values);
  if (count > 0)
    fail(
      where,
      `tensor "${info.name}" (${info.dtype}${fmtShape(info.shape as number[])}) holds ${count} non-finite value(s) (NaN or Infinity), the first at flat index ${first} (${values[first]})`,
      "the checkpoint is poisoned (did its training diverge?); pass --allow-nonfinite (allowNonFinite: true) to load it anyway for inspection",
    );
  return values;
}

function decode(info: TensorInfo, raw: Uint8Array, where: string, opts: ReadOptions = {}): Tensor {
  const values = decodeValues(info, raw, where);
  if (opts.checkFinite && values instanceof Float32Array) checkedFinite(info, values, where);
  return new Tensor(values, [...info.shape]);
}

/** The values of one tensor: floating types as f32, integer types as i32. */
function decodeValues(info: TensorInfo, raw: Uint8Array, where: string): Float32Array | Int32Array {
  const n = (info.end - info.begin) / DTYPE_BYTES[info.dtype];
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (info.dtype) {
    case "F32":
      // raw is a fresh, 4-aligned buffer: on a little-endian host it is the tensor
      return HOST_LE
        ? new Float32Array(raw.buffer, raw.byteOffset, n)
        : map(n, Float32Array, (i) => dv.getFloat32(4 * i, true));
    case "F64":
      return map(n, Float32Array, (i) => dv.getFloat64(8 * i, true));
    case "F16":
      return map(n, Float32Array, (i) => f16ToF32(dv.getUint16(2 * i, true)));
    case "BF16": {
      // bf16 is the high half of an f32: widen by shifting the bits
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case "F8_E4M3":
      return map(n, Float32Array, (i) => f8e4m3ToF32(raw[i]!));
    case "F8_E5M2":
      return map(n, Float32Array, (i) => f8e5m2ToF32(raw[i]!));
    case "I32":
      return HOST_LE
        ? new Int32Array(raw.buffer, raw.byteOffset, n)
        : map(n, Int32Array, (i) => dv.getInt32(4 * i, true));
    case "I64":
    case "U64":
    case "U32": {
      const out = new Int32Array(n);
      const signed = info.dtype === "I64";
      for (let i = 0; i < n; i++) {
        const v =
          info.dtype === "U32"
            ? dv.getUint32(4 * i, true)
            : signed
              ? dv.getBigInt64(8 * i, true)
              : dv.getBigUint64(8 * i, true);
        if (v > 2147483647 || v < -2147483648) {
          fail(
            where,
            `tensor "${info.name}" (${info.dtype}) element ${i} = ${v} does not fit graft's 32-bit integer tensors`,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
    case "I16":
      return map(n, Int32Array, (i) => dv.getInt16(2 * i, true));
    case "U16":
      return map(n, Int32Array, (i) => dv.getUint16(2 * i, true));
    case "I8":
      return map(n, Int32Array, (i) => dv.getInt8(i));
    case "U8":
      return Int32Array.from(raw);
    case "BOOL":
      for (let i = 0; i < n; i++)
        if (raw[i]! > 1) fail(where, `tensor "${info.name}" (BOOL) element ${i} is ${raw[i]}, not 0 or 1`);
      return Int32Array.from(raw);
  }
}

function map<A extends Float32Array | Int32Array>(n: number, ctor: new (n: number) => A, f: (i: number) => number): A {
  const out = new ctor(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

// ---- reading API

/** An open safetensors file: the validated header, and tensors decoded on demand. Close it when done. */
export class SafetensorsFile {
  readonly path: string;
  readonly header: SafetensorsHeader;
  private fd: number | null;
  private closed = false;
  private readonly src: ByteSource;
  private readonly byName: Map<string, TensorInfo>;

  private constructor(path: string, fd: number | null, src: ByteSource) {
    this.path = path;
    this.fd = fd;
    this.src = src;
    try {
      this.header = parseHeader(src, path);
    } catch (e) {
      this.close();
      throw e;
    }
    this.byName = new Map(this.header.tensors.map((t) => [t.name, t]));
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new FormatError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new SafetensorsFile(path, fd, fileSource(fd, size, path));
  }

  /** Parses bytes already in memory (`where` names them in errors). */
  static fromBytes(bytes: Uint8Array, where = "<bytes>"): SafetensorsFile {
    return new SafetensorsFile(where, null, bufferSource(bytes));
  }

  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  info(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  /** Reads and decodes one tensor (floats as f32, integers as i32). */
  get(name: string, opts: ReadOptions = {}): Tensor {
    const info = this.byName.get(name);
    if (!info)
      throw new ArgumentError(
        `${this.path}: no tensor named "${name}"`,
        `it holds ${this.byName.size} tensors, e.g. ${this.names
          .slice(0, 3)
          .map((s) => `"${s}"`)
          .join(", ")}`,
      );
    if (this.closed) throw new ArgumentError(`${this.path}: file is closed`);
    const raw = new Uint8Array(info.end - info.begin);
    this.src.read(this.header.dataStart + info.begin, raw);
    return decode(info, raw, this.path, opts);
  }

  /** Every tensor, in file order. */
  all(opts: ReadOptions = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const t of this.header.tensors) out.set(t.name, this.get(t.name, opts));
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Loads every tensor of a safetensors file: floating types as f32, integer types as i32. */
export function loadSafetensors(path: string, opts: ReadOptions = {}): Map<string, Tensor> {
  const f = SafetensorsFile.open(path);
  try {
    return f.all(opts);
  } finally {
    f.close();
  }
}

/** Reads only the validated header (names, dtypes, shapes, metadata) of a safetensors file. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const f = SafetensorsFile.open(path);
  f.close();
  return f.header;
}

/** Parses a complete safetensors file held in memory. */
export function parseSafetensors(
  bytes: Uint8Array,
  where = "<bytes>",
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const f = SafetensorsFile.fromBytes(bytes, where);
  return { tensors: f.all(), metadata: { ...f.metadata } };
}

// ---- writing

export interface SaveOptions {
  /** `__metadata__` entries. `format: "pt"` is added unless given: transformers refuses files without it. */
  metadata?: Record<string, string>;
  /** Storage type for f32 tensors (default F32; F16/BF16 round to nearest even). */
  floatDType?: "F32" | "F16" | "BF16";
  /** Storage type for i32 tensors (default I64, PyTorch's integer type for index buffers). */
  intDType?: "I64" | "I32";
  /** Per-tensor storage type, overriding the two above. */
  dtypes?: Record<string, SafeDType>;
}

export type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

export function entriesOf(tensors: TensorMap): [string, Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

interface Planned {
  name: string;
  tensor: Tensor;
  dtype: SafeDType;
  bytes: number;
}

function plan(tensors: TensorMap, opts: SaveOptions): Planned[] {
  const out: Planned[] = [];
  const seen = new Set<string>();
  for (const [name, tensor] of entriesOf(tensors)) {
    if (name === "__metadata__")
      throw new ArgumentError(`saveSafetensors: "__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new ArgumentError(`saveSafetensors: tensor "${name}" given twice`);
    seen.add(name);
    if (!(tensor instanceof Tensor)) throw new ArgumentError(`saveSafetensors: "${name}" is not a Tensor`);
    const float = isFloatTensor(tensor);
    const dtype = fileDType(name, tensor, opts);
    if (!isSafeDType(dtype)) throw new ArgumentError(`saveSafetensors: unknown dtype "${dtype}" for "${name}"`);
    if (isFloatDType(dtype) !== float) {
      throw new ArgumentError(`saveSafetensors: cannot store ${tensor.dtype} tensor "${name}" as ${dtype}`);
    }
    if (!["F32", "F16", "BF16", "I64", "I32", "I8"].includes(dtype))
      throw new ArgumentError(
        `saveSafetensors: writing ${dtype} is not supported ("${name}"); use F32, F16, BF16, I64, I32 or I8`,
      );
    out.push({ name, tensor, dtype, bytes: tensor.size * DTYPE_BYTES[dtype] });
  }
  // Widest dtypes first, then by name, as the reference writer orders them: every tensor stays naturally aligned.
  out.sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function headerBytes(planned: Planned[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const p of planned) {
    header[p.name] = { dtype: p.dtype, shape: [...p.tensor.shape], data_offsets: [offset, offset + p.bytes] };
    offset += p.bytes;
  }
  let json = JSON.stringify(header);
  const len = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - ((8 + len) % 8)) % 8); // pad so the data buffer starts 8-aligned
  const body = Buffer.from(json, "utf8");
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

const isFloatTensor = (t: Tensor): boolean => t.dtype === "f32" || t.dtype === "bf16" || t.dtype === "f16";

/** The dtype a tensor is stored as in the file: as asked for it, else its own float type, else I64 for indices. */
export function fileDType(name: string, tensor: Tensor, opts: SaveOptions): SafeDType {
  const own = tensor.dtype === "bf16" ? "BF16" : tensor.dtype === "f16" ? "F16" : "F32";
  if (opts.dtypes?.[name] === undefined && tensor.dtype === "i8") return "I8";
  return opts.dtypes?.[name] ?? (isFloatTensor(tensor) ? (opts.floatDType ?? own) : (opts.intDType ?? "I64"));
}

/** Little-endian bytes of one tensor in its file dtype (from one host copy of its values). */
function encode(p: Planned): Uint8Array {
  // the host copy a writer needs (f32 values of a float tensor, exact for bf16/f16; integers as i32)
  const d = isFloatTensor(p.tensor) ? p.tensor.toFloat32Array() : Int32Array.from(p.tensor.toArray());
  const n = d.length;
  if (HOST_LE && (p.dtype === "F32" || p.dtype === "I32")) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(p.bytes);
  const dv = new DataView(out.buffer);
  switch (p.dtype) {
    case "F32":
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, d[i]!, true);
      break;
    case "I32":
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, d[i]!, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, f32ToF16(d[i]!), true);
      break;
    case "BF16":
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, f32ToBf16(d[i]!), true);
      break;
    case "I64":
      for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, BigInt(d[i]!), true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) {
        if (d[i]! < -128 || d[i]! > 127)
          throw new ArgumentError(`saveSafetensors: "${p.name}" element ${i} = ${d[i]} does not fit I8`);
        dv.setInt8(i, d[i]!);
      }
      break;
    default:
      throw new ArgumentError(`saveSafetensors: writing ${p.dtype} is not supported`);
  }
  return out;
}

function withFormat(metadata: Record<string, string> | undefined): Record<string, string> {
  const m = { format: "pt", ...(metadata ?? {}) };
  for (const [k, v] of Object.entries(m))
    if (typeof v !== "string") throw new ArgumentError(`saveSafetensors: metadata "${k}" must be a string`);
  return m;
}

/** The complete file as bytes in memory. */
export function serializeSafetensors(tensors: TensorMap, opts: SaveOptions = {}): Uint8Array {
  const planned = plan(tensors, opts);
  const head = headerBytes(planned, withFormat(opts.metadata));
  const total = head.length + planned.reduce((s, p) => s + p.bytes, 0);
  const out = new Uint8Array(total);
  out.set(head, 0);
  let pos = head.length;
  for (const p of planned) {
    out.set(encode(p), pos);
    pos += p.bytes;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically (temp file, fsync, rename), streaming tensor by tensor
 * so a large checkpoint is never copied whole in memory. Returns the number of data bytes written.
 */
export function saveSafetensors(path: string, tensors: TensorMap, opts: SaveOptions = {}): number {
  const planned = plan(tensors, opts);
  const head = headerBytes(planned, withFormat(opts.metadata));
  let data = 0;
  writeStreamAtomic(
    path,
    (write) => {
      write(head);
      for (const p of planned) {
        write(encode(p));
        data += p.bytes;
      }
    },
    head.length + planned.reduce((n, p) => n + p.bytes, 0),
  );
  return data;
}
