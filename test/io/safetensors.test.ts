import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  loadSafetensors,
  saveSafetensors,
  serializeSafetensors,
  parseSafetensors,
  readSafetensorsHeader,
  SafetensorsFile,
} from "../../src/io/safetensors.js";
import { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from "../../src/io/dtypes.js";
import { FormatError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { Tensor, tensor, randn } from "../../src/tensor/index.js";
import { fixture, tmpDir } from "./helpers.js";

const num = (v: number | string): number =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number);

test("reads every dtype of a file PyTorch produced, including tensors at unaligned offsets", () => {
  const expected = JSON.parse(readFileSync(fixture("io", "torch_dtypes.expected.json"), "utf8")) as Record<
    string,
    { dtype: string; shape: number[]; values: (number | string)[] }
  >;
  const path = fixture("io", "torch_dtypes.safetensors");
  const got = loadSafetensors(path);
  assert.deepEqual([...got.keys()].sort(), Object.keys(expected).sort());
  for (const [name, e] of Object.entries(expected)) {
    const t = got.get(name)!;
    assert.deepEqual([...t.shape], e.shape, name);
    const floaty = e.dtype.startsWith("F") || e.dtype === "BF16";
    assert.equal(t.dtype, floaty ? "f32" : "i32", name);
    // F64 is rounded to f32 on load; everything else is exact
    const want = e.values.map((v) => (floaty ? Math.fround(num(v)) : (v as number)));
    assert.deepEqual(t.toArray(), want, name);
  }
  const header = readSafetensorsHeader(path);
  assert.deepEqual({ ...header.metadata }, { format: "pt", producer: "torch 1.13.0" });
  assert.equal(
    header.tensors.find((t) => t.name === "b.float")!.begin,
    10,
    "the fixture really puts an f32 tensor at an unaligned offset",
  );
});

test("f16 and bf16 conversions round exactly as PyTorch does (nearest even, overflow to inf, subnormals)", () => {
  const r = JSON.parse(readFileSync(fixture("io", "rounding.json"), "utf8")) as {
    f32_bits: number[];
    f16_bits: number[];
    bf16_bits: number[];
  };
  const f = new Float32Array(Int32Array.from(r.f32_bits).buffer);
  for (let i = 0; i < f.length; i++) {
    assert.equal(f32ToF16(f[i]!), r.f16_bits[i], `f16 of ${f[i]} (#${i})`);
    assert.equal(f32ToBf16(f[i]!), r.bf16_bits[i], `bf16 of ${f[i]} (#${i})`);
  }
  // every finite f16 survives f16 → f32 → f16
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
      assert.ok(Number.isNaN(f16ToF32(h)));
      continue;
    }
    assert.equal(f32ToF16(f16ToF32(h)), h, `f16 bits 0x${h.toString(16)}`);
  }
  for (let b = 0; b < 0x10000; b += 7) if (!Number.isNaN(bf16ToF32(b))) assert.equal(f32ToBf16(bf16ToF32(b)), b);
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(NaN))));
});

