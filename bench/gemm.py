"""numpy's side of `npm run bench -- gemm`: times float32 matrix products on request, so both engines are
measured in the same run, interleaved. Protocol (stdin/stdout, one JSON object per line):
  startup  -> {"numpy": version, "blas": "OpenBLAS 0.3.x ...", "threads": ...}
  request  <- {"m": M, "k": K, "n": N, "transA": bool, "transB": bool, "samples": S, "minTime": seconds}
  reply    -> {"times": [seconds per call, one per sample]}
Operands are stored as graft stores them (A [k, m] when transA, B [n, k] when transB) and passed to BLAS as
transposed views (a.T), which numpy hands to sgemm as transpose flags without copying.
"""
import json
import sys
import time

import numpy as np


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception:  # older numpy: no dict mode
        return "unknown"


def main():
    rng = np.random.default_rng(0)
    cache = {}
    print(json.dumps({"numpy": np.__version__, "blas": blas_name()}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        m, k, n, ta, tb = req["m"], req["k"], req["n"], req["transA"], req["transB"]
        key = (m, k, n, ta, tb)
        if key not in cache:
            a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
            cache.clear()  # keep one shape's operands alive at a time
            cache[key] = (a.T if ta else a, b.T if tb else b, np.empty((m, n), dtype=np.float32))
        a, b, c = cache[key]
        np.matmul(a, b, out=c)  # warm-up
        # calls per sample so each sample lasts at least minTime
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        one = max(time.perf_counter() - t0, 1e-7)
        calls = max(1, int(req["minTime"] / one))
        times = []
        for _ in range(req["samples"]):
            t0 = time.perf_counter()
            for _ in range(calls):
                np.matmul(a, b, out=c)
            times.append((time.perf_counter() - t0) / calls)
        print(json.dumps({"times": times}), flush=True)


if __name__ == "__main__":
    main()
