/** The seq2seq path is architecture-agnostic: a tiny BART pre-trained with span corruption, fine-tuned and used. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { AutoModelForSeq2SeqLM } from "../../src/models/index.js";
import { finetune, loadPredictor, pretrain } from "../../src/tasks/index.js";
import type { GeneratedPrediction } from "../../src/tasks/kinds/seq2seq/index.js";

const work = mkdtempSync(join(tmpdir(), "graft-s2s-bart-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const WORDS = "red blue green gold pink gray".split(" ");
const r = new Rng(7);
const lines = Array.from({ length: 200 }, () =>
  Array.from({ length: 3 + r.int(3) }, () => WORDS[r.int(WORDS.length)]).join(" "),
);

test("BART: span-corruption pre-training from scratch, seq2seq fine-tuning with LoRA on q_proj/v_proj, prediction", async () => {
  writeFileSync(join(work, "corpus.txt"), `${lines.join("\n")}\n`);
  const steps = { batchSize: 8, lr: 1e-3, warmupRatio: 0, seed: 1, maxSteps: 2, evalEvery: 2, saveEvery: 2 };
  const pre = await pretrain({
    objective: "span-corruption",
    architecture: "bart",
    corpus: [join(work, "corpus.txt")],
    output: join(work, "pre"),
    preset: "tiny",
    vocabSize: 400,
    blockSize: 32,
    validationFraction: 0.1,
    training: steps,
  });
  assert.equal(AutoModelForSeq2SeqLM.fromPretrainedDir(pre.bestDir).config.model_type, "bart");
  assert.ok(Number.isFinite(pre.validation.loss));

  const base = join(work, "pairs");
  writeFileSync(`${base}.src`, `${lines.slice(0, 40).join("\n")}\n`);
  writeFileSync(
    `${base}.tgt`,
    `${lines
      .slice(0, 40)
      .map((l) => l.split(" ").reverse().join(" "))
      .join("\n")}\n`,
  );
  const ft = await finetune({
    task: "seq2seq",
    model: pre.bestDir,
    data: base,
    validation: base,
    sourceLang: "src",
    targetLang: "tgt",
    maxTargetLength: 12,
    numBeams: 2,
    lora: { r: 2, targetModules: ["q_proj", "v_proj"] },
    output: join(work, "ft"),
    training: steps,
  });
  // 2 encoder layers (self) + 2 decoder layers (self and cross), q_proj and v_proj each
  assert.ok(
    ft.notes.some((n) => /^LoRA r=2 on 12 layers/.test(n)),
    ft.notes.join("\n"),
  );
  for (const k of ["bleu", "chrf", "ter", "rouge1", "loss"]) assert.ok(Number.isFinite(ft.validation[k]), k);
  assert.equal(JSON.parse(readFileSync(join(ft.bestDir, "graft_task.json"), "utf8")).numBeams, 2);
  const [p] = (await loadPredictor(ft.bestDir).predict(["red blue"])) as GeneratedPrediction[];
  assert.equal(p.task, "seq2seq");
  assert.equal(typeof p.generated, "string");
});
