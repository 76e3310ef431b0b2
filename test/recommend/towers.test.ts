/**
 * The two-tower's trained item encoders (LoRA adapters, full fine-tuning) on a tiny BERT: gradients reach the
 * adapters or every encoder weight, and a saved recommender reloads to the same recommendations, its saved encoder
 * placing text-only items where training did; user features: the reader's errors and counts, and a cold-start user
 * (no history) ranked from features alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { userItems, type Interactions } from "../../src/recsys/index.js";
import {
  ItemEncoder,
  RecommendPredictor,
  TwoTower,
  alignUserFeatures,
  encodeItemTexts,
  readUserFeatures,
  topKAll,
  trainRecommender,
  type RecommendData,
} from "../../src/recommend/index.js";
import { Rng } from "../../src/util/rng.js";
import { makeTinyBert, NAMES, PLACES } from "../tasks/fixtures.js";
import { plantedInteractions } from "./fixtures.js";

/** 2 groups × 6 users × 6 items; each user rates 4 random items of its group; an item's text names its group. */
function planted(): { data: Interactions; texts: string[]; groupOf: (u: number) => number } {
  const rng = new Rng(11);
  const G = 2,
    U = 6,
    I = 6;
  const data = plantedInteractions(rng, { groups: G, users: U, items: I, perUser: 4 });
  const words = [NAMES, PLACES];
  const texts = Array.from({ length: G * I }, (_, i) => {
    const w = words[Math.floor(i / I)]!;
    return `${w[i % w.length]} ${w[(i + 1) % w.length]} film`;
  });
  return {
    data,
    texts,
    groupOf: (u) => Math.floor(u / U),
  };
}

const SETTINGS = { dim: 8, epochs: 2, batchSize: 16, lr: 0.01, temperature: 0.2, seed: 3 };

