import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { loadSafetensors } from "../../src/io/safetensors.js";
import { AutoModelForSequenceClassification } from "../../src/models/index.js";
import { BlockFile, pretrain } from "../../src/tasks/index.js";

const work = mkdtempSync(join(tmpdir(), "graft-pretrain-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const WORDS = "the cat sat on a mat while dogs ran in parks and birds sang over quiet green hills near old towns".split(
  " ",
);
function corpus(path: string, lines: number, seed: number): void {
  const r = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++)
    out.push(Array.from({ length: 6 + r.int(8) }, () => WORDS[r.int(WORDS.length)]).join(" ") + ".");
  writeFileSync(path, out.join("\n") + "\n");
}
corpus(join(work, "corpus.txt"), 600, 1);
writeFileSync(
  join(work, "docs.jsonl"),
  Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `document ${i}: the cat sat on a mat.` })).join("\n") +
    "\n",
);

const small = { maxSteps: 8, batchSize: 8, lr: 2e-3, logEvery: 2, evalEvery: 4, saveEvery: 2, warmupRatio: 0 };

test("masked-LM pre-training from scratch: tokenizer trained, blocks on disk, loss falls, model loads for fine-tuning", async () => {
  const r = await pretrain({
    corpus: [join(work, "corpus.txt"), join(work, "docs.jsonl")],
    output: join(work, "mlm"),
    preset: "tiny",
    vocabSize: 120,
    blockSize: 32,
    validationFraction: 0.05,
    training: { ...small, maxSteps: 30 },
  });
  assert.ok(existsSync(join(work, "mlm", "tokenizer", "tokenizer.json")));
  const blocks = new BlockFile(join(work, "mlm", "data", "train.bin"), 30);
  assert.equal(blocks.count, r.blocks.train);
  blocks.close();
  assert.ok(
    r.validation.loss < Math.log(120),
    `validation loss ${r.validation.loss} not below uniform ${Math.log(120)}`,
  );
  // words are drawn uniformly here, so accuracy stays near chance; the loss is what must fall
  assert.ok(r.validation.tokens > 0 && r.validation.accuracy >= 0 && r.validation.accuracy <= 1);
  // the pre-trained model is a starting point for fine-tuning: backbone loaded, only the head is new
  const clf = AutoModelForSequenceClassification.fromPretrainedDir(r.bestDir, { labels: ["a", "b"] });
  assert.ok(
    clf.loadingInfo!.missingKeys.every((k) => k.startsWith("classifier.") || k.startsWith("bert.pooler.")),
    clf.loadingInfo!.missingKeys.join(","),
  );
  assert.ok(existsSync(join(r.runDir, "report.html")));
});

test("pre-training resumed after a stop ends with the same weights as an uninterrupted run", async () => {
  const base = {
    corpus: [join(work, "corpus.txt")],
    preset: "tiny" as const,
    vocabSize: 100,
    blockSize: 32,
    wholeWordMasking: true,
    training: small,
  };
  const a = await pretrain({ ...base, output: join(work, "ref") });
  await pretrain(
    { ...base, output: join(work, "cut") },
    {
      callbacks: [
        {
          onLog: (t, rec) => {
            if (rec.step === 4) t.requestStop();
          },
        },
      ],
    },
  );
  const b = await pretrain({ ...base, output: join(work, "cut") }, { resume: true });
  assert.equal(b.train.globalStep, 8);
  const wa = loadSafetensors(join(a.runDir, "checkpoints", "step-8", "model.safetensors"));
  const wb = loadSafetensors(join(b.runDir, "checkpoints", "step-8", "model.safetensors"));
  for (const [k, t] of wa) assert.deepEqual(wb.get(k)!.toArray(), t.toArray(), k);
});

test("causal-LM pre-training of a GPT-2-style model with a byte-level BPE tokenizer", async () => {
  const r = await pretrain({
    objective: "clm",
    architecture: "gpt2",
    corpus: [join(work, "corpus.txt")],
    output: join(work, "clm"),
    preset: "tiny",
    vocabSize: 300,
    blockSize: 32,
    training: { ...small, maxSteps: 20 },
  });
  assert.ok(r.validation.perplexity < 300, `perplexity ${r.validation.perplexity}`);
});

test("bad corpora are refused clearly", async () => {
  await assert.rejects(
    pretrain({ corpus: [join(work, "nope")], output: join(work, "x") }),
    /corpus path does not exist/,
  );
  writeFileSync(join(work, "bad.jsonl"), '{"text": "fine"}\n{"body": 3}\n');
  await assert.rejects(
    pretrain({
      corpus: [join(work, "bad.jsonl")],
      output: join(work, "y"),
      vocabSize: 60,
      tokenizer: join(work, "mlm", "tokenizer"),
    }),
    /bad\.jsonl, line 2, field "text"/,
  );
});

test("a new pretrain run refuses a used --output, overwrite starts over; resume refuses a changed corpus", async () => {
  const { appendFileSync, copyFileSync, readFileSync } = await import("node:fs");
  const text = join(work, "corpus-resume.txt");
  copyFileSync(join(work, "corpus.txt"), text);
  const base = { corpus: [text], preset: "tiny" as const, vocabSize: 100, blockSize: 32, training: small };
  const out = join(work, "reuse");
  await pretrain({ ...base, output: out });
  await assert.rejects(pretrain({ ...base, output: out }), (e: Error & { hint?: string }) => {
    assert.match(e.message, /the run directory .*reuse is not empty/);
    assert.match(e.hint ?? "", /graft pretrain --resume .*reuse; start over with --overwrite/);
    return true;
  });
  const r = await pretrain({ ...base, output: out }, { overwrite: true });
  assert.equal(r.train.globalStep, 8);
  const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).step);
  assert.equal(steps.filter((s) => s === 2).length, 1); // one run's records, not two
  appendFileSync(text, "one more line about the cat.\n");
  await assert.rejects(
    pretrain({ ...base, output: out }, { resume: true }),
    /cannot resume .*: the data changed since the run started: corpus file .*corpus-resume\.txt changed/,
  );
});

test("a pretrain run whose corpus is refused leaves no run directory", async () => {
  writeFileSync(join(work, "empty.txt"), "\n");
  await assert.rejects(
    pretrain({
      corpus: [join(work, "empty.txt")],
      vocabSize: 60,
      tokenizer: join(work, "mlm", "tokenizer"),
      output: join(work, "left"),
    }),
  );
  assert.ok(!existsSync(join(work, "left")));
});
