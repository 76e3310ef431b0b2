import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  loadCheckpoint,
  saveCheckpoint,
  findWeights,
  loadShardedSafetensors,
  WEIGHTS_INDEX_NAME,
} from "../../src/io/checkpoint.js";
import { saveSafetensors } from "../../src/io/safetensors.js";
import { FormatError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { randn, type Tensor } from "../../src/tensor/index.js";
import { tmpDir } from "./helpers.js";

function weights(): Map<string, Tensor> {
  const rng = new Rng(3);
  const m = new Map<string, Tensor>();
  for (let l = 0; l < 3; l++) {
    m.set(`encoder.layer.${l}.dense.weight`, randn([16, 16], rng)); // 1024 bytes
    m.set(`encoder.layer.${l}.dense.bias`, randn([16], rng)); // 64 bytes
  }
  return m;
}

function assertSame(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    assert.deepEqual([...b.get(k)!.shape], [...t.shape], k);
    assert.deepEqual(b.get(k)!.toArray(), t.toArray(), k);
  }
}

test("a checkpoint saved in shards loads back identical, with an index as transformers writes it", () => {
  const dir = tmpDir();
  const w = weights();
  const files = saveCheckpoint(dir, w, { maxShardBytes: 2000 });
  assert.deepEqual(files, [
    "model-00001-of-00003.safetensors",
    "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors",
    WEIGHTS_INDEX_NAME,
  ]);
  const index = JSON.parse(readFileSync(join(dir, WEIGHTS_INDEX_NAME), "utf8"));
  assert.equal(index.metadata.total_size, 3 * (1024 + 64));
  assert.equal(index.weight_map["encoder.layer.2.dense.bias"], "model-00003-of-00003.safetensors");
  assert.deepEqual(findWeights(dir), { kind: "sharded", index: join(dir, WEIGHTS_INDEX_NAME) });
  assertSame(w, loadCheckpoint(dir));

  // saving again unsharded replaces the shards rather than leaving two disagreeing copies
  saveCheckpoint(dir, w);
  assert.deepEqual(readdirSync(dir).sort(), ["model.safetensors"]);
  assertSame(w, loadCheckpoint(dir));
});

test("bf16 and f16 tensors count 2 bytes each when a checkpoint is split into shards", () => {
  const dir = tmpDir();
  const half = new Map([...weights()].map(([k, t]) => [k, t.to(k.endsWith("weight") ? "bf16" : "f16")] as const));
  // 3 × (512 + 32) bytes: two layers fit in 1,100 bytes, where an estimate of 8 bytes an element made six shards
  const files = saveCheckpoint(dir, half, { maxShardBytes: 1100 });
  assert.deepEqual(files, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", WEIGHTS_INDEX_NAME]);
  const index = JSON.parse(readFileSync(join(dir, WEIGHTS_INDEX_NAME), "utf8"));
  assert.equal(index.metadata.total_size, 3 * (512 + 32));
});

test("a shard index that lies is refused: missing shard, tensor in the wrong shard, path outside the directory", () => {
  const dir = tmpDir();
  saveCheckpoint(dir, weights(), { maxShardBytes: 2000 });
  const indexPath = join(dir, WEIGHTS_INDEX_NAME);
  const index = JSON.parse(readFileSync(indexPath, "utf8"));
  const edit = (f: (ix: typeof index) => void) => {
    const copy = structuredClone(index);
    f(copy);
    writeFileSync(indexPath, JSON.stringify(copy));
  };
  edit((ix) => (ix.weight_map["encoder.layer.0.dense.bias"] = "model-00002-of-00003.safetensors"));
  assert.throws(
    () => loadShardedSafetensors(indexPath),
    /tensor "encoder.layer.0.dense.bias" listed in .* is not in this shard|is not listed for this shard/,
  );
  edit((ix) => (ix.weight_map["encoder.layer.0.dense.bias"] = "../elsewhere.safetensors"));
  assert.throws(
    () => loadShardedSafetensors(indexPath),
    /weight_map\["encoder.layer.0.dense.bias"\] must be a file name in the same directory/,
  );
  edit((ix) => (ix.weight_map.extra = "model-00009-of-00009.safetensors"));
  assert.throws(
    () => loadShardedSafetensors(indexPath),
    /shard model-00009-of-00009.safetensors \(holding 1 tensors, e.g. "extra"\) is missing/,
  );
  edit((ix) => (ix.weight_map = [1, 2]));
  assert.throws(() => loadShardedSafetensors(indexPath), FormatError);
});

test("a directory with only pytorch_model.bin is refused with a way to convert it", () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "pytorch_model.bin"), "PK\x03\x04");
  assert.throws(
    () => loadCheckpoint(dir),
    (e: Error) => {
      assert.ok(e instanceof FormatError);
      assert.match(
        e.message,
        /pytorch_model\.bin: PyTorch pickle checkpoints are not supported .* graft reads model\.safetensors/,
      );
      assert.match(e.hint ?? "", /save_pretrained\(.*safe_serialization=True\)/);
      return true;
    },
  );
  const empty = tmpDir();
  writeFileSync(join(empty, "README.md"), "");
  assert.throws(
    () => loadCheckpoint(empty),
    /no model\.safetensors or model\.safetensors\.index\.json \(found: README\.md\)/,
  );
});

test("model.safetensors is preferred when both layouts are present", () => {
  const dir = tmpDir();
  const w = weights();
  saveSafetensors(join(dir, "model.safetensors"), w);
  writeFileSync(join(dir, WEIGHTS_INDEX_NAME), "{}");
  assert.equal(findWeights(dir).kind, "single");
  assertSame(w, loadCheckpoint(dir));
  assert.ok(existsSync(join(dir, WEIGHTS_INDEX_NAME)));
});
