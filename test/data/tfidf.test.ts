import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { TfidfVectorizer, type TfidfOptions } from "../../src/data/features/tfidf.js";
import type { CsrMatrix } from "../../src/data/features/sparse.js";
import { fixture } from "./fixtures.js";

interface Csr {
  indptr: number[];
  indices: number[];
  data: number[];
}
interface Case {
  name: string;
  corpus: string;
  options: TfidfOptions;
  vocabulary: string[];
  idf: number[] | null;
  fit: Csr;
  transform: Csr;
}
const FIX = JSON.parse(readFileSync(fixture("tfidf_sklearn.json"), "utf8")) as {
  corpora: Record<string, string[]>;
  held_out: string[];
  cases: Case[];
};

function assertCsrClose(got: CsrMatrix, want: Csr, what: string): void {
  assert.deepEqual(Array.from(got.indptr), want.indptr, `${what}: row pointers`);
  assert.deepEqual(Array.from(got.indices), want.indices, `${what}: column indices`);
  for (let k = 0; k < want.data.length; k++) {
    const a = got.data[k]!,
      b = want.data[k]!;
    assert.ok(
      Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)),
      `${what}: value ${k} is ${a}, scikit-learn has ${b}`,
    );
  }
}

for (const c of FIX.cases) {
  test(`TF-IDF equals scikit-learn 1.2: ${c.name}`, () => {
    const v = new TfidfVectorizer(c.options);
    const x = v.fitTransform(FIX.corpora[c.corpus]!);
    assert.deepEqual(v.vocabulary, c.vocabulary);
    if (c.idf === null) assert.equal(v.idf, undefined);
    else
      for (let j = 0; j < c.idf.length; j++)
        assert.ok(Math.abs(v.idf![j]! - c.idf[j]!) <= 1e-13 * c.idf[j]!, `idf of "${c.vocabulary[j]}"`);
    assertCsrClose(x, c.fit, "fit_transform");
    assertCsrClose(v.transform(FIX.held_out), c.transform, "transform");
  });
}

test("a saved vectorizer transforms exactly like the fitted one", () => {
  const c = FIX.cases.find((k) => k.name === "max_features_ties")!;
  const v = new TfidfVectorizer(c.options);
  v.fit(FIX.corpora[c.corpus]!);
  const back = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
  assert.deepEqual(back.transform(FIX.held_out), v.transform(FIX.held_out));
});

test("bad options and degenerate corpora fail with the option named", () => {
  assert.throws(() => new TfidfVectorizer({ minDf: 1.5 }), /minDf must be a fraction in \(0, 1\] or a whole number/);
  assert.throws(() => new TfidfVectorizer({ ngramRange: [2, 1] }), /ngram range/);
  assert.throws(() => new TfidfVectorizer({ tokenPattern: "(a)(b)" }), /2 capture groups/);
  assert.throws(() => new TfidfVectorizer().fit(["a", "b", "!"]), /empty vocabulary/);
  assert.throws(() => new TfidfVectorizer({ minDf: 2 }).fit(["aa bb", "cc dd"]), /no terms remain/);
  assert.throws(
    () => new TfidfVectorizer({ minDf: 3, maxDf: 0.5 }).fit(["aa bb"]),
    /maxDf \(0.5\) keeps fewer documents than minDf \(3\)/,
  );
});
