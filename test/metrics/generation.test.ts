/**
 * BLEU, chrF, TER against (1) the expected values in sacrebleu's own test suite (test_bleu.py,
 * test_sentence_bleu.py, test_chrf.py, test_ter.py, test_tokenizer_ter.py, sacrebleu 2.x) and
 * (2) sacrebleu itself run on the WMT17 sample and on synthetic edge cases
 * (scripts/fixtures/metrics/sacrebleu_reference.py → test/fixtures/metrics/sacrebleu.json).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  BLEU,
  CHRF,
  TER,
  corpusBleu,
  sentenceBleu,
  computeBleu,
  corpusChrf,
  sentenceChrf,
  corpusTer,
  sentenceTer,
  tercomTokenize,
  tokenize13a,
  tokenizeIntl,
  tokenizeChar,
  type BleuTokenizerName,
  type BleuOptions,
  type BleuScore,
  type ChrfOptions,
  type TerOptions,
} from "../../src/metrics/generation/index.js";
import { pyRstrip } from "../../src/util/pytext.js";
import { captureWarnings } from "../../src/metrics/warnings.js";
import { close, fixture } from "./helpers.js";

const near = (actual: number, expected: number, eps: number, msg: string) =>
  assert.ok(Math.abs(actual - expected) < eps, `${msg}: expected ${expected}, got ${actual}`);

// sacrebleu test_bleu.py: the README example with two reference streams
const REFS = [
  ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
  ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
];
const HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];

test("corpus BLEU reproduces sacrebleu's test suite", () => {
  near(corpusBleu(HYPS, REFS).score, 48.530827, 1e-8, "default");
  near(corpusBleu(["", "", ""], REFS).score, 0, 1e-8, "empty hypotheses");
  near(corpusBleu(HYPS, REFS, { tokenize: "none" }).score, 49.1919566, 1e-8, "tok none");
  near(corpusBleu(HYPS, REFS, { tokenize: "intl" }).score, 43.91623493, 1e-8, "tok intl");
  near(corpusBleu(HYPS, REFS, { smoothMethod: "none" }).score, 48.530827, 1e-8, "smooth none");
  near(
    corpusBleu(["this is a fest"], [["this is a test"]], { smoothMethod: "floor", smoothValue: 0.01 }).score / 100,
    0.223606797749979,
    1e-8,
    "floor",
  );
  near(
    corpusBleu(["this is a test", "another test"], [["ref1", "ref2"]], { smoothMethod: "floor", smoothValue: 0.01 })
      .score,
    0,
    1e-12,
    "no matches (#141)",
  );
  near(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100, 0.8375922397, 1e-8, "from statistics");
  const st = corpusBleu(["am I am a character sequence"], [["I am a symbol string sequence a a"]], {
    smoothMethod: "floor",
    smoothValue: 0.01,
  });
  assert.deepEqual(
    [st.counts, st.totals],
    [
      [4, 2, 1, 0],
      [6, 5, 4, 3],
    ],
  );
  // degenerate statistics (floor smoothing) all score exactly 0
  for (const [c, t, s, r, v] of [
    [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0],
    [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0],
    [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
    [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
  ] as [number[], number[], number, number, number][]) {
    assert.equal(computeBleu(c, t, s, r, { smoothMethod: "floor", smoothValue: v }).score, 0);
  }
});

test("sentence BLEU reproduces sacrebleu's test suite (smoothing, tokenizers, case)", () => {
  const REF = "producţia de zahăr brut se exprimă în zahăr alb;";
  const SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";
  const cases: [string, number | undefined, boolean, BleuTokenizerName, number][] = [
    ["exp", undefined, false, "13a", 8.493],
    ["none", undefined, false, "13a", 0.0],
    ["floor", undefined, false, "13a", 4.51688],
    ["floor", 0.1, false, "13a", 4.51688],
    ["floor", 0.5, false, "13a", 10.1],
    ["add-k", undefined, false, "13a", 14.882],
    ["add-k", 1, false, "13a", 14.882],
    ["add-k", 2, false, "13a", 21.389],
    ["exp", undefined, false, "none", 7.347],
    ["exp", undefined, false, "intl", 8.493],
    ["exp", undefined, false, "char", 40.8759],
    ["exp", undefined, true, "char", 42.0267],
  ];
  for (const [m, v, lc, tok, exp] of cases) {
    near(
      sentenceBleu(SYS, [REF], { smoothMethod: m as any, smoothValue: v, lowercase: lc, tokenize: tok }).score,
      exp,
      1e-3,
      `${m} ${v} ${tok} lc=${lc}`,
    );
  }
  for (const m of ["exp", "none", "floor", "add-k"] as const)
    assert.equal(sentenceBleu("this is a cat", ["okay thanks"], { smoothMethod: m }).score, 0);
  // effective order (test_case_effective_order, floor 0.01)
  near(
    sentenceBleu("test", ["a test"], { smoothMethod: "floor", smoothValue: 0.01 }).score / 100,
    0.3678794411714425,
    1e-8,
    "eff 1",
  );
  near(
    sentenceBleu("a little test", ["a test"], { smoothMethod: "floor", smoothValue: 0.01 }).score / 100,
    0.03218297948685433,
    1e-8,
    "eff 3",
  );
});

test("chrF and chrF++ reproduce sacrebleu's test suite", () => {
  const eps: [string[], string[], number][] = [
    [["abcdefg"], ["hijklmnop"], 0],
    [["a"], ["b"], 0],
    [[""], ["b"], 0],
    [[""], ["ref"], 0],
    [[""], ["reference"], 0],
    [["aa"], ["ab"], 8.3333],
    [["a", "b"], ["a", "c"], 8.3333],
    [["a"], ["a"], 16.6667],
    [["a b c"], ["a b c"], 50],
    [["a b c"], ["abc"], 50],
    [
      [
        " risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
      ],
      [
        "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
      ],
      63.36173,
    ],
    [
      [" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "],
      ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."],
      64.1302698,
    ],
    [["Niemand hat die Absicht, eine Mauer zu errichten"], ["Niemand hat die Absicht, eine Mauer zu errichten"], 100],
  ];
  for (const [h, r, e] of eps) near(corpusChrf(h, [r], { beta: 3, epsSmoothing: true }).score, e, 1e-4, `eps ${h}`);
  const eff: [string[], string[], number][] = [
    [["a"], ["a"], 100],
    [[""], ["reference"], 0],
    [["a b c"], ["a b c"], 100],
    [["a b c"], ["abc"], 100],
    [[""], ["c"], 0],
    [["a", "b"], ["a", "c"], 50],
    [["aa"], ["ab"], 25],
  ];
  for (const [h, r, e] of eff) near(corpusChrf(h, [r], { beta: 3 }).score, e, 1e-4, `effective order ${h}`);
  near(
    corpusChrf(
      ["Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."],
      [["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."]],
      { beta: 3, whitespace: true },
    ).score,
    67.3481606,
    1e-4,
    "whitespace 1",
  );
  near(
    corpusChrf(
      [
        "risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
      ],
      [
        [
          "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
        ],
      ],
      { beta: 3, whitespace: true },
    ).score,
    65.2414427,
    1e-4,
    "whitespace 2",
  );
  near(
    sentenceChrf(
      "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
      ["Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře."],
      { epsSmoothing: true },
    ).score,
    39.14078509,
    1e-4,
    "sentence 1",
  );
  near(
    sentenceChrf(
      "Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
      ["A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."],
      { epsSmoothing: true },
    ).score,
    31.22557079,
    1e-4,
    "sentence 2",
  );
  near(
    sentenceChrf(
      "Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
      ["Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli."],
      { epsSmoothing: true },
    ).score,
    57.15704367,
    1e-4,
    "sentence 3",
  );
});

test("TER and its tokenizer reproduce sacrebleu's test suite", () => {
  near(corpusTer(["aaaa bbbb cccc dddd"], [["aaaa bbbb cccc dddd"]]).score, 0, 1e-3, "perfect");
  near(corpusTer(["dddd eeee ffff"], [["aaaa bbbb cccc"]]).score, 100, 1e-3, "no overlap");
  near(corpusTer([""], [["a"]]).score, 100, 1e-3, "empty hypothesis");
  near(corpusTer(["d e f g h a b c"], [["a b c d e f g h"]]).score, 12.5, 1e-3, "one shift");
  const hyp = [
    'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel hinzuzufügen oder zu entfernen , damit das Bild ungefähr dieselbe Größe aufweist wie die andere Größe .',
    'wenn Sie alle Aufgaben im aktuellen Dokument aktualisieren möchten , wählen Sie im Menü des Aufgabenbedienfelds die Option " Alle Aufgaben aktualisieren . "',
    'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " Benutzerdefiniert " und geben Sie Werte für " Fehlerkorrektur-Level " und " Y / X-Verhältnis " ein .',
    "Sie können beispielsweise ein Dokument erstellen , das ein Auto über die Bühne enthält .",
    'wählen Sie im Dialogfeld " Neu aus Vorlage " eine Vorlage aus und klicken Sie auf " Neu . "',
  ];
  const ref = [
    'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel hinzuzufügen oder zu entfernen , damit die Darstellung des Bildes in einer anderen Größe beibehalten wird .',
    'wenn Sie alle Aufgaben im aktuellen Dokument aktualisieren möchten , wählen Sie im Menü des Aufgabenbedienfelds die Option " Alle Aufgaben aktualisieren . "',
    'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " Benutzerdefiniert " und geben Sie für " Fehlerkorrektur-Level " und " Y / X-Verhältnis " niedrigere Werte ein .',
    "Sie können beispielsweise ein Dokument erstellen , das ein Auto enthalt , das sich über die Bühne bewegt .",
    'wählen Sie im Dialogfeld " Neu aus Vorlage " eine Vorlage aus und klicken Sie auf " Neu . "',
  ];
  near(corpusTer(hyp, [ref]).score, 13.6, 1e-3, "WMT dev example");
  const cases: [string, string, object][] = [
    ["a b c d", "a b c d", {}],
    ["", "", {}],
    ["a b c d.", "a b c d.", {}],
    ["A B C D.", "a b c d.", {}],
    ["a b c d.", "a b c d", { noPunct: true }],
    ["A ; B ) C : D.", "a b c d", { noPunct: true }],
    ["a b (c) d.", "a b ( c ) d .", { normalized: true }],
    ["Jim's car.", "jim 's car .", { normalized: true }],
    ["4.2", "4.2", { normalized: true }],
    ["美众院公布对特", "美 众 院 公 布 对 特", { normalized: true, asianSupport: true }],
    ["りの拳銃を持", "りの 拳 銃 を 持", { normalized: true, asianSupport: true }],
  ];
  for (const [input, expected, o] of cases)
    assert.equal(tercomTokenize(input, o), expected, JSON.stringify([input, o]));
});

test("signatures follow sacrebleu's format", () => {
  const b = new BLEU();
  b.corpusScore(HYPS, REFS);
  assert.equal(b.signature(), "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  assert.equal(b.signature(true), "#:2|c:mixed|e:no|tok:13a|s:exp|v:2.6.0");
  const f = new BLEU({ smoothMethod: "floor", lowercase: true, effectiveOrder: true, tokenize: "intl" });
  // a missing reference (null) makes the count variable; an empty string is a reference
  f.corpusScore(HYPS, [REFS[0]!, [null as unknown as string, "x", null as unknown as string]]);
  assert.equal(f.signature(), "nrefs:var|case:lc|eff:yes|tok:intl|smooth:floor[0.10]|version:2.6.0");
  f.corpusScore(HYPS, [REFS[0]!, ["", "x", ""]]);
  assert.equal(f.signature(), "nrefs:2|case:lc|eff:yes|tok:intl|smooth:floor[0.10]|version:2.6.0");
  const c = new CHRF({ wordOrder: 2 });
  assert.equal(c.corpusScore(HYPS, REFS).name, "chrF2++");
  assert.equal(c.signature(), "nrefs:2|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0");
  const t = new TER();
  t.corpusScore(HYPS, REFS);
  assert.equal(t.signature(), "nrefs:2|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0");
  assert.match(
    corpusBleu(HYPS, REFS).format(1),
    /^BLEU = 48\.5 \d+\.\d\/\d+\.\d\/\d+\.\d\/\d+\.\d \(BP = \d\.\d{3} ratio = \d\.\d{3} hyp_len = \d+ ref_len = \d+\)$/,
  );
});

const sb = fixture("sacrebleu.json");
const DATA = "/work/shared/datasets/wmt17_en_de_sample";
const hasData = (() => {
  try {
    readFileSync(`${DATA}/newstest2017.ref.de`);
    return true;
  } catch {
    return false;
  }
})();

/** Lines as sacrebleu's CLI reads them: split on \n, Python-rstripped (the BOM of online-A stays). */
function lines(name: string): string[] {
  const out = readFileSync(`${DATA}/newstest2017.${name}.de`, "utf8").split("\n");
  if (out[out.length - 1] === "") out.pop();
  return out.slice(0, sb.segments).map(pyRstrip);
}