for (const mode of ["lora", "full"] as const)
  test(`two-tower with a ${mode} item encoder: gradients reach it, saved and reloaded recommendations match`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `graft-rec-${mode}-`));
    try {
      const enc = makeTinyBert(join(dir, "enc"));
      const { data, texts } = planted();
      const text = await encodeItemTexts(enc, texts);
      const all = Int32Array.from({ length: data.user.length }, (_, k) => k);
      const train = userItems(data, all, 4);
      const live = await ItemEncoder.load(enc, texts);
      const before = new Map([...live.model.namedParameters()].map(([n, p]) => [n, p.toArray()]));
      const model = new TwoTower(text, { ...SETTINGS, itemEncoder: mode, encoderItems: 5 }, { encoder: live });
      model.fit(train);
      const params = [...live.model.namedParameters()];
      const changed = params.filter(([n, p]) => {
        const b = before.get(n);
        return b ? p.toArray().some((x, i) => x !== b[i]) : false;
      });
      if (mode === "lora") {
        // B starts at zero: a non-zero B means the adapter was updated from its gradients
        const bs = params.filter(([n]) => /\.lora_B\.weight$/.test(n));
        assert.ok(bs.length >= 8, `${bs.length} adapters`);
        assert.ok(
          bs.every(([, p]) => p.toArray().some((x) => x !== 0)),
          "every LoRA B was updated",
        );
        assert.deepEqual(changed, [], "the base weights stay frozen");
      } else assert.ok(changed.length > params.length / 2, `${changed.length} of ${params.length} weights changed`);
      // the serving vectors are the re-encoded texts: they differ from the frozen vectors' item tower
      const frozen = new TwoTower(text, SETTINGS);
      frozen.fit(train);
      assert.notDeepEqual(Array.from(model.factors().item), Array.from(frozen.factors().item));

      // saved → loaded: the same recommendations as the same model trained in memory
      const input: RecommendData = { data, texts, userFeatures: null };
      const out = join(dir, "rec");
      await trainRecommender(input, {
        model: "two-tower",
        threshold: 4,
        output: out,
        encoder: enc,
        settings: { ...SETTINGS, itemEncoder: mode, encoderItems: 5 },
      });
      const again = new TwoTower(
        text,
        { ...SETTINGS, itemEncoder: mode, encoderItems: 5 },
        { encoder: await ItemEncoder.load(enc, texts) },
      );
      again.fit(train);
      const users = Int32Array.from({ length: data.users.length }, (_, u) => u);
      const lists = topKAll(again.factors(), users, 5, { seen: userItems(data, all) });
      const p = RecommendPredictor.load(out);
      for (const u of users)
        assert.deepEqual(
          p.recommend(`u${u}`, 5).map((r) => r.item),
          Array.from(lists[u]!, (i) => `i${i}`),
        );
      // a history request for a training user's items is that user's own recommendation (no user ID embedding)
      assert.deepEqual(
        p.request({ history: p.history("u2"), k: 5 }).map((r) => r.item),
        p.recommend("u2", 5).map((r) => r.item),
      );
      // the saved encoder (adapter or weights) and text head place a text-only item where training did: the
      // item part of the exported vector without the ID embedding is the text head of the re-encoded text
      const f = again.factors();
      const d = f.dim;
      const textOnly = await p.encodeItems([texts[3]!]);
      assert.equal(textOnly[0]!.length, d);
      const head = again.itemHead();
      const reloaded = await ItemEncoder.load(mode === "full" ? join(out, "item_encoder") : enc, [texts[3]!], {
        ...(mode === "lora" ? { adapter: join(out, "item_encoder") } : {}),
      });
      const pooled = reloaded.all().data;
      const z = Array.from(pooled, (x, j) => (x - head.mean[j]!) * head.invStd[j]!);
      let bias = 0;
      z.forEach((x, j) => (bias += x * head.wb[j]!));
      assert.ok(Math.abs(textOnly[0]![d - 1]! - bias) < 1e-4);
      const v = Array.from({ length: d - 1 }, (_, k) =>
        z.reduce((s, x, j) => s + x * head.W[k * z.length + j]!, head.b[k]!),
      );
      const norm = Math.hypot(...v);
      v.forEach((x, k) => assert.ok(Math.abs(textOnly[0]![k]! - x / norm) < 1e-4));
      // and the reloaded encoder is the trained one, not the base
      const base = await encodeItemTexts(enc, [texts[3]!]);
      assert.ok(pooled.some((x, j) => Math.abs(x - base.data[j]!) > 1e-4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test("a trained item encoder needs the encoder and item IDs", () => {
  const text = { n: 2, dim: 2, data: new Float32Array(4) };
  assert.throws(() => new TwoTower(text, { itemEncoder: "lora" }), /needs the encoder/);
});

test("user features: types, unknown and missing users, and errors naming file, line and value", () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-rec-uf-"));
  try {
    const file = join(dir, "u.user");
    // zip codes read as numbers until a Canadian one (inferred numeric: 20 of 21 values are numbers)
    const more = Array.from({ length: 18 }, (_, k) => `${100 + k}|${30 + k}|M|other|${10000 + k}`);
    writeFileSync(
      file,
      ["1|24|M|technician|85711", "2|53|F|other|94043", ...more, "9|33|F|writer|T8H1N", ""].join("\n"),
    );
    assert.throws(
      () => readUserFeatures(file),
      (e: Error) => /u\.user, line 21, field "4"/.test(e.message) && /"T8H1N"/.test(e.message),
    );
    const f = readUserFeatures(file, { types: { "4": "id" } });
    assert.deepEqual(
      f.schema.columns.map((c) => `${c.name}:${c.type}`),
      ["1:numeric", "2:categorical", "3:categorical"],
    );
    const a = alignUserFeatures(f, ["1", "2", "7"]);
    assert.equal(a.ignored, 19, "users 9 and 100..117 are not in the interactions");
    assert.equal(a.missing, 1, "user 7 has no features");
    assert.deepEqual(Array.from(a.categorical.subarray(6, 9)), [0, 0, 1], "missing indicator");
    assert.deepEqual(Array.from(a.categorical.subarray(0, 3)), [2, 2, 0]);
    const ages = [24, 53, ...more.map((_, k) => 30 + k), 33];
    const m = ages.reduce((x, y) => x + y) / ages.length;
    const sd = Math.sqrt(ages.reduce((x, y) => x + (y - m) ** 2, 0) / ages.length);
    assert.ok(Math.abs(a.numeric[0]! - (24 - m) / sd) < 1e-5);
    writeFileSync(file, "id,age\n1,20\n1,30\n");
    assert.throws(() => readUserFeatures(file, { header: true }), /line 3.*listed twice \(also on line 2\)/);
    writeFileSync(file, "id,age\n1,20\n2,abc\n");
    assert.throws(
      () => readUserFeatures(file, { header: true, types: { age: "numeric" } }),
      /line 3, field "age".*"abc"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("user features reach the user tower: a cold-start user is ranked from features alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-rec-ufm-"));
  try {
    const { data, texts, groupOf } = planted();
    const file = join(dir, "users.csv");
    // the group is a categorical feature; one file user is unknown to the interactions
    writeFileSync(
      file,
      `user,side,age\n${data.users.map((u, k) => `${u},${groupOf(k) ? "east" : "west"},${20 + k}`).join("\n")}\nghost,east,40\n`,
    );
    const userFeatures = alignUserFeatures(readUserFeatures(file, { header: true }), data.users);
    assert.equal(userFeatures.ignored, 1);
    const input: RecommendData = { data, texts, userFeatures };
    const out = join(dir, "rec");
    const enc = makeTinyBert(join(dir, "enc"));
    await trainRecommender(input, {
      model: "two-tower",
      threshold: 4,
      output: out,
      encoder: enc,
      settings: { ...SETTINGS, epochs: 30, temperature: 0.1, historyDropout: 0.5 },
    });
    const p = RecommendPredictor.load(out);
    assert.deepEqual(p.featureColumns, ["side", "age"]);
    for (const [side, g, age] of [
      ["west", 0, 22],
      ["east", 1, 28],
    ] as const) {
      const top = p.request({ features: { side, age }, k: 4 }).map((r) => Number(r.item.slice(1)));
      const hits = top.filter((i) => Math.floor(i / 6) === g).length;
      assert.ok(hits >= 3, `${side}: ${top}`);
    }
    assert.throws(() => p.request({ features: { side: "west", age: "old" } }), /features\.age must be a number/);
    assert.throws(() => p.request({ history: ["i1", "nope"] }), /history\[1\]: unknown item "nope"/);
    // an unknown category reads as unknown (index 0), not an error
    assert.equal(p.request({ features: { side: "north" }, k: 3 }).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
