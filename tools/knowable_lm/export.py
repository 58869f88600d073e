"""Export a GPT-NeoX module into a "knowable-causal-lm/1" model directory.

Files written into the output directory:
  config.json     Hugging Face GPT-NeoX config
  tokenizer.json  Hugging Face tokenizers file (byte-level, see tokenizer.py) or a copy
  model.pt        TorchScript: forward(input_ids int64[B,T], attention_mask int64[B,T])
                  -> (logits float32[B,T,V], hidden_states float32[L+1,B,T,d])
  model.onnx      the same graph, opset 14, dynamic batch / sequence axes (optional)
  knowable.json   the contract summary Java reads first
  reference.json  eager float32 reference outputs for 4 fixed texts

The traced graph is checked against the eager module on shapes other than the
tracing shape, with right padding, and in bfloat16.

Command line (exports a checkpoint written by tools/train.py):
  python3 -m knowable_lm.export --checkpoint ckpt.pt --out DIR --name NAME
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .gpt_neox import GPTNeoXForCausalLM, NeoXConfig
from . import tokenizer as tok

CONTRACT = "knowable-causal-lm/1"
CONTRACT_V2 = "knowable-causal-lm/2"
TOP_K = 10
V2_OUTPUTS = ["entropy", "topk_ids", "topk_logprobs", "next_logprob", "probe_logprobs", "hidden_states"]

REFERENCE_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "public static int add(int a, int b) { return a + b; }",
    "In the beginning God created the heaven and the earth.",
    ("A na\u00efve caf\u00e9 owner in Z\u00fcrich \u2014 \u00fcn\u00efc\u00f6d\u00e9 test: "
     "\u00ab\u00c7a va?\u00bb, \u00bfQu\u00e9 tal?, \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8, "
     "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, \u0440\u0443\u0441\u0441\u043a\u0438\u0439 "
     "\u0442\u0435\u043a\u0441\u0442, emoji \U0001F642. The cr\u00e8me br\u00fbl\u00e9e costs 5 \u20ac "
     "or \u00a34; se\u00f1or Fran\u00e7ois said \u201cvoil\u00e0\u201d and left the "
     "\u00e9l\u00e8ve's r\u00e9sum\u00e9 on the table."),
]


class ContractWrapper(nn.Module):
    """forward(input_ids, attention_mask) -> (logits float32, stacked hidden states float32)."""

    def __init__(self, model: GPTNeoXForCausalLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        logits, hidden = self.model(input_ids, attention_mask)
        return logits.float(), torch.stack(hidden, dim=0).float()


def _lse_update(m, s, t, z):
    """One vocabulary chunk of an online log-sum-exp. With m the running max, s = sum
    exp(z - m) and t = sum exp(z - m) (z - m) over the chunks so far, folds in z [.., c]
    (float32). The entropy is log(s) - t / s at the end. A -inf logit counts 0."""
    cm = z.max(-1).values
    if m is None:
        nm = cm
    else:
        nm = torch.maximum(m, cm)
    e = torch.exp(z - nm.unsqueeze(-1))
    # e * (z - nm) is 0 * -inf = nan for a -inf logit; its term is 0
    ez = torch.where(e > 0, e * (z - nm.unsqueeze(-1)), e)
    if m is None:
        return nm, e.sum(-1), ez.sum(-1)
    r = torch.exp(m - nm)
    t = r * (t + (m - nm) * s) + ez.sum(-1)
    s = r * s + e.sum(-1)
    return nm, s, t


class ScoringWrapper(nn.Module):
    """Contract v2: the scoring head inside the graph.

    forward(input_ids int64[B,T], attention_mask int64[B,T], layers int64[n],
            probe_ids int64[B,P]) ->
      entropy         float32[B,T]    nats over ids [0, vocab_limit)
      topk_ids        int64[B,T,K]    most probable ids first
      topk_logprobs   float32[B,T,K]
      next_logprob    float32[B,T]    log p(input_ids[b,i+1]); nan where i+1 is padding or
                                      past the end, -inf where that id >= vocab_limit
      probe_logprobs  float32[B,T,P]  log p(probe_ids[b,j]) at every position
      hidden_states   dtype[n,B,T,d]  the states listed in ``layers``, weights' dtype

    The logits are computed one vocabulary chunk at a time in the weights' dtype and
    reduced in float32 (online log-sum-exp, per-chunk top-k merged), so no [B,T,V]
    tensor, float32 or otherwise, exists at once.
    """

    def __init__(self, model: GPTNeoXForCausalLM, vocab_limit: int, top_k: int = TOP_K,
                 chunk: int = 8192):
        super().__init__()
        if not 1 <= vocab_limit <= model.config.vocab_size:
            raise ValueError("vocab_limit %d outside 1..%d" % (vocab_limit, model.config.vocab_size))
        if not 1 <= top_k <= vocab_limit:
            raise ValueError("top_k %d outside 1..%d (vocab_limit)" % (top_k, vocab_limit))
        self.model = model
        self.vocab_limit = int(vocab_limit)
        self.top_k = int(top_k)
        self.chunk = int(chunk)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                layers: torch.Tensor, probe_ids: torch.Tensor):
        hidden, h = self.model.gpt_neox.forward_selected(input_ids, attention_mask, layers)
        w = self.model.embed_out.weight
        vl = self.vocab_limit
        m = s = t = None
        top_v = []
        top_i = []
        for a in range(0, vl, self.chunk):
            b = min(a + self.chunk, vl)
            z = F.linear(h, w[a:b]).float()  # [B, T, c]: matmul in the weights' dtype
            m, s, t = _lse_update(m, s, t, z)
            v, i = z.topk(min(self.top_k, b - a), dim=-1)
            top_v.append(v)
            top_i.append(i + a)
        lse = m + torch.log(s)
        entropy = torch.log(s) - t / s
        if len(top_v) == 1:
            tv, ti = top_v[0], top_i[0]
        else:
            cv = torch.cat(top_v, dim=-1)
            tv, j = cv.topk(self.top_k, dim=-1)
            ti = torch.cat(top_i, dim=-1).gather(-1, j)
        topk_logprobs = tv - lse.unsqueeze(-1)
        # one logit per position for the realised next token: its output row dotted with h,
        # rounded to the weights' dtype as the matmul's output is
        nxt = torch.cat((input_ids[:, 1:], input_ids[:, :1] * 0), dim=1)
        has_next = torch.cat((attention_mask[:, 1:], attention_mask[:, :1] * 0), dim=1) != 0
        in_vocab = nxt < vl
        rows = w.index_select(0, nxt.clamp(0, vl - 1).reshape(-1)).view(h.shape)
        zn = (h.float() * rows.float()).sum(-1).type_as(h).float()
        next_logprob = (zn - lse).masked_fill(~in_vocab, float("-inf")).masked_fill(~has_next, float("nan"))
        prow = w.index_select(0, probe_ids.reshape(-1)).view(h.size(0), -1, h.size(2))
        zp = torch.bmm(h.float(), prow.float().transpose(1, 2)).type_as(h).float()
        probe_logprobs = zp - lse.unsqueeze(-1)
        return entropy, ti, topk_logprobs, next_logprob, probe_logprobs, hidden


class LogitsOnlyWrapper(nn.Module):
    """Breaks the contract on purpose: returns only the logits tensor."""

    def __init__(self, model: GPTNeoXForCausalLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        logits, _ = self.model(input_ids, attention_mask)
        return logits.float()


def _r7(x: float) -> float:
    return float("%.7g" % x)


def _r7list(t: torch.Tensor) -> list:
    if t.dim() == 1:
        return [_r7(v) for v in t.tolist()]
    return [_r7list(r) for r in t]


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Longest prefix of text (whole characters) whose UTF-8 encoding has <= max_bytes bytes."""
    out = []
    n = 0
    for ch in text:
        b = len(ch.encode("utf-8"))
        if n + b > max_bytes:
            break
        out.append(ch)
        n += b
    return "".join(out)