const BLEU_CONFIGS: Record<string, BleuOptions> = {
  default: {},
  intl: { tokenize: "intl" },
  char: { tokenize: "char" },
  none: { tokenize: "none" },
  lc: { lowercase: true },
  floor: { smoothMethod: "floor" },
  "add-k": { smoothMethod: "add-k", smoothValue: 2 },
  nosmooth: { smoothMethod: "none" },
  eff: { effectiveOrder: true },
  order2: { maxNgramOrder: 2 },
};
const CHRF_CONFIGS: Record<string, ChrfOptions> = {
  default: {},
  pp: { wordOrder: 2 },
  eps: { epsSmoothing: true },
  ws: { whitespace: true },
  lc: { lowercase: true },
  beta1: { beta: 1 },
  c4w1: { charOrder: 4, wordOrder: 1 },
};
const TER_CONFIGS: Record<string, TerOptions> = {
  default: {},
  cased: { caseSensitive: true },
  norm: { normalized: true },
  nopunct: { noPunct: true },
  norm_nopunct_cased: { normalized: true, noPunct: true, caseSensitive: true },
};

/** Scores one configuration and compares score, statistics and signature with sacrebleu's. */
function compare(
  kind: "bleu" | "chrf" | "ter",
  config: string,
  hyps: string[],
  refs: string[][],
  ref: any,
  msg: string,
): void {
  const metric =
    kind === "bleu"
      ? new BLEU(BLEU_CONFIGS[config])
      : kind === "chrf"
        ? new CHRF(CHRF_CONFIGS[config])
        : new TER(TER_CONFIGS[config]);
  const stats = metric.segmentStats(hyps, refs);
  const width = stats[0]!.length;
  const sum = new Float64Array(width);
  for (const s of stats) for (let j = 0; j < width; j++) sum[j] += s[j]!;
  const score = metric.scoreFromStats(sum);
  close(score.score, ref.score, `${msg}: score`);
  assert.equal(metric.signature(), ref.signature, `${msg}: signature`);
  assert.equal(metric.signature(true), ref.short, `${msg}: short signature`);
  if (kind === "bleu") {
    const b = score as BleuScore;
    close(
      [b.counts, b.totals, b.sysLen, b.refLen, b.bp],
      [ref.counts, ref.totals, ref.sysLen, ref.refLen, ref.bp],
      `${msg}: statistics`,
    );
  }
  if (ref.segments)
    close(
      stats.map((s) => Array.from(s)),
      ref.segments,
      `${msg}: segment statistics`,
    );
}

