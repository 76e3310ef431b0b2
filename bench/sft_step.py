"""The Llama-shaped SFT step of bench/sft.ts in PyTorch (transformers' LlamaForCausalLM), all weights or LoRA.
Run as the benchmark does: python3 bench/sft_step.py SIZE full|lora STEPS [THREADS]
Prints one JSON line: median step ms, tokens/s, trainable parameters."""
import json
import sys
import time

import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

SIZES = {"small": (4, 256, 8, 4, 688, 4, 256), "base": (12, 576, 9, 3, 1536, 2, 512)}
VOCAB = 8192
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraLinear(nn.Module):
    """base(x) + scale * B(A(x)), base frozen (PEFT's LoRA without dropout)."""

    def __init__(self, base, r=8, alpha=16):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


def main():
    size, mode, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if len(sys.argv) > 4:
        torch.set_num_threads(int(sys.argv[4]))
    layers, hidden, heads, kv, ffn, batch, seq = SIZES[size]
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=kv, intermediate_size=ffn, max_position_embeddings=seq, tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    if mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for name, module in list(model.named_modules()):
            for child_name, child in list(module.named_children()):
                if child_name in TARGETS and isinstance(child, nn.Linear):
                    setattr(module, child_name, LoraLinear(child))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    ids = torch.randint(0, VOCAB, (batch, seq))
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    step = sorted(times)[len(times) // 2]
    print(json.dumps({"step_ms": step, "tokens_per_s": batch * seq * 1000 / step, "trainable": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