def make_reference(model: GPTNeoXForCausalLM, name: str, vocab_limit: int,
                   max_context: int, texts: Sequence[str] = REFERENCE_TEXTS,
                   encode: Callable[[str], List[int]] = tok.encode) -> dict:
    """Reference outputs; texts longer than max_context tokens are cut (whole characters)
    so that the stored text encodes to at most max_context ids."""
    model = model.float().eval()
    cases = []
    with torch.no_grad():
        for text in texts:
            text = truncate_utf8(text, max_context)
            while len(encode(text)) > max_context:  # multi-byte tokens: cut further
                text = text[:-1]
            ids = encode(text)
            x = torch.tensor([ids], dtype=torch.long)
            logits, hidden = model(x, torch.ones_like(x))
            lp = torch.log_softmax(logits[0, :, :vocab_limit].float(), dim=-1)
            ent = -(lp.exp() * lp).sum(-1)
            top_lp, top_ids = lp.topk(TOP_K, dim=-1)
            cases.append({
                "text": text,
                "input_ids": ids,
                "entropy": _r7list(ent),
                "top1_id": top_ids[:, 0].tolist(),
                "top1_prob": _r7list(top_lp[:, 0].exp()),
                "topk_ids": top_ids.tolist(),
                "topk_logprobs": _r7list(top_lp),
                "hidden_states": {str(l): _r7list(h[0]) for l, h in enumerate(hidden)},
            })
    return {"model": name, "torch_version": torch.__version__, "vocab_limit": vocab_limit,
            "top_k": TOP_K, "cases": cases}


