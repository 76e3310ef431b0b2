/**
 * Distillation on a tiny fine-tuned teacher: the student of every other layer copies layers 0, 2, ... exactly; the
 * KL term is zero for equal logits and has the finite-difference gradient; with temperature 1 and no hard loss the
 * student matches the teacher on the training inputs as the loss goes to 0; graft distill on the command line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad, softmax } from "../../src/tensor/index.js";
import { makeConfig, AutoModelForMaskedLM, AutoModelForSequenceClassification } from "../../src/models/index.js";
import { finetune, loadFinetuned, loadPredictor } from "../../src/tasks/index.js";
import { distill, distillKl, distillLoss, everyOtherLayer } from "../../src/methods/index.js";
import { makeTinyBert, sentimentCsv } from "../tasks/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-distill-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const train = join(work, "train.csv");
sentimentCsv(train, 200, 11);
const fast = { batchSize: 16, lr: 3e-3, logEvery: 50, warmupRatio: 0.1, seed: 2 };

const teacherRun = (async () => {
  const bert = makeTinyBert(join(work, "bert"), 1);
  return finetune({
    model: bert,
    data: train,
    output: join(work, "teacher"),
    training: { ...fast, epochs: 15, lr: 5e-3 },
  });
})();

test("the KL term: zero for equal logits, T² scaling, and its gradient matches finite differences", () => {
  const t = new Tensor(Float32Array.from([0.5, -1, 2, 0.1, 0.3, -0.7]), [2, 3]);
  assert.ok(Math.abs(distillKl(t, t, 2).item()) < 1e-7);
  const sv = [0.2, 0.1, -0.4, 1.5, -0.3, 0.9];
  const s = new Tensor(Float32Array.from(sv), [2, 3], true);
  const y = new Tensor(Int32Array.from([2, 0]), [2]);
  const loss = distillLoss(s, t, y, { temperature: 2, alpha: 0.7 });
  loss.backward();
  const grad = s.grad!.toArray();
  const f = (v: number[]) =>
    noGrad(() => distillLoss(new Tensor(Float32Array.from(v), [2, 3]), t, y, { temperature: 2, alpha: 0.7 }).item());
  const h = 1e-2;
  sv.forEach((_, i) => {
    const up = [...sv];
    const down = [...sv];
    up[i] += h;
    down[i] -= h;
    const fd = (f(up) - f(down)) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]) < 2e-3, `d/ds[${i}]: ${grad[i]} vs ${fd}`);
  });
  // alpha 1: T² · KL only
  const kl = distillKl(s, t, 2).item();
  assert.ok(Math.abs(distillLoss(s, t, y, { temperature: 2, alpha: 1 }).item() - 4 * kl) < 1e-6);
});

test("every other layer: the student's layer i is the teacher's layer 2i, the rest copied", () => {
  // a 3-layer teacher: the student keeps layers 0 and 2
  AutoModelForMaskedLM.fromConfig(
    makeConfig("bert", {
      vocab_size: 36,
      hidden_size: 8,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      intermediate_size: 16,
      max_position_embeddings: 32,
    }),
  ).savePretrained(join(work, "three"));
  const teacher = AutoModelForSequenceClassification.fromPretrainedDir(join(work, "three"), { labels: ["a", "b"] });
  const student = everyOtherLayer(teacher);
  assert.equal(student.config.num_hidden_layers, 2);
  const t = teacher.stateDict();
  const s = student.stateDict();
  const same = (a: string, b: string) => assert.deepEqual(s.get(a)!.toArray(), t.get(b)!.toArray(), `${a} ← ${b}`);
  same("bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.attention.self.query.weight");
  same("bert.encoder.layer.1.output.dense.weight", "bert.encoder.layer.2.output.dense.weight");
  same("bert.embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight");
  same("classifier.weight", "classifier.weight");
});

test("temperature 1, no hard loss: the student matches the teacher on the training inputs as the loss goes to 0", async () => {
  const t = await teacherRun;
  assert.ok(t.test.accuracy > 0.8, `the teacher learned the task (accuracy ${t.test.accuracy})`);
  // a student of other (random pre-trained) weights: it has everything to learn
  const fresh = makeTinyBert(join(work, "fresh"), 7);
  const r = await distill({
    teacher: t.runDir,
    data: train,
    student: fresh,
    output: join(work, "student"),
    temperature: 1,
    alpha: 1,
    config: { training: { ...fast, epochs: 40, lr: 5e-3, metricForBest: "kl_loss" } },
  });
  // the student differs from the teacher at first; training closes the gap
  assert.ok(r.trainKlStart > 0.005, `KL at the start ${r.trainKlStart}`);
  assert.ok(r.trainKlEnd < 1e-4 && r.trainKlEnd < r.trainKlStart / 100, `KL ${r.trainKlStart} → ${r.trainKlEnd}`);
  // the probabilities themselves agree, on training inputs and on a few new ones
  const teacher = await loadFinetuned(t.bestDir);
  const texts = [
    ...readFileSync(train, "utf8")
      .trim()
      .split("\n")
      .slice(1, 9)
      .map((l) => l.slice(0, l.lastIndexOf(","))),
    "a really great film",
    "the plot was awful",
  ];
  const probs = async (m: typeof teacher) => {
    const b = await m.tokenizer.encodeBatch(texts, { padding: true });
    const ids = new Tensor(Int32Array.from(b.inputIds.flat()), [texts.length, b.inputIds[0].length]);
    const mask = new Tensor(Float32Array.from(b.attentionMask.flat()), [texts.length, b.inputIds[0].length]);
    m.model.eval();
    return noGrad(() => softmax(m.model.forward({ inputIds: ids, attentionMask: mask }).logits).toArray());
  };
  const student = await loadFinetuned(join(r.runDir, "best"));
  const [pt, ps] = [await probs(teacher), await probs(student)];
  pt.forEach((p, i) => assert.ok(Math.abs(p - ps[i]) < 0.02, `p[${i}]: teacher ${p} student ${ps[i]}`));
  assert.ok(r.speedup > 0 && Number.isFinite(r.speedup));
  assert.deepEqual(
    Object.keys(r.kept).sort(),
    Object.keys(r.kept)
      .filter((k) => k !== "loss")
      .sort(),
  );
  assert.equal(loadPredictor(join(r.runDir, "best")).task, "classification");
});

test("graft distill prints the metric kept and the speed-up; a teacher of other labels is refused", async () => {
  const t = await teacherRun;
  const out = spawnSync(
    process.execPath,
    [
      bin,
      "distill",
      "--teacher",
      t.bestDir,
      "--data",
      train,
      "--output",
      join(work, "cli"),
      "--epochs",
      "1",
      "--metric",
      "kl_loss",
    ],
    { encoding: "utf8" },
  );
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /student: 1 of the teacher's 2 layers/);
  assert.match(out.stdout, /speed-up/);
  assert.match(out.stdout, /kept/);
  const other = join(work, "other.csv");
  sentimentCsv(other, 40, 9, { labels: ["bad", "good"] });
  await assert.rejects(
    distill({ teacher: t.runDir, data: other, output: join(work, "bad") }),
    /has the labels \["bad","good"\], the teacher \["neg","pos"\]/,
  );
});
