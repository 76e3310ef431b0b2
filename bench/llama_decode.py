"""The same Llama-shaped decoder as bench/llama-decode.ts, in transformers (LlamaForCausalLM, random weights, f32,
SDPA attention, its DynamicCache), for a side-by-side measurement of prompt processing and decoding at batch 1.
Run as the benchmark does:  PYTHON bench/llama_decode.py SIZE PROMPT NEW THREADS
Prints one JSON line: prompt tokens/s, decode tokens/s, peak RSS."""
import json
import resource
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SIZES = {
    # SmolLM2-135M: hidden 576, 30 layers, 9 heads, 3 kv heads, intermediate 1536, vocab 49152, tied embeddings
    "smollm2-135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         intermediate_size=1536, vocab_size=49152),
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=128, vocab_size=1000),
}


def main():
    size, prompt, new, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = LlamaConfig(**SIZES[size], max_position_embeddings=2048, tie_word_embeddings=True,
                         rope_parameters={"rope_type": "default", "rope_theta": 100000.0})
    model = LlamaForCausalLM(config).float().eval()
    ids = torch.randint(0, config.vocab_size, (1, prompt))
    prefill, decode = [], []
    with torch.inference_mode():
        for rep in range(3):
            t0 = time.perf_counter()
            out = model(input_ids=ids, use_cache=True)
            prefill.append(time.perf_counter() - t0)
            cache = out.past_key_values
            nxt = out.logits[:, -1:].argmax(-1)
            t0 = time.perf_counter()
            for step in range(new):
                pos = torch.tensor([[prompt + step]])
                out = model(input_ids=nxt, past_key_values=cache, position_ids=pos, use_cache=True)
                cache = out.past_key_values
                nxt = out.logits[:, -1:].argmax(-1)
            decode.append(time.perf_counter() - t0)
    best = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731 (median of 3)
    print(json.dumps({
        "engine": f"torch {torch.__version__}",
        "prompt_tokens_per_s": prompt / best(prefill),
        "decode_tokens_per_s": new / best(decode),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
