#!/usr/bin/env python3
"""Throughput of the score stage's model work, contract v1 against v2, on one device.

For each GPT-NeoX shape asked for (Pythia's shapes, or "tiny" for a CPU smoke test) a
model of that shape is built directly on the device with random weights (no download,
no checkpoint) and run three ways on the same weights and the same token ids:

  v1    the graph tools/knowable_lm/export.py writes as contract v1 (torch.jit.trace of
        ContractWrapper: fp32 [B*H,T,T] attention scores, every hidden state stacked as
        fp32, fp32 logits over the whole vocabulary), followed by what the Java runtime
        does with it on the device: cut to vocab_limit, log-softmax, entropy, top-k, the
        requested hidden layer cast to fp32; results copied to the host.
  v2    the contract v2 graph (torch.jit.trace of ScoringWrapper: attention through
        F.scaled_dot_product_attention in the weights' dtype where torch has it, the
        scoring head inside the graph, only the requested layer kept); its outputs
        copied to the host (hidden state cast to fp32 on the device first, as Java does).
  lean  an eager reference written independently of ScoringWrapper: the same SDPA
        attention, only the requested layer kept, entropy and top-k from logits in
        the weights' dtype reduced in fp32 row chunks.

Both traced graphs are what a Java executor would run (model.pt is the saved trace);
they are traced here rather than saved and reloaded, which gives the same graph.

Prints, per shape and path: tokens/s, model TFLOP/s, MFU against --peak-tflops, and
torch.cuda.max_memory_allocated; the max |entropy| difference of v1 and v2 against lean
on the first batch; and writes gpu_score.json and gpu_score.md into --out.

  python3 bench/gpu_score.py --out DIR [--shapes 70m,410m,1.4b,6.9b] [--device cuda]
      [--dtype bf16] [--peak-tflops 989] [--length 2048] [--paths v1,v2,lean] [--layer -1]
  python3 bench/gpu_score.py --out /tmp/g --device cpu --dtype fp32 --shapes tiny --length 64

FLOPs per token (as in the issue's figures): 2 x all parameters plus causal attention,
2 x layers x length x hidden (QK^T and AV over on average half the sequence). MFU is
that rate over --peak-tflops (H200 dense bf16: 989 per the data sheet; the issue's MFU
figures correspond to about 790 measured). Token ids are uniform over [0, vocab_limit).
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, has_sdpa, set_attention  # noqa: E402
from knowable_lm.export import ContractWrapper, ScoringWrapper  # noqa: E402

# name: (hidden, layers, heads, batch, timed steps); intermediate = 4 x hidden, rotary 0.25,
# vocab rows 50304 (50254 usable, the paper's vocab_limit), parallel residual
SHAPES = {
    "tiny": (64, 2, 4, 4, 3),
    "70m": (512, 6, 8, 16, 10),
    "160m": (768, 12, 12, 16, 8),
    "410m": (1024, 24, 16, 8, 8),
    "1b": (2048, 16, 8, 8, 6),
    "1.4b": (2048, 24, 16, 8, 6),
    "2.8b": (2560, 32, 32, 4, 5),
    "6.9b": (4096, 32, 32, 4, 4),
    "12b": (5120, 36, 40, 2, 4),
}
VOCAB_ROWS = 50304
VOCAB_LIMIT = 50254
TOP_K = 10
WARMUP = 3  # the TorchScript profiling executor specialises on the first runs


def build(name, length, device, dtype, seed=0):
    d, n_layers, heads, _, _ = SHAPES[name]
    cfg = NeoXConfig(vocab_size=VOCAB_ROWS, hidden_size=d, num_hidden_layers=n_layers,
                     num_attention_heads=heads, intermediate_size=4 * d,
                     max_position_embeddings=max(length, 2048), rotary_pct=0.25,
                     use_parallel_residual=True)
    if hasattr(torch, "get_default_device"):  # torch >= 2.3: build on the device directly
        old = torch.get_default_dtype()
        torch.set_default_dtype(dtype if dtype != torch.float16 else torch.float32)
        try:
            with torch.device(device):
                model = GPTNeoXForCausalLM(cfg)
        finally:
            torch.set_default_dtype(old)
    else:
        model = GPTNeoXForCausalLM(cfg)
    model = model.to(device=device, dtype=dtype).eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "layernorm" in pname or "layer_norm" in pname:
                p.fill_(1.0) if pname.endswith("weight") else p.zero_()
            elif pname.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, 0.02, generator=gen)
    return model


def v1_head(logits, hidden, vocab_limit, layer):
    """What TorchScriptModel.score does with a v1 model's outputs, on the device."""
    logp = torch.log_softmax(logits[..., :vocab_limit].float(), dim=-1)
    p = logp.exp()
    entropy = -torch.where(p == 0, torch.zeros_like(p), p * logp).sum(-1)
    tv, ti = logp.topk(TOP_K, dim=-1)
    return entropy, ti, tv, hidden[layer].float()


