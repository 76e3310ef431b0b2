"""The peer of bench/attention.ts: torch.nn.functional.scaled_dot_product_attention on the CPU at one length.
Run as the benchmark does:  PYTHON bench/attention.py T BATCH HEADS DIM CAUSAL REPS THREADS
Prints one JSON line: forward and forward+backward milliseconds (medians) and the peak RSS growth in MB."""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main():
    t, b, h, d, causal, reps, threads = (int(x) for x in sys.argv[1:8])
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    q, k, v, dout = (torch.randn(b, h, t, d, generator=g) for _ in range(4))
    base = rss_mb()

    def forward():
        with torch.no_grad():
            return F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))

    def train():
        qq, kk, vv = (x.clone().requires_grad_(True) for x in (q, k, v))
        F.scaled_dot_product_attention(qq, kk, vv, is_causal=bool(causal)).backward(dout)
        return qq.grad

    def timed(fn):
        fn()
        ms = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1000)
        return sorted(ms)[len(ms) // 2]

    fwd = timed(forward)
    trn = timed(train)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": f"torch {torch.__version__}", "T": t, "forward_ms": fwd, "train_ms": trn,
                      "peak_mb": max(0.0, peak - base)}))


if __name__ == "__main__":
    main()
