"""The T5 training step of bench/seq2seq-train.ts in transformers, for a side-by-side measurement.
Usage: python bench/seq2seq_train.py SIZE [STEPS] [THREADS]; prints one JSON line (median step ms, tokens/s)."""
import json
import sys
import time

import torch
from transformers import T5Config, T5ForConditionalGeneration

SIZES = {"tiny": (2, 128, 2, 512), "mini": (4, 256, 4, 1024)}
VOCAB, BATCH, SRC, TGT = 8000, 64, 24, 24


def main():
    size = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    layers, d, heads, ff = SIZES[size]
    config = T5Config(vocab_size=VOCAB, d_model=d, num_layers=layers, num_heads=heads, d_kv=d // heads, d_ff=ff,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0, dropout_rate=0.1)
    model = T5ForConditionalGeneration(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    inputs = torch.randint(2, VOCAB, (BATCH, SRC))
    labels = torch.randint(2, VOCAB, (BATCH, TGT))
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        model(input_ids=inputs, labels=labels).loss.backward()
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    step = sorted(times)[len(times) // 2]
    print(json.dumps({"size": size, "step_ms": step, "tokens_per_s": BATCH * (SRC + TGT) * 1000 / step}))


if __name__ == "__main__":
    main()
