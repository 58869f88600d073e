#!/usr/bin/env python3
"""GPU throughput of the score stage's model work, for a machine with a GPU but no JDK:
the exported contract model (model.pt, TorchScript) over batches of real token ids, in
fp32 / fp16 / bf16, with the same per-position work as the Java stage (log-softmax over
vocab_limit, entropy, top-k, the requested hidden layers copied to the host). Prints
tokens/s and the model FLOPs utilisation (MFU) against a peak you give (the GPU's dense
tensor-core peak for the dtype, in TFLOP/s).

  python3 bench/gpu_score.py MODEL_DIR --device cuda --dtype bf16 --peak-tflops 989 \
      [--batch 32] [--length 2048] [--steps 50] [--layers -1]

FLOPs per token: 2 x parameters (every weight is used once per token in the forward pass)
plus attention, 4 x layers x length x hidden / 2 on average over a causal sequence
(QK^T and AV). Token ids are drawn uniformly from the vocabulary: throughput does not
depend on which ids they are. Report GPU figures only from an actual run.
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", choices=["fp32", "fp16", "bf16"], default="bf16")
    ap.add_argument("--peak-tflops", type=float, default=0.0, help="dense peak of the device for --dtype")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=0, help="sequence length (default: the model's max_context)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--topk", type=int, default=10)
    ap.add_argument("--layers", default="-1", help="hidden layers copied out, comma-separated (-1 = last)")
    a = ap.parse_args()
    meta = json.load(open(a.model_dir + "/knowable.json"))
    cfg = json.load(open(a.model_dir + "/config.json"))
    vocab_limit = meta["vocab_limit"]
    length = a.length or meta["max_context"]
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
    model = torch.jit.load(a.model_dir + "/model.pt", map_location=a.device).to(dtype).eval()
    params = sum(p.numel() for p in model.parameters())
    n_layers = cfg.get("num_hidden_layers", meta.get("num_layers"))
    hidden = cfg.get("hidden_size", meta.get("hidden_size"))
    flops_per_token = 2 * params + 4 * n_layers * hidden * length / 2
    layers = [int(x) for x in a.layers.split(",") if x]
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab_limit, (a.batch, length), generator=g).to(a.device)
    mask = torch.ones_like(ids)

    def step():
        with torch.no_grad():
            logits, hidden_states = model(ids, mask)
            logp = torch.log_softmax(logits[..., :vocab_limit].float(), dim=-1)
            entropy = -(logp.exp() * logp).sum(-1)
            top = torch.topk(logp, a.topk, dim=-1)
            out = [entropy.cpu(), top.values.cpu(), top.indices.cpu()]
            for l in layers:
                out.append(hidden_states[l].float().cpu())
            return out

    for _ in range(3):
        step()
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t
    tokens = a.batch * length * a.steps
    tps = tokens / seconds
    achieved = tps * flops_per_token / 1e12
    mfu = achieved / a.peak_tflops if a.peak_tflops > 0 else float("nan")
    print(json.dumps({"model": meta.get("name", a.model_dir), "device": a.device, "dtype": a.dtype,
                      "params": params, "batch": a.batch, "length": length, "steps": a.steps,
                      "tokens_per_s": round(tps, 1), "model_tflops_per_s": round(achieved, 3),
                      "peak_tflops": a.peak_tflops, "mfu": round(mfu, 4) if mfu == mfu else None}))


if __name__ == "__main__":
    main()