test("tokenizers agree with sacrebleu's (Python re/regex, str.split semantics)", () => {
  const fns: Record<string, (s: string) => string> = { "13a": tokenize13a, intl: tokenizeIntl, char: tokenizeChar };
  for (const [input, expected] of Object.entries(sb.tokens as Record<string, Record<string, string>>)) {
    for (const name of ["13a", "intl", "char"])
      assert.equal(fns[name]!(input), expected[name], `${name}: ${JSON.stringify(input)}`);
  }
});

for (const system of ["uedin-nmt", "online-A", "KIT"]) {
  test(`WMT17 sample, ${system}: BLEU, chrF, TER in every configuration equal sacrebleu's`, {
    skip: !hasData && "WMT17 sample not present",
  }, () => {
    const ref = lines("ref"),
      hyp = lines(system);
    const others = ["uedin-nmt", "online-A", "KIT"].filter((s) => s !== system).map(lines);
    const r = sb.systems[system];
    for (const config of Object.keys(BLEU_CONFIGS))
      compare("bleu", config, hyp, [ref], r[`bleu_${config}`], `BLEU ${config}`);
    for (const config of Object.keys(CHRF_CONFIGS))
      compare("chrf", config, hyp, [ref], r[`chrf_${config}`], `chrF ${config}`);
    compare("ter", "default", hyp, [ref], r.ter_default, "TER");
    for (const config of Object.keys(TER_CONFIGS).filter((c) => c !== "default"))
      compare("ter", config, hyp.slice(0, 80), [ref.slice(0, 80)], r[`ter_${config}`], `TER ${config}`);
    compare("bleu", "default", hyp, [ref, ...others], r.bleu_multiref, "BLEU 3 references");
    compare("chrf", "pp", hyp, [ref, ...others], r.chrf_multiref, "chrF++ 3 references");
    compare(
      "ter",
      "default",
      hyp.slice(0, 80),
      [ref.slice(0, 80), others[0]!.slice(0, 80)],
      r.ter_multiref,
      "TER 2 references",
    );
    compare(
      "bleu",
      "default",
      hyp,
      // null is a missing reference (nrefs:var); an empty string is an empty reference (see "empty reference lines")
      [ref, others[0]!.map((o, i) => (i % 3 ? o : (null as unknown as string)))],
      r.bleu_varref,
      "BLEU variable references",
    );
    close(
      hyp.map((h, i) => sentenceBleu(h, [ref[i]!]).score),
      r.sentence_bleu,
      "sentence BLEU",
    );
    close(
      hyp.map((h, i) => sentenceChrf(h, [ref[i]!]).score),
      r.sentence_chrf,
      "sentence chrF",
    );
    close(
      hyp.slice(0, 50).map((h, i) => sentenceTer(h, [ref[i]!]).score),
      r.sentence_ter,
      "sentence TER",
    );
  });
}

