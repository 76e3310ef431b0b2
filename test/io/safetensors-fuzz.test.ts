/**
 * Throws random bytes, mutated headers and truncations at the safetensors reader. Every input must either
 * parse or be refused with a FormatError: no other exception (which would mean an unchecked read or an
 * allocation sized by untrusted numbers), no crash, no hang (the runner's timeout catches that).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import { FormatError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { randn, tensor } from "../../src/tensor/index.js";

const rng = new Rng(20240611);

function valid(): Uint8Array {
  return serializeSafetensors(
    {
      "w.weight": randn([3, 5], rng),
      "w.bias": randn([5], rng),
      ids: tensor([1, 2, 3, 4], [2, 2], { dtype: "i32" }),
    },
    { dtypes: { "w.bias": "BF16" }, metadata: { k: "v" } },
  );
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** Something JSON can hold, biased towards the values validation has to think about. */
function randomValue(depth = 0): unknown {
  switch (rng.int(depth > 1 ? 6 : 9)) {
    case 0:
      return rng.int(2) === 0 ? -rng.int(100) : rng.int(100);
    case 1:
      return [2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e308, -1, 0.5, NaN][rng.int(8)]!;
    case 2:
      return ["F32", "F16", "BF16", "I64", "BOOL", "F8_E4M3", "U64", "X", ""][rng.int(9)];
    case 3:
      return null;
    case 4:
      return rng.int(2) === 0;
    case 5:
      return "__metadata__";
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomValue(depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: rng.int(3) }, (_, i) => [`k${i}`, randomValue(depth + 1)]));
    default:
      return [rng.int(200), rng.int(200)];
  }
}

function withHeader(bytes: Uint8Array, mutate: (h: Record<string, Record<string, unknown>>) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
  mutate(header);
  const text = Buffer.from(JSON.stringify(header), "utf8");
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function check(input: Uint8Array, what: string): "ok" | "refused" {
  try {
    parseSafetensors(input, "fuzz");
    return "ok";
  } catch (e) {
    if (e instanceof FormatError) return "refused";
    assert.fail(`${what}: threw ${(e as Error).constructor.name} instead of a FormatError: ${(e as Error).message}`);
  }
}

test("fuzz: random bytes, flipped bytes, bad header lengths, mutated header fields, truncations", {
  timeout: 60_000,
}, () => {
  const base = valid();
  const counts = { ok: 0, refused: 0 };
  const tally = (r: "ok" | "refused") => counts[r]++;
  for (let i = 0; i < 400; i++) tally(check(randomBytes(rng.int(300)), `random bytes #${i}`));
  for (let i = 0; i < 400; i++) {
    const b = base.slice();
    for (let k = 1 + rng.int(6); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
    tally(check(b, `flipped bytes #${i}`));
  }
  for (let i = 0; i < 200; i++) {
    const b = base.slice();
    const dv = new DataView(b.buffer);
    dv.setUint32(0, rng.nextU32(), true);
    dv.setUint32(4, rng.int(4) === 0 ? rng.nextU32() : 0, true);
    tally(check(b, `header length #${i}`));
  }
  for (let i = 0; i < 1500; i++) {
    const b = withHeader(base, (h) => {
      const names = Object.keys(h);
      const name = names[rng.int(names.length)]!;
      const field = ["dtype", "shape", "data_offsets", "extra"][rng.int(4)]!;
      if (rng.int(10) === 0) h[name] = randomValue() as Record<string, unknown>;
      else if (typeof h[name] === "object" && h[name] !== null) h[name]![field] = randomValue();
      if (rng.int(8) === 0) h[`new${i}`] = { dtype: randomValue(), shape: randomValue(), data_offsets: randomValue() };
    });
    tally(check(b, `mutated header #${i}`));
  }
  for (let i = 0; i < 300; i++) {
    const cut = rng.int(base.length);
    tally(check(base.subarray(0, cut), `truncated to ${cut}`));
    const extra = new Uint8Array(base.length + 1 + rng.int(16));
    extra.set(base);
    tally(check(extra, `appended bytes #${i}`));
  }
  assert.equal(check(base, "the unmutated file"), "ok");
  assert.ok(counts.refused > 2500, `most inputs are refused (${JSON.stringify(counts)})`);
});
