"""The ONNX export for bench/serve.ts's onnxruntime-node peer: the same saved classifier directory that graft serve
loads (transformers' AutoModelForSequenceClassification reads graft's Hugging Face layout), exported with
torch.onnx (inputs input_ids and attention_mask, int64, batch and length dynamic; output logits), then checked
against PyTorch in ONNX Runtime on one padded batch.
Usage: python bench/serve_onnx.py MODEL_DIR OUT.onnx  → one JSON line: the file, the versions, the largest |diff|."""
import json
import sys

import torch


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    ids = torch.tensor([[2, 100, 200, 300, 3], [2, 150, 3, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).logits
        torch.onnx.export(model, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                          output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                                        "logits": {0: "b"}},
                          opset_version=17, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    diff = float(abs(torch.from_numpy(got) - want).max())
    print(json.dumps({"onnx": out, "torch": torch.__version__, "onnxruntime_python": ort.__version__,
                      "max_abs_diff": diff}))


if __name__ == "__main__":
    main()