test("round trip: save → load gives identical tensors for F32, I64 and I32, and the file layout follows the spec", () => {
  const rng = new Rng(1);
  const tensors = {
    "bert.embeddings.word_embeddings.weight": randn([17, 8], rng),
    "bert.pooler.dense.bias": randn([8], rng),
    position_ids: tensor([0, 1, 2, 3, -5, 2147483647, -2147483648], [1, 7], { dtype: "i32" }),
    scalar: new Tensor(Float32Array.of(-0), []),
    empty: new Tensor(new Float32Array(0), [3, 0]),
  };
  const dir = tmpDir();
  const path = join(dir, "model.safetensors");
  saveSafetensors(path, tensors, { metadata: { note: "x" } });
  const back = loadSafetensors(path);
  assert.equal(back.size, 5);
  for (const [name, t] of Object.entries(tensors)) {
    const b = back.get(name)!;
    assert.deepEqual([...b.shape], [...t.shape], name);
    assert.equal(b.dtype, t.dtype, name);
    assert.ok(Object.is(b.toArray()[0], t.toArray()[0]) || t.size === 0, name); // keeps -0
    assert.deepEqual(b.toArray(), t.toArray(), name);
  }
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, "the data buffer starts 8-aligned");
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  assert.deepEqual(header.__metadata__, { format: "pt", note: "x" }, "format: pt is what transformers checks for");
  assert.equal(header.position_ids.dtype, "I64");
  assert.deepEqual(header.position_ids.data_offsets, [0, 56], "8-byte types come first so every tensor is aligned");

  const asI32 = parseSafetensors(serializeSafetensors({ ids: tensors.position_ids }, { intDType: "I32" }));
  assert.deepEqual(asI32.tensors.get("ids")!.toArray(), tensors.position_ids.toArray());
});

test("F16 and BF16 storage round to the nearest representable value", () => {
  const t = tensor([1, 0.1, -3.14159, 70000, 1e-8]);
  const h = parseSafetensors(serializeSafetensors({ t }, { floatDType: "F16" })).tensors.get("t")!;
  assert.deepEqual(
    h.toArray(),
    t.toArray().map((v) => f16ToF32(f32ToF16(v))),
  );
  assert.equal(h.toArray()[3], Infinity);
  const b = parseSafetensors(serializeSafetensors({ t }, { dtypes: { t: "BF16" } })).tensors.get("t")!;
  assert.deepEqual(
    b.toArray(),
    t.toArray().map((v) => bf16ToF32(f32ToBf16(v))),
  );
  assert.throws(() => serializeSafetensors({ t }, { dtypes: { t: "I64" } }), /cannot store f32 tensor "t" as I64/);
});

test("an I64 value outside the 32-bit range is refused, naming the tensor and the value", () => {
  assert.throws(
    () => loadSafetensors(fixture("io", "int64_overflow.safetensors")),
    (e: Error) => {
      assert.ok(e instanceof FormatError);
      assert.match(
        e.message,
        /int64_overflow\.safetensors: tensor "ids" \(I64\) element 1 = 1099511627776 does not fit/,
      );
      return true;
    },
  );
});

// ---- corrupt files

function file(
  header: unknown,
  data: Uint8Array | number = 0,
  opts: { rawHeader?: string | Uint8Array; declaredLength?: number } = {},
): Uint8Array {
  const text =
    typeof opts.rawHeader === "object" ? opts.rawHeader : Buffer.from(opts.rawHeader ?? JSON.stringify(header), "utf8");
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(opts.declaredLength ?? text.length), true);
  out.set(text, 8);
  out.set(body, 8 + text.length);
  return out;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