test("synthetic edge cases (empty and blank lines, punctuation, numbers, Unicode, repeats) equal sacrebleu's", () => {
  for (const c of sb.edge) {
    for (const key of Object.keys(c).filter((k) => k.includes("_"))) {
      const [kind, config] = key.split("_") as ["bleu" | "chrf" | "ter", string];
      compare(kind, config, c.hyps, c.refs, c[key], `${JSON.stringify(c.hyps)} ${key}`);
    }
  }
});

test("empty reference lines are scored as sacrebleu scores them, not refused", () => {
  // BLEU: no matches and reference length 0; TER: every hypothesis word an edit against length 0; chrF: no statistics
  for (const c of sb.empty) {
    const what = JSON.stringify(c.refs).slice(0, 80);
    for (const key of Object.keys(c).filter((k) => /^(bleu|chrf|ter)_/.test(k))) {
      const [kind, config] = key.split("_") as ["bleu" | "chrf" | "ter", string];
      compare(kind, config, c.hyps, c.refs, c[key], `${what} ${key}`);
    }
    const refsOf = (i: number) => c.refs.map((r: string[]) => r[i]!);
    close(
      c.hyps.map((h: string, i: number) => sentenceBleu(h, refsOf(i)).score),
      c.sentence_bleu,
      `${what} sentence BLEU`,
      1e-9,
    );
    close(
      c.hyps.map((h: string, i: number) => sentenceChrf(h, refsOf(i)).score),
      c.sentence_chrf,
      `${what} sentence chrF`,
      1e-9,
    );
    close(
      c.hyps.map((h: string, i: number) => sentenceTer(h, refsOf(i)).score),
      c.sentence_ter,
      `${what} sentence TER`,
      1e-9,
    );
  }
  // the arithmetic, by hand: "a b c" matches its reference, "x y" (2 words) has an empty one
  const ter = corpusTer(["a b c", "x y"], [["a b c", ""]]);
  assert.deepEqual([ter.numEdits, ter.refLength], [2, 3]);
  close(ter.score, (100 * 2) / 3);
  const bleu = corpusBleu(["a b c", "x y"], [["a b c", ""]]);
  assert.deepEqual([bleu.counts, bleu.totals, bleu.sysLen, bleu.refLen], [[3, 2, 1, 0], [5, 3, 1, 0], 5, 3]);
  close(corpusChrf(["a b c", "x y"], [["a b c", ""]]).score, 100);
});

