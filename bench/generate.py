"""Peer of bench/generate.ts: transformers' generate() on the same GPT-2-shaped model with random weights; prints one JSON list."""
import json
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

NEW = int(sys.argv[1]) if len(sys.argv) > 1 else 32
PROMPT = int(sys.argv[2]) if len(sys.argv) > 2 else 16
torch.set_num_threads(2)
torch.manual_seed(0)
config = GPT2Config(vocab_size=8192, n_positions=256, n_embd=256, n_layer=4, n_head=4, eos_token_id=None, pad_token_id=0)
model = GPT2LMHeadModel(config).eval()
out = []
for beams in (1, 4):
    for batch in (1, 32):
        for cache in (True, False):
            ids = torch.randint(1, 8192, (batch, PROMPT))
            mask = torch.ones_like(ids)

            def run():
                t0 = time.perf_counter()
                with torch.no_grad():
                    g = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW, min_new_tokens=NEW,
                                       num_beams=beams, do_sample=False, use_cache=cache, eos_token_id=None, pad_token_id=0)
                assert g.shape[1] == PROMPT + NEW
                return batch * NEW / (time.perf_counter() - t0)

            run()
            out.append({"beams": beams, "batch": batch, "cache": cache, "tokens_per_s": max(run(), run())})
print(json.dumps(out))
