"""The same BERT-style classifier as bench/train-step.ts in plain torch.nn, for a side-by-side measurement.
Run as the benchmark does: OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=passive /usr/bin/python3 bench/train_step.py SIZE [STEPS] [fp32|bf16]
Prints one JSON line: median train-step ms, training and inference tokens/s, peak RSS. With bf16, forward passes and
losses run under torch.autocast('cpu', dtype=torch.bfloat16) (weights and optimizer state stay fp32), as in a
mixed-precision training loop."""
import contextlib
import json
import resource
import sys
import time

import torch
from torch import nn

SIZES = {"tiny": (2, 128, 2, 512, 16), "mini": (6, 384, 12, 1536, 16), "base": (12, 768, 12, 3072, 8)}
VOCAB, SEQ, INFER_BATCH = 30522, 128, 32


class Classifier(nn.Module):
    def __init__(self, layers, hidden, heads, ffn):
        super().__init__()
        self.word = nn.Embedding(VOCAB, hidden)
        self.pos = nn.Embedding(512, hidden)
        self.types = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(hidden, heads, ffn, dropout=0.1, activation="gelu", batch_first=True, layer_norm_eps=1e-12)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, 2)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        h = self.drop(self.norm(self.word(ids) + self.pos(pos) + self.types(torch.zeros_like(ids))))
        h = self.encoder(h)
        return self.classifier(self.drop(torch.tanh(self.pooler(h[:, 0]))))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    size = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    precision = sys.argv[3] if len(sys.argv) > 3 else "fp32"
    if precision not in ("fp32", "bf16"):
        raise SystemExit(f"unknown precision {precision} (fp32, bf16)")

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()

    torch.set_num_threads(2)
    torch.manual_seed(0)
    layers, hidden, heads, ffn, batch = SIZES[size]
    model = Classifier(layers, hidden, heads, ffn)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, VOCAB, (batch, SEQ))
    labels = torch.randint(0, 2, (batch,))
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        with autocast():
            loss = nn.functional.cross_entropy(model(ids), labels)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    model.eval()
    inf_ids = torch.randint(0, VOCAB, (INFER_BATCH, SEQ))
    inf = []
    with torch.no_grad(), autocast():
        for i in range(steps + 1):
            t0 = time.perf_counter()
            model(inf_ids)
            if i >= 1:
                inf.append(time.perf_counter() - t0)
    step = median(times)
    print(json.dumps({
        "engine": f"torch {torch.__version__} {precision}", "size": size, "batch": batch, "step_ms": step * 1e3,
        "train_tokens_per_s": batch * SEQ / step, "infer_tokens_per_s": INFER_BATCH * SEQ / median(inf),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
