"""The peers of bench/infer.ts: the same BERT-style classifier (transformers' BertForSequenceClassification, random
weights) in PyTorch fp32, PyTorch int8 (torch.ao.quantization.quantize_dynamic of its nn.Linear layers), ONNX
Runtime fp32 (the model exported with torch.onnx) and ONNX Runtime int8 (onnxruntime.quantization.quantize_dynamic,
QInt8 weights, of the same exported file). ONNX Runtime runs from Python because onnxruntime-node downloads its
binaries in an install script; it is the same engine.
Usage: /work/venv-peers/bin/python bench/infer.py SIZE BATCH REPS  → one JSON line per engine."""
import json
import os
import sys
import tempfile
import time

import torch

SIZES = {"tiny": (2, 128, 2, 512), "mini": (6, 384, 12, 1536), "base": (12, 768, 12, 3072)}
VOCAB, SEQ = 30522, 128


def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def main():
    size, batch, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    torch.manual_seed(0)
    from transformers import BertConfig, BertForSequenceClassification

    layers, hidden, heads, ffn = SIZES[size]
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                     intermediate_size=ffn, num_labels=2, attn_implementation="eager")
    model = BertForSequenceClassification(cfg).eval()
    ids = torch.randint(0, VOCAB, (batch, SEQ))
    out = []

    def report(engine, s):
        out.append({"engine": engine, "size": size, "batch": batch, "ms": s * 1e3, "tokens_per_s": batch * SEQ / s})

    with torch.no_grad():
        report(f"torch {torch.__version__} fp32", timed(lambda: model(input_ids=ids), reps))
        qmodel = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        report(f"torch {torch.__version__} int8 (quantize_dynamic)", timed(lambda: qmodel(input_ids=ids), reps))
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory() as d:
            fp32 = os.path.join(d, "model.onnx")
            int8 = os.path.join(d, "model.int8.onnx")
            torch.onnx.export(model, (ids,), fp32, input_names=["input_ids"], output_names=["logits"],
                              dynamic_axes={"input_ids": {0: "b", 1: "t"}}, opset_version=17, dynamo=False)
            quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
            so = ort.SessionOptions()
            so.intra_op_num_threads = int(os.environ.get("THREADS", "2"))
            feed = {"input_ids": ids.numpy()}
            for path, tag in ((fp32, "fp32"), (int8, "int8 (quantize_dynamic)")):
                sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                report(f"onnxruntime {ort.__version__} {tag}", timed(lambda: sess.run(None, feed), reps))
    except Exception as e:  # noqa: BLE001 - the torch figures still count
        out.append({"engine": "onnxruntime", "error": str(e).splitlines()[0][:200]})
    for r in out:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