test("edge cases: empty hypotheses, empty references, line count mismatches, tokenized input", () => {
  // an empty hypothesis has no n-grams: BLEU 0 with brevity penalty 0
  const e = corpusBleu([""], [["a b c"]]);
  assert.deepEqual([e.score, e.bp, e.sysLen, e.refLen], [0, 0, 0, 3]);
  // brevity penalty exp(1 - r/c) when the hypothesis is shorter than the closest reference
  const bp = corpusBleu(["a b c d"], [["a b c d e f"]]);
  close(bp.bp, Math.exp(1 - 6 / 4));
  // closest reference length, the shorter one on a tie
  assert.equal(corpusBleu(["a b c d"], [["a b c"], ["a b c d e"]]).refLen, 3);
  assert.throws(() => corpusBleu(["a", "b"], [["a"]]), /2 hypotheses but reference stream 1 has 1 segments/);
  assert.throws(() => corpusBleu(["a"], [[null as unknown as string]]), /segment 1 has no reference/);
  assert.throws(() => corpusChrf(["a"], ["a"] as any), /list of reference streams/);
  const lines = Array.from({ length: 120 }, (_, i) => `word${i} .`);
  const { warnings } = captureWarnings(() => corpusBleu(lines, [lines]));
  assert.match(warnings[0]!, /tokenized period/);
  assert.deepEqual(captureWarnings(() => corpusBleu(lines, [lines], { force: true })).warnings, []);
  // TER of an empty reference: every hypothesis word is an edit, score 100 (or 0 if both empty)
  assert.equal(new TER().scoreFromStats([3, 0]).score, 100);
  assert.equal(new TER().scoreFromStats([0, 0]).score, 0);
});
