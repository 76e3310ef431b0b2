"""Peer timings for bench/embed.ts: transformers (mean-pooled sentence embeddings, torch CPU), scikit-learn's KMeans
(Lloyd, fixed iterations) and numpy brute-force top-k search. Prints one JSON object.

usage: python bench/embed_peer.py embed MODEL_DIR TEXTS_FILE BATCH THREADS
       python bench/embed_peer.py vectors N D K ITERS QUERIES TOPK THREADS
"""
import json
import sys
import time


def embed(model_dir, texts_file, batch, threads):
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(threads)
    texts = [l.rstrip("\n") for l in open(texts_file, encoding="utf-8")]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, len(texts), batch):
            enc = tok(texts[s : s + batch], padding=True, truncation=True, max_length=128, return_tensors="pt")
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            v = (h * m).sum(1) / m.sum(1)
            torch.nn.functional.normalize(v, dim=-1)
    dt = time.perf_counter() - t0
    print(json.dumps({"texts": len(texts), "seconds": dt, "torch": torch.__version__}))


def vectors(n, d, k, iters, queries, topk, threads):
    import os

    os.environ["OMP_NUM_THREADS"] = str(threads)
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)).astype(np.float32)
    q = rng.standard_normal((queries, d)).astype(np.float32)
    with threadpool_limits(threads):
        t0 = time.perf_counter()
        km = KMeans(n_clusters=k, n_init=1, max_iter=iters, tol=0, algorithm="lloyd", random_state=0).fit(x)
        kt = time.perf_counter() - t0
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        t0 = time.perf_counter()
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        for s in range(0, queries, 256):
            sims = qn[s : s + 256] @ xn.T
            idx = np.argpartition(-sims, topk, axis=1)[:, :topk]
            np.take_along_axis(sims, idx, 1).argsort(axis=1)
        st = time.perf_counter() - t0
    print(
        json.dumps(
            {"kmeansSeconds": kt, "kmeansIters": int(km.n_iter_), "searchSeconds": st, "sklearn": sklearn.__version__}
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "embed":
        embed(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        vectors(*[int(a) for a in sys.argv[2:9]])