def _random_batch(gen: torch.Generator, b: int, t: int, vocab: int):
    ids = torch.randint(0, vocab, (b, t), generator=gen)
    lengths = [t] + [int(torch.randint(1, t + 1, (1,), generator=gen)) for _ in range(b - 1)]
    mask = torch.zeros(b, t, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    ids = ids * mask  # padding id 0
    return ids, mask, lengths


def self_check(model: GPTNeoXForCausalLM, traced, vocab_limit: int, log=print,
               shapes=((1, 1), (3, 7), (2, 300), (4, 33))) -> None:
    """Compare the traced module with the eager module on other shapes, with padding."""
    gen = torch.Generator().manual_seed(1234)
    eager = ContractWrapper(model).eval()
    with torch.no_grad():
        for b, t in shapes:
            ids, mask, lengths = _random_batch(gen, b, t, vocab_limit)
            el, eh = eager(ids, mask)
            tl, th = traced(ids, mask)
            L = len(model.gpt_neox.layers)
            assert tl.shape == (b, t, model.config.vocab_size), tl.shape
            assert th.shape == (L + 1, b, t, model.config.hidden_size), th.shape
            assert tl.dtype == torch.float32 and th.dtype == torch.float32
            dl = (el - tl).abs().max().item()
            dh = (eh - th).abs().max().item()
            # padding invariance: each row alone, unpadded, equals its padded version
            dp = 0.0
            for i, n in enumerate(lengths):
                sl, sh = traced(ids[i:i + 1, :n], mask[i:i + 1, :n])
                dp = max(dp, (sl[0] - tl[i, :n]).abs().max().item(),
                         (sh[:, 0] - th[:, i, :n]).abs().max().item())
            log("  check B=%d T=%d: |eager-traced| logits %.2e hidden %.2e; padded-vs-alone %.2e"
                % (b, t, dl, dh, dp))
            if dl > 1e-4 or dh > 1e-4 or dp > 1e-4:
                raise AssertionError("traced model disagrees with eager model (B=%d T=%d)" % (b, t))


def bf16_check(model: GPTNeoXForCausalLM, traced_path: str, log=print) -> None:
    """Eager and traced modules must run with bf16 weights (on CPU)."""
    import copy
    gen = torch.Generator().manual_seed(99)
    ids, mask, _ = _random_batch(gen, 2, 19, 257)
    with torch.no_grad():
        ref_l, _ = ContractWrapper(model)(ids, mask)
        m16 = copy.deepcopy(model).to(torch.bfloat16)
        el, eh = ContractWrapper(m16)(ids, mask)
        tr = torch.jit.load(traced_path, map_location="cpu")
        tr = tr.to(torch.bfloat16)
        tl, th = tr(ids, mask)
    assert el.dtype == torch.float32 and tl.dtype == torch.float32
    d_et = (el - tl).abs().max().item()
    d_ref = (el - ref_l).abs().max().item()
    log("  bf16: eager vs traced %.2e, bf16 vs fp32 logits %.2e (max |logit| %.1f)"
        % (d_et, d_ref, ref_l.abs().max().item()))
    if not torch.isfinite(tl).all() or not torch.isfinite(th).all():
        raise AssertionError("non-finite bf16 outputs")
    if d_et > 1e-2 * max(1.0, ref_l.abs().max().item()):
        raise AssertionError("bf16 traced disagrees with bf16 eager")


def _graph_has_device_constant(traced) -> bool:
    g = str(traced.inlined_graph)
    return 'Device = prim::Constant[value="cpu"]' in g or 'value="cuda' in g


def export_model(model: GPTNeoXForCausalLM, out_dir: str, name: str,
                 vocab_limit: int = tok.VOCAB_LIMIT, eos_token_id: int = tok.EOS_ID,
                 tokenizer_src: Optional[str] = None,
                 tokenizer_extra_added: Optional[Sequence[str]] = None,
                 onnx: bool = True, reference: bool = True, check: bool = True,
                 encode: Callable[[str], List[int]] = tok.encode, log=print) -> None:
    """Write the contract files for ``model`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    model = model.float().eval()
    cfg = model.config
    L = cfg.num_hidden_layers

    # tokenizer
    tok_path = os.path.join(out_dir, "tokenizer.json")
    if tokenizer_src is not None:
        if os.path.abspath(tokenizer_src) != os.path.abspath(tok_path):
            shutil.copyfile(tokenizer_src, tok_path)
        tok_sha = tok.sha256_file(tok_path)
    else:
        tok_sha = tok.write_tokenizer(tok_path, tokenizer_extra_added)

    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg.to_hf_dict(), f, indent=2)
        f.write("\n")

    # TorchScript, traced at a shape (B=2, T=11, one row padded) not used by the checks
    wrapper = ContractWrapper(model).eval()
    gen = torch.Generator().manual_seed(7)
    ex_ids = torch.randint(0, vocab_limit, (2, 11), generator=gen)
    ex_mask = torch.ones(2, 11, dtype=torch.long)
    ex_mask[1, 8:] = 0
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, (ex_ids, ex_mask), check_trace=False)
    if _graph_has_device_constant(traced):
        raise AssertionError("traced graph contains a fixed device constant")
    pt_path = os.path.join(out_dir, "model.pt")
    traced.save(pt_path)
    if check:
        log("self-check %s (traced at B=2 T=11)" % name)
        self_check(model, torch.jit.load(pt_path, map_location="cpu"), vocab_limit, log=log)
        bf16_check(model, pt_path, log=log)

    if onnx:
        onnx_path = os.path.join(out_dir, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(
                wrapper, (ex_ids, ex_mask), onnx_path, opset_version=14,
                input_names=["input_ids", "attention_mask"],
                output_names=["logits", "hidden_states"],
                dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                              "attention_mask": {0: "batch", 1: "sequence"},
                              "logits": {0: "batch", 1: "sequence"},
                              "hidden_states": {1: "batch", 2: "sequence"}},
                do_constant_folding=True)
        import onnx as onnx_lib
        onnx_lib.checker.check_model(onnx_lib.load(onnx_path))
        log("  onnx: %s written and checked (opset 14)" % onnx_path)
    else:
        p = os.path.join(out_dir, "model.onnx")
        if os.path.exists(p):
            os.remove(p)

    knowable = {
        "contract": CONTRACT,
        "name": name,
        "num_layers": L,
        "hidden_size": cfg.hidden_size,
        "vocab_size": cfg.vocab_size,
        "vocab_limit": vocab_limit,
        "max_context": cfg.max_position_embeddings,
        "eos_token_id": eos_token_id,
        "tokenizer_sha256": tok_sha,
        "dtype": "float32",
    }
    with open(os.path.join(out_dir, "knowable.json"), "w", encoding="utf-8") as f:
        json.dump(knowable, f, indent=2)
        f.write("\n")

    if reference:
        ref = make_reference(model, name, vocab_limit, cfg.max_position_embeddings, encode=encode)
        with open(os.path.join(out_dir, "reference.json"), "w", encoding="utf-8") as f:
            json.dump(ref, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")


def export_logits_only(model: GPTNeoXForCausalLM, path: str) -> None:
    """A model.pt that breaks the contract (returns only the logits)."""
    w = LogitsOnlyWrapper(model.float().eval()).eval()
    ids = torch.zeros(1, 5, dtype=torch.long)
    with torch.no_grad():
        traced = torch.jit.trace(w, (ids, torch.ones_like(ids)), check_trace=False)
    traced.save(path)


def load_checkpoint(path: str) -> GPTNeoXForCausalLM:
    """Load a checkpoint written by tools/train.py: {"config": hf dict, "state_dict": ...}."""
    ck = torch.load(path, map_location="cpu")
    model = GPTNeoXForCausalLM(NeoXConfig.from_hf_dict(ck["config"]))
    model.load_state_dict(ck["state_dict"], strict=True)
    return model.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="checkpoint .pt written by tools/train.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--vocab-limit", type=int, default=tok.VOCAB_LIMIT)
    ap.add_argument("--no-onnx", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = load_checkpoint(a.checkpoint)
    export_model(model, a.out, a.name, vocab_limit=a.vocab_limit, onnx=not a.no_onnx)


if __name__ == "__main__":
    sys.exit(main())
