// TF-IDF baseline of the paired search measure in docs/content.md: fit TF-IDF on the documents, embed the queries
// with it, exact cosine search (sparse: an inverted index over the documents' terms); recall@k and MRR@k where
// query i's match is document i.
// usage: node scripts/content/tfidf-search.mjs DOCS.tsv QUERIES.tsv [K]   (after npx tsc; reads dist/)
import { readExamples, TfidfVectorizer, stopWords } from "../../dist/src/data/index.js";

const [docsFile, queriesFile, kArg] = process.argv.slice(2);
const k = Number(kArg ?? 10);
const docs = (await readExamples(docsFile)).examples.map((e) => e.text);
const queries = (await readExamples(queriesFile)).examples.map((e) => e.text);
const tfidf = new TfidfVectorizer({ stopWords: stopWords("en"), sublinearTf: true });
const D = tfidf.fitTransform(docs); // rows L2-normalized: a dot product is the cosine
const Q = tfidf.transform(queries);
// inverted index: term → (document, weight)
const postings = Array.from({ length: D.cols }, () => []);
for (let i = 0; i < D.rows; i++)
  for (let p = D.indptr[i]; p < D.indptr[i + 1]; p++) postings[D.indices[p]].push([i, D.data[p]]);
const hits = [];
const scores = new Float64Array(D.rows);
for (let q = 0; q < Q.rows; q++) {
  scores.fill(0);
  for (let p = Q.indptr[q]; p < Q.indptr[q + 1]; p++)
    for (const [i, w] of postings[Q.indices[p]]) scores[i] += w * Q.data[p];
  // ties (e.g. a query with no known term) rank by document index, as the exact search does
  const order = Array.from({ length: D.rows }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  hits.push(order.slice(0, k).map((index) => ({ index, score: scores[index] })));
}
let found = 0;
let rr = 0;
hits.forEach((list, i) => {
  const r = list.findIndex((h) => h.index === i);
  if (r >= 0) {
    found++;
    rr += 1 / (r + 1);
  }
});
console.log(
  `${queries.length} paired queries, TF-IDF: recall@${k} ${(found / queries.length).toFixed(4)}, MRR@${k} ${(rr / queries.length).toFixed(4)}`,
);
