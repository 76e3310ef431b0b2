#!/usr/bin/env python3
"""
Checks that transformers loads the bundled model, models/graft-base, in float32 although its model.safetensors is
float16: config.json declares `"dtype": "float32"` (what transformers 5.x's `from_pretrained(dtype="auto")`, its
default, reads first) and `"torch_dtype": "float32"` (the name transformers 4.x writes and 5.x still accepts).
Without them transformers 5 computes in float16 (slow on CPU, and the Trainer's gradients turn NaN).

It also runs the model once on a masked sentence from the bundled tokenizer and checks that the logits are finite
float32 and that graft's round trip (`graft`'s weights, float16 on disk) holds: every parameter equals the file's
float16 value widened to float32.

Not a test dependency (the build machine has no torch); run it where torch and transformers are installed:
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers
  /tmp/venv/bin/python scripts/check_base_model_dtype.py [MODEL_DIR]
Prints one JSON line and exits 1 if a check fails.
"""
import json
import sys

import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM, AutoTokenizer

model_dir = sys.argv[1] if len(sys.argv) > 1 else "models/graft-base"
problems = []

config = json.load(open(f"{model_dir}/config.json"))
for key in ("dtype", "torch_dtype"):
    if config.get(key) != "float32":
        problems.append(f'config.json: "{key}" is {config.get(key)!r}, not "float32"')

file_dtypes = {t.dtype for t in load_file(f"{model_dir}/model.safetensors").values()}
model = AutoModelForMaskedLM.from_pretrained(model_dir)  # dtype="auto", transformers 5's default
param_dtypes = {p.dtype for p in model.parameters()}
if param_dtypes != {torch.float32}:
    problems.append(f"parameters load as {sorted(map(str, param_dtypes))}, not torch.float32")

# the weights are the file's values, widened exactly
state = load_file(f"{model_dir}/model.safetensors")
own = model.state_dict()
mismatched = [k for k, t in state.items() if k in own and not torch.equal(own[k], t.to(torch.float32))]
if mismatched:
    problems.append(f"{len(mismatched)} parameter(s) differ from the file, e.g. {mismatched[0]}")

tok = AutoTokenizer.from_pretrained(model_dir)
batch = tok([f"the film was {tok.mask_token} and the actors were great ."], return_tensors="pt")
model.eval()
with torch.no_grad():
    logits = model(**batch).logits
if logits.dtype != torch.float32 or not torch.isfinite(logits).all():
    problems.append(f"logits are {logits.dtype}, finite: {bool(torch.isfinite(logits).all())}")

print(
    json.dumps(
        {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "file_dtypes": sorted(map(str, file_dtypes)),
            "parameter_dtypes": sorted(map(str, param_dtypes)),
            "logits_dtype": str(logits.dtype),
            "ok": not problems,
            "problems": problems,
        }
    )
)
sys.exit(1 if problems else 0)