const CORRUPT: [string, Uint8Array, RegExp][] = [
  ["empty file", new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length/],
  ["7 bytes", new Uint8Array(7), /shorter than the 8-byte header length/],
  [
    "header length past the end",
    file({}, 0, { declaredLength: 1000 }),
    /header length 1000 runs past the end of the \d+-byte file/,
  ],
  [
    "absurd header length",
    file({}, 0, { declaredLength: 2 ** 40 }),
    /header length 1099511627776 exceeds the 100000000-byte limit/,
  ],
  ["header not an object", file([1, 2]), /header does not start with '\{'/],
  ["header not JSON", file(null, 0, { rawHeader: '{"a": ' }), /header is not valid JSON/],
  [
    "header invalid UTF-8",
    file(null, 0, { rawHeader: Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d) }),
    /header is not valid UTF-8/,
  ],
  [
    "unknown dtype",
    file({ w: { dtype: "F17", shape: [1], data_offsets: [0, 4] } }, 4),
    /tensor "w": unknown dtype "F17"/,
  ],
  [
    "negative dim",
    file({ w: f32([-1], 0, 4) }, 4),
    /tensor "w": shape \[-1\] has a dimension that is not a non-negative integer/,
  ],
  ["fractional dim", file({ w: f32([1.5], 0, 4) }, 4), /not a non-negative integer/],
  [
    "offsets not a pair",
    file({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }, 4),
    /tensor "w": data_offsets must be \[begin, end\]/,
  ],
  ["offsets reversed", file({ w: f32([0], 4, 0) }, 4), /end before they begin/],
  [
    "span does not match shape",
    file({ w: f32([2, 2], 0, 12) }, 12),
    /tensor "w": data_offsets \[0, 12\] span 12 bytes but shape \[2, 2\] of F32 needs 16/,
  ],
  [
    "overlap",
    file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12),
    /tensor "b" bytes \[4, 12\) overlap tensor "a" \[0, 8\)/,
  ],
  [
    "gap",
    file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12),
    /gap in the data buffer: bytes \[4, 8\) before tensor "b"/,
  ],
  ["gap at start", file({ a: f32([1], 4, 8) }, 8), /gap in the data buffer: bytes \[0, 4\)/],
  [
    "truncated data",
    file({ a: f32([4], 0, 16) }, 10),
    /tensor "a" bytes \[0, 16\) run past the end of the 10-byte data buffer/,
  ],
  ["trailing bytes", file({ a: f32([1], 0, 4) }, 9), /the tensors cover 4 bytes but the data buffer holds 9/],
  ["metadata not strings", file({ __metadata__: { n: 1 } }), /"__metadata__"."n" must be a string/],
  ["unknown entry field", file({ a: { ...f32([1], 0, 4), extra: 1 } }, 4), /tensor "a": unknown field "extra"/],
  ["entry not an object", file({ a: 3 }), /tensor "a": entry must be an object/],
  ["too many elements", file({ a: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 4) }, 4), /has too many elements|needs/],
];

for (const [what, bytes, why] of CORRUPT) {
  test(`refuses a corrupt file: ${what}`, () => {
    assert.throws(
      () => parseSafetensors(bytes, "bad.safetensors"),
      (e: Error) => {
        assert.ok(e instanceof FormatError, `${what}: expected a FormatError, got ${e.constructor.name}: ${e.message}`);
        assert.match(e.message, /^bad\.safetensors: /, "the message says where");
        assert.match(e.message, why);
        return true;
      },
    );
  });
}

test("a file truncated at any length is refused with a FormatError, from disk as from memory", () => {
  const whole = serializeSafetensors({ a: tensor([1, 2, 3]), b: tensor([4, 5], [2], { dtype: "i32" }) });
  const dir = tmpDir();
  for (let len = 0; len < whole.length; len++) {
    const cut = whole.subarray(0, len);
    assert.throws(() => parseSafetensors(cut), FormatError, `truncated to ${len} bytes`);
    if (len % 9 === 0) {
      const p = join(dir, `cut-${len}.safetensors`);
      writeFileSync(p, cut);
      assert.throws(
        () => loadSafetensors(p),
        (e: Error) => e instanceof FormatError && e.message.startsWith(p),
      );
    }
  }
  assert.equal(parseSafetensors(whole).tensors.size, 2);
});

test("SafetensorsFile reads single tensors lazily and names a missing one", () => {
  const dir = tmpDir();
  const p = join(dir, "w.safetensors");
  saveSafetensors(p, { x: tensor([1, 2]), y: tensor([3]) });
  const f = SafetensorsFile.open(p);
  assert.deepEqual(f.names.sort(), ["x", "y"]);
  assert.deepEqual(f.get("y").toArray(), [3]);
  assert.throws(() => f.get("z"), /no tensor named "z"/);
  f.close();
  assert.throws(() => f.get("x"), /closed/);
  assert.throws(() => loadSafetensors(join(dir, "nope.safetensors")), /cannot open \(ENOENT\)/);
});
