"""Peer of bench/recommend.ts: the same algorithms in numpy (no implicit, no scikit-learn here).

Reads the same interactions and prints JSON timings: ItemKNN fit (dense co-occurrence XᵀX, cosine with shrinkage,
top-k neighbours), one implicit-ALS iteration (per-row np.linalg.solve with the YᵀY trick, float64), and top-10 for
all users from factor matrices by blocked matmul + argpartition, seen items excluded.

  /work/venv/bin/python bench/recommend_peer.py --data ../shared/datasets/movielens_100k/u.data --threshold 4
"""
import argparse
import json
import time

import numpy as np


def read(path, threshold):
    a = np.loadtxt(path, dtype=np.float64, usecols=(0, 1, 2))
    users, u = np.unique(a[:, 0], return_inverse=True)
    items, i = np.unique(a[:, 1], return_inverse=True)
    keep = a[:, 2] >= threshold
    return len(users), len(items), u[keep], i[keep], u, i


def itemknn(nU, nI, u, i, k=100, shrink=10.0):
    X = np.zeros((nU, nI), dtype=np.float32)
    X[u, i] = 1
    co = X.T @ X
    n = np.sqrt(np.diag(co))
    np.fill_diagonal(co, 0)
    s = co / (n[:, None] * n[None, :] + shrink)
    top = np.argpartition(-s, min(k, nI - 1), axis=1)[:, :k]
    return top


def als_half(rows_items, fixed, alpha=10.0, reg=0.1):
    d = fixed.shape[1]
    gram = fixed.T @ fixed
    out = np.zeros((len(rows_items), d))
    for r, its in enumerate(rows_items):
        Y = fixed[its]
        A = gram + alpha * (Y.T @ Y) + reg * np.eye(d)
        b = (1 + alpha) * Y.sum(axis=0)
        out[r] = np.linalg.solve(A, b)
    return out


def topk_all(U, V, k, seen=None, block=64):
    out = np.empty((U.shape[0], k), dtype=np.int64)
    for s in range(0, U.shape[0], block):
        S = U[s : s + block] @ V.T
        if seen is not None:
            for b in range(S.shape[0]):
                S[b, seen[s + b]] = -np.inf
        part = np.argpartition(-S, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(S, part, axis=1), axis=1)
        out[s : s + block] = np.take_along_axis(part, order, axis=1)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data")
    p.add_argument("--threshold", type=float, default=4)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--items", type=int, default=100000)
    a = p.parse_args()
    res = {"numpy": np.__version__}
    rng = np.random.default_rng(0)
    if a.data:
        nU, nI, u, i, _, _ = read(a.data, a.threshold)
        t = time.perf_counter()
        itemknn(nU, nI, u, i)
        res["ml_itemknn_ms"] = (time.perf_counter() - t) * 1000
        by_user = [[] for _ in range(nU)]
        by_item = [[] for _ in range(nI)]
        for uu, ii in zip(u, i):
            by_user[uu].append(ii)
            by_item[ii].append(uu)
        Y = rng.normal(0, 0.01, (nI, a.dim))
        t = time.perf_counter()
        X = als_half(by_user, Y)
        Y = als_half(by_item, X)
        res["ml_als_epoch_ms"] = (time.perf_counter() - t) * 1000
        seen = [np.array(s, dtype=np.int64) for s in by_user]
        U32, V32 = X.astype(np.float32), Y.astype(np.float32)
        t = time.perf_counter()
        topk_all(U32, V32, 10, seen)
        res["ml_top10_ms"] = (time.perf_counter() - t) * 1000
    U = rng.normal(size=(a.users, a.dim)).astype(np.float32)
    V = rng.normal(size=(a.items, a.dim)).astype(np.float32)
    t = time.perf_counter()
    topk_all(U, V, 10)
    res["synthetic_top10_ms"] = (time.perf_counter() - t) * 1000
    print(json.dumps(res))


main()