def lean_forward(model, ids, mask, layer_t, vocab_limit, rows=4096):
    picked, h = model.gpt_neox.forward_selected(ids, mask, layer_t)
    logits = F.linear(h, model.embed_out.weight[:vocab_limit]).reshape(-1, vocab_limit)
    ents, tvs, tis = [], [], []
    for a in range(0, logits.size(0), rows):
        z = logits[a:a + rows].float()
        logp = torch.log_softmax(z, dim=-1)
        ents.append(-(logp.exp() * logp).sum(-1))
        tv, ti = logp.topk(TOP_K, dim=-1)
        tvs.append(tv)
        tis.append(ti)
    b, t = ids.shape
    return (torch.cat(ents).view(b, t), torch.cat(tis).view(b, t, TOP_K),
            torch.cat(tvs).view(b, t, TOP_K), picked[0].float())


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_path(path, model, ids, mask, layer, device, steps, example):
    """(seconds for `steps` timed steps, peak bytes, first step's host outputs)."""
    n_layers = len(model.gpt_neox.layers)
    layer_idx = layer % (n_layers + 1)
    layer_t = torch.tensor([layer_idx], device=device)
    probes = ids[:, :1]  # one probe id per row, as an ICLT call would read
    ex_ids, ex_mask = example
    with torch.no_grad():
        if path == "v1":
            set_attention(model, "fp32")
            g = torch.jit.trace(ContractWrapper(model), (ex_ids, ex_mask), check_trace=False)

            def step():
                logits, hidden = g(ids, mask)
                return [x.cpu() for x in v1_head(logits, hidden, VOCAB_LIMIT, layer_idx)]
        elif path == "v2":
            set_attention(model, "auto")
            g = torch.jit.trace(ScoringWrapper(model, VOCAB_LIMIT, TOP_K),
                                (ex_ids, ex_mask, layer_t, ex_ids[:, :1]), check_trace=False)

            def step():
                e, ti, tv, nl, pl, hs = g(ids, mask, layer_t, probes)
                return [e.cpu(), ti.cpu(), tv.cpu(), hs[0].float().cpu(), nl.cpu(), pl.cpu()]
        else:
            set_attention(model, "sdpa" if has_sdpa() else "math")

            def step():
                return [x.cpu() for x in lean_forward(model, ids, mask, layer_t, VOCAB_LIMIT)]
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        first = step()
        for _ in range(WARMUP - 1):
            step()
        sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync(device)
        seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() if device.startswith("cuda") else None
    return seconds, peak, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for gpu_score.json and gpu_score.md")
    ap.add_argument("--shapes", default="70m,410m,1.4b,6.9b", help="comma-separated: " + ",".join(SHAPES))
    ap.add_argument("--paths", default="v1,v2,lean")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", choices=["fp32", "fp16", "bf16"], default="bf16")
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="dense peak of the device for --dtype")
    ap.add_argument("--length", type=int, default=2048)
    ap.add_argument("--layer", type=int, default=-1, help="hidden state copied out (-1 = after the final norm)")
    ap.add_argument("--steps-scale", type=float, default=1.0, help="multiplies each shape's timed steps")
    ap.add_argument("--batch", type=int, default=0, help="override every shape's batch size")
    a = ap.parse_args()
    for s in a.shapes.split(","):
        if s not in SHAPES:
            raise SystemExit("unknown shape %r; known: %s" % (s, ", ".join(SHAPES)))
    paths = [p for p in a.paths.split(",") if p]
    for p in paths:
        if p not in ("v1", "v2", "lean"):
            raise SystemExit("unknown path %r (v1, v2, lean)" % p)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device %s but torch.cuda.is_available() is False" % a.device)
    os.makedirs(a.out, exist_ok=True)
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
    if a.device == "cpu":
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    env = {"torch": torch.__version__, "device": a.device, "dtype": a.dtype, "length": a.length,
           "sdpa": has_sdpa(), "peak_tflops": a.peak_tflops, "vocab_rows": VOCAB_ROWS,
           "vocab_limit": VOCAB_LIMIT, "top_k": TOP_K, "layer": a.layer}
    if a.device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name()
    print(json.dumps(env), flush=True)
    results = []
    for name in a.shapes.split(","):
        d, n_layers, heads, batch, steps = SHAPES[name]
        batch = a.batch or batch
        steps = max(1, int(round(steps * a.steps_scale)))
        t_build = time.perf_counter()
        model = build(name, a.length, a.device, dtype)
        params = sum(p.numel() for p in model.parameters())
        flops_per_token = 2 * params + 2 * n_layers * d * a.length
        g = torch.Generator().manual_seed(1)
        ids = torch.randint(0, VOCAB_LIMIT, (batch, a.length), generator=g).to(a.device)
        mask = torch.ones_like(ids)
        example = (ids[:2, :11].contiguous(), mask[:2, :11].contiguous())
        print("# %s: %.3fB parameters, built in %.1f s; batch %d x %d, %d timed steps"
              % (name, params / 1e9, time.perf_counter() - t_build, batch, a.length, steps), flush=True)
        firsts = {}
        for path in paths:
            try:
                seconds, peak, first = run_path(path, model, ids, mask, a.layer, a.device, steps, example)
            except RuntimeError as e:  # e.g. out of memory on a big shape: report it, go on
                print(json.dumps({"shape": name, "path": path, "error": str(e)[:300]}), flush=True)
                results.append({"shape": name, "path": path, "error": str(e)[:300]})
                if a.device.startswith("cuda"):
                    torch.cuda.empty_cache()
                continue
            firsts[path] = first
            tps = batch * a.length * steps / seconds
            tflops = tps * flops_per_token / 1e12
            r = {"shape": name, "path": path, "params": params, "batch": batch, "length": a.length,
                 "steps": steps, "seconds": round(seconds, 4), "tokens_per_s": round(tps, 1),
                 "model_tflops_per_s": round(tflops, 2),
                 "mfu": round(tflops / a.peak_tflops, 4) if a.peak_tflops > 0 else None,
                 "peak_mem_gib": round(peak / 2 ** 30, 2) if peak is not None else None}
            results.append(r)
            print(json.dumps(r), flush=True)
        # agreement on the first batch (all positions are real tokens)
        if "lean" in firsts:
            ref_e, ref_i = firsts["lean"][0], firsts["lean"][1]
            for path in ("v1", "v2"):
                if path in firsts:
                    e, i = firsts[path][0], firsts[path][1]
                    agree = {"shape": name, "compare": path + " vs lean",
                             "entropy_max_abs": float((e - ref_e).abs().max()),
                             "top1_agreement": float((i[..., 0] == ref_i[..., 0]).float().mean()),
                             "hidden_max_abs": float((firsts[path][3] - firsts["lean"][3]).abs().max())}
                    results.append(agree)
                    print(json.dumps(agree), flush=True)
        del model, firsts
        if a.device.startswith("cuda"):
            torch.cuda.empty_cache()
    with open(os.path.join(a.out, "gpu_score.json"), "w") as f:
        json.dump({"env": env, "results": results}, f, indent=1)
        f.write("\n")
    lines = ["# gpu_score: contract v1 vs v2 vs lean eager", "",
             "torch %s, %s%s, %s, T = %d, vocab %d (limit %d), top-%d, layer %d, SDPA %s, MFU vs %.0f TFLOP/s"
             % (env["torch"], a.device, " (" + env["gpu"] + ")" if "gpu" in env else "", a.dtype, a.length,
                VOCAB_ROWS, VOCAB_LIMIT, TOP_K, a.layer, has_sdpa(), a.peak_tflops), "",
             "| shape | path | batch | tokens/s | TFLOP/s | MFU | peak GiB | tokens/s vs lean |", "|---|---|---|---|---|---|---|---|"]
    by = {(r["shape"], r["path"]): r for r in results if "tokens_per_s" in r}
    for r in results:
        if "tokens_per_s" not in r:
            continue
        lean = by.get((r["shape"], "lean"))
        ratio = "%.3f" % (r["tokens_per_s"] / lean["tokens_per_s"]) if lean else ""
        lines.append("| %s | %s | %d | %.0f | %.1f | %s | %s | %s |" % (
            r["shape"], r["path"], r["batch"], r["tokens_per_s"], r["model_tflops_per_s"],
            "%.3f" % r["mfu"] if r["mfu"] is not None else "", r["peak_mem_gib"] if r["peak_mem_gib"] is not None else "",
            ratio))
    lines += ["", "| shape | compare | max abs entropy (nats) | top-1 agreement | max abs hidden |", "|---|---|---|---|---|"]
    for r in results:
        if "compare" in r:
            lines.append("| %s | %s | %.2e | %.4f | %.2e |" % (r["shape"], r["compare"], r["entropy_max_abs"],
                                                            r["top1_agreement"], r["hidden_max_abs"]))
    for r in results:
        if "error" in r:
            lines.append("\n%s %s failed: %s" % (r["shape"], r["path"], r["error"]))
    with open(os.path.join(a.out, "gpu_score.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
