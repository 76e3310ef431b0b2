/** The seq2seq task kind without a model: reading parallel files and columns, errors, truncation, loss, metrics. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor, logSoftmax } from "../../src/tensor/index.js";
import { trainTokenizer, type Tokenizer } from "../../src/tokenizers/index.js";
import { resolveFinetuneConfig, taskSpec } from "../../src/tasks/index.js";
import {
  generationMetrics,
  seq2seqLoss,
  targetLabels,
  type Seq2SeqTarget,
} from "../../src/tasks/kinds/seq2seq/index.js";
import { holdOut } from "../../src/tasks/kinds/seq2seq/data.js";

const work = mkdtempSync(join(tmpdir(), "graft-s2s-data-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const at = (name: string, text: string) => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};

const EN = ["a man rides a horse .", "two dogs play in the snow .", "a girl reads a book .", "people walk in a park ."];
const DE = [
  "ein mann reitet ein pferd .",
  "zwei hunde spielen im schnee .",
  "ein mädchen liest ein buch .",
  "leute gehen in einem park .",
];

let tokPromise: Promise<Tokenizer> | null = null;
function tokenizer(): Promise<Tokenizer> {
  tokPromise ??= (async () => {
    const corpus = at("corpus.txt", `${[...EN, ...DE].join("\n")}\n`.repeat(10));
    const tok = await trainTokenizer(corpus, join(work, "tok"), {
      type: "bpe",
      vocabSize: 300,
      specialTokens: ["</s>", "<pad>"],
    });
    return tok;
  })();
  return tokPromise;
}

async function prepare(over: Record<string, unknown>) {
  const tok = await tokenizer();
  const config = resolveFinetuneConfig({ model: "unused", task: "seq2seq", ...over } as never);
  return taskSpec("seq2seq").prepare({ config, tokenizer: tok, seed: 0 });
}

test("parallel files by prefix and language: pairs in order, prefix before each source, EOS last", async () => {
  const base = join(work, "train");
  writeFileSync(`${base}.en`, `${EN.join("\n")}\n`);
  writeFileSync(`${base}.de`, `${DE.join("\n")}\n`);
  const data = await prepare({
    data: base,
    validation: base,
    sourceLang: "en",
    targetLang: "de",
    sourcePrefix: "translate English to German: ",
  });
  const tok = await tokenizer();
  const eos = tok.eosTokenId!;
  assert.equal(data.train.rows.length, 4);
  assert.deepEqual(data.train.inputs, EN);
  const targets = data.train.targets as Seq2SeqTarget[];
  assert.deepEqual(
    targets.map((t) => t.text),
    DE,
  );
  for (let i = 0; i < 4; i++) {
    const src = data.train.rows[i].ids;
    assert.equal(src[src.length - 1], eos);
    assert.equal(targets[i].ids[targets[i].ids.length - 1], eos);
    assert.equal(tok.decodeSync(src, { skipSpecialTokens: true }), `translate English to German: ${EN[i]}`);
    assert.equal(tok.decodeSync(targets[i].ids, { skipSpecialTokens: true }), DE[i]);
  }
  assert.equal(data.testSplit, "validation");
});

test("a TSV/JSONL with source and target columns (or columns named by the languages)", async () => {
  const tsv = at("pairs.tsv", `source\ttarget\n${EN.map((e, i) => `${e}\t${DE[i]}`).join("\n")}\n`);
  const data = await prepare({ data: tsv, validation: tsv });
  assert.deepEqual(
    (data.validation.targets as Seq2SeqTarget[]).map((t) => t.text),
    DE,
  );
  const jsonl = at("pairs.jsonl", `${EN.map((e, i) => JSON.stringify({ en: e, de: DE[i] })).join("\n")}\n`);
  const j = await prepare({ data: jsonl, validation: jsonl, sourceLang: "en", targetLang: "de" });
  assert.deepEqual(j.train.inputs, EN);
});

test("bad input: each a clear message naming the file and line", async () => {
  const w = (name: string, lines: string[]) => at(name, `${lines.join("\n")}\n`);
  w("mis.en", EN);
  w("mis.de", DE.slice(0, 3));
  await assert.rejects(prepare({ data: join(work, "mis"), sourceLang: "en", targetLang: "de" }), (e: Error) => {
    assert.match(e.message, /mis\.en, line 4: misaligned parallel files: .*mis\.de ends after 3 lines/);
    return true;
  });
  w("empty.en", EN);
  w("empty.de", [DE[0], "", DE[2], DE[3]]);
  await assert.rejects(
    prepare({ data: join(work, "empty"), sourceLang: "en", targetLang: "de" }),
    /empty\.de, line 2: empty target line/,
  );
  w("nosrc.en", [EN[0], " ", EN[2], EN[3]]);
  w("nosrc.de", DE);
  await assert.rejects(
    prepare({ data: join(work, "nosrc"), sourceLang: "en", targetLang: "de" }),
    /nosrc\.en, line 2: empty source line/,
  );
  const tsv = at("bad.tsv", `source\ttarget\n${EN[0]}\t${DE[0]}\n${EN[1]}\t\n`);
  await assert.rejects(prepare({ data: tsv }), /bad\.tsv, line 3, field "target"/);
  const jsonl = at(
    "bad.jsonl",
    `${JSON.stringify({ source: EN[0], target: DE[0] })}\n${JSON.stringify({ target: "x" })}\n`,
  );
  await assert.rejects(prepare({ data: jsonl }), /bad\.jsonl, line 2, field "source": missing field/);
  await assert.rejects(
    prepare({ data: join(work, "nothing"), sourceLang: "en", targetLang: "de" }),
    /no data at .*nothing/,
  );
  w("half.en", EN);
  await assert.rejects(
    prepare({ data: join(work, "half"), sourceLang: "en", targetLang: "de" }),
    /the parallel file .*half\.de does not exist/,
  );
  await assert.rejects(prepare({ data: tsv, sourceLang: "en" }), /--source-lang and --target-lang go together/);
});

test("targets longer than --max-target-length are cut (EOS kept) with a warning counting them and naming lines", async () => {
  const base = join(work, "long");
  const long = "ein sehr langer satz mit vielen vielen wörtern der nicht passt und immer weiter geht .";
  writeFileSync(`${base}.en`, `${EN.join("\n")}\n`);
  writeFileSync(`${base}.de`, `${[DE[0], long, DE[2], long].join("\n")}\n`);
  const tok = await tokenizer();
  // a limit that every short target fits (EOS included) and the long one does not
  const limit = Math.max(...(await tok.encodeBatch(DE)).inputIds.map((ids) => ids.length)) + 1;
  const data = await prepare({
    data: base,
    validation: base,
    sourceLang: "en",
    targetLang: "de",
    maxTargetLength: limit,
  });
  const eos = tok.eosTokenId!;
  const targets = data.train.targets as Seq2SeqTarget[];
  assert.equal(targets[1].ids.length, limit);
  assert.equal(targets[1].ids[limit - 1], eos);
  assert.equal(targets[0].ids.length, (await tok.encode(DE[0])).ids.length + 1);
  assert.equal(targets[1].text, long, "the reference text stays whole");
  const warnings = taskSpec("seq2seq").dataWarnings!(data);
  assert.ok(warnings.every((w) => w.startsWith("2 targets of ")));
  assert.ok(
    warnings.some((w) => w.includes(`long.de were longer than ${limit} tokens and were truncated (line 2, 4)`)),
    warnings.join("\n"),
  );
});

test("held-out validation is a seeded part of the training pairs", () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const a = holdOut(items, 0.1, 3),
    b = holdOut(items, 0.1, 3),
    c = holdOut(items, 0.1, 4);
  assert.equal(a.held.length, 10);
  assert.equal(a.train.length, 90);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.held, c.held);
  assert.deepEqual(
    [...a.train, ...a.held].sort((x, y) => x - y),
    items,
  );
});

test("the loss: token cross-entropy with label smoothing as torch's, -100 padding ignored", () => {
  // 2 targets of lengths 2 and 1 over a vocabulary of 3
  const targets: Seq2SeqTarget[] = [
    { ids: [2, 0], text: "" },
    { ids: [1], text: "" },
  ];
  const labels = targetLabels(targets);
  assert.deepEqual(Array.from(labels.toArray()), [2, 0, 1, -100]);
  const values = [0.5, -1, 2, 0.1, 0.2, 0.3, 1, 0, -1, 9, 9, 9];
  const logits = new Tensor(Float32Array.from(values), [2, 2, 3]);
  const eps = 0.1;
  const lp = logSoftmax(new Tensor(Float32Array.from(values), [4, 3])).toRows();
  // torch: (1 - ε) · nll + ε · mean over classes of -log p, averaged over the 3 real tokens
  let want = 0;
  [2, 0, 1].forEach((y, r) => {
    want += (1 - eps) * -lp[r][y] + (eps * -(lp[r][0] + lp[r][1] + lp[r][2])) / 3;
  });
  want /= 3;
  assert.ok(Math.abs(seq2seqLoss(logits, labels, eps).item() - want) < 1e-5);
  const plain = (-lp[0][2] - lp[1][0] - lp[2][1]) / 3;
  assert.ok(Math.abs(seq2seqLoss(logits, labels).item() - plain) < 1e-5);
});

test("generated text is scored with the metric registry: BLEU, chrF, TER, ROUGE", () => {
  const perfect = generationMetrics(DE, DE);
  assert.ok(Math.abs(perfect.bleu - 100) < 1e-9);
  assert.ok(Math.abs(perfect.chrf - 100) < 1e-9);
  assert.equal(perfect.ter, 0);
  assert.equal(perfect.rouge1, 1);
  const worse = generationMetrics(
    DE.map((s) => s.split(" ").reverse().join(" ")),
    DE,
  );
  assert.ok(worse.bleu < 20 && worse.ter > 0 && worse.rouge1 === 1 && worse.rougeL < 1, JSON.stringify(worse));
  assert.deepEqual(generationMetrics([], []), {});
});
