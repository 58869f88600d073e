"""Export a GPT-NeoX module into a "knowable-causal-lm/1" or "/2" model directory.

Files written into the output directory:
  config.json     Hugging Face GPT-NeoX config
  tokenizer.json  Hugging Face tokenizers file (byte-level, see tokenizer.py) or a copy
  model.pt        TorchScript. Contract v1: forward(input_ids int64[B,T], attention_mask
                  int64[B,T]) -> (logits float32[B,T,V], hidden_states float32[L+1,B,T,d]).
                  Contract v2: the scoring head in the graph, see ScoringWrapper
  model.onnx      the same graph, opset 14, dynamic batch / sequence axes (optional)
  knowable.json   the contract summary Java reads first
  reference.json  eager float32 reference outputs for 4 fixed texts

The traced graph is checked against the eager module on shapes other than the
tracing shape, with right padding, and in bfloat16 (v2: against the v1 quantities
computed from the eager module's full logits).

Command line:
  python3 -m knowable_lm.export --checkpoint ckpt.pt --out DIR --name NAME [--contract 2]
      (a checkpoint written by tools/train.py)
  python3 -m knowable_lm.export --from-export V1_DIR --out DIR --contract 2
      (the weights of an existing export's model.pt, e.g. to upgrade a v1 model to v2;
       tokenizer.json, name, vocab_limit and eos id are taken from V1_DIR)
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .gpt_neox import GPTNeoXForCausalLM, NeoXConfig, set_attention
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


def expected_v2(logits: torch.Tensor, hidden: List[torch.Tensor], input_ids: torch.Tensor,
                attention_mask: torch.Tensor, layers: torch.Tensor, probe_ids: torch.Tensor,
                vocab_limit: int, top_k: int) -> dict:
    """The v2 outputs as computed from a v1 forward pass (full logits, every hidden state),
    by log-softmax over the whole [0, vocab_limit) row: the reference v2 is checked against."""
    lp = torch.log_softmax(logits[..., :vocab_limit].float(), dim=-1)
    p = lp.exp()
    ent = -torch.where(p == 0, p, p * lp).sum(-1)
    tv, ti = lp.topk(top_k, dim=-1)
    nxt = torch.cat((input_ids[:, 1:], input_ids[:, :1] * 0), dim=1)
    has_next = torch.cat((attention_mask[:, 1:], attention_mask[:, :1] * 0), dim=1) != 0
    nl = lp.gather(-1, nxt.clamp(0, vocab_limit - 1).unsqueeze(-1)).squeeze(-1)
    nl = nl.masked_fill(nxt >= vocab_limit, float("-inf")).masked_fill(~has_next, float("nan"))
    pl = lp.gather(-1, probe_ids.unsqueeze(1).expand(-1, lp.size(1), -1))
    hs = torch.stack([hidden[i] for i in layers.tolist()], dim=0)
    return {"entropy": ent, "topk_ids": ti, "topk_logprobs": tv, "next_logprob": nl,
            "probe_logprobs": pl, "hidden_states": hs, "logprobs": lp}


def compare_v2(got: Sequence[torch.Tensor], want: dict, mask: torch.Tensor) -> dict:
    """Max abs differences of v2 outputs against ``expected_v2`` at real positions. Top-k
    ids are compared through the reference log-probs of the ids returned (equal ids, or a
    tie within the tolerance, give 0)."""
    real = mask != 0
    e, ti, tv, nl, pl, hs = got
    lp = want["logprobs"]
    d = {
        "entropy": (e - want["entropy"])[real].abs().max().item(),
        "topk_logprobs": (tv - want["topk_logprobs"])[real].abs().max().item(),
        "topk_ids": (lp.gather(-1, ti) - want["topk_logprobs"])[real].abs().max().item(),
        "probe_logprobs": (pl - want["probe_logprobs"])[real].abs().max().item() if pl.numel() else 0.0,
        "hidden_states": (hs.float() - want["hidden_states"])[:, real].abs().max().item() if hs.numel() else 0.0,
    }
    wn = want["next_logprob"]
    both_nan = torch.isnan(nl) & torch.isnan(wn)
    both_ninf = torch.isneginf(nl) & torch.isneginf(wn)
    fin = torch.isfinite(wn) & real
    d["next_logprob"] = (nl - wn)[fin].abs().max().item() if fin.any() else 0.0
    # nan / -inf exactly where expected (padding / last position; ids past vocab_limit)
    d["next_logprob_special"] = float(((~torch.isfinite(wn)) & real & ~(both_nan | both_ninf)).sum().item())
    return d


V2_TOL = 1e-4  # float32 CPU: v2 vs v1 for entropy, log-probs, hidden states


def self_check_v2(model: GPTNeoXForCausalLM, traced, vocab_limit: int, top_k: int, log=print,
                  shapes=((1, 1), (3, 7), (2, 300), (4, 33))) -> None:
    """The traced v2 graph against the eager v1 module's full-logit quantities, on shapes
    other than the tracing shape, with right padding; and each row alone vs padded."""
    gen = torch.Generator().manual_seed(4321)
    eager = ContractWrapper(model).eval()
    L = model.config.num_hidden_layers
    with torch.no_grad():
        for b, t in shapes:
            ids, mask, lengths = _random_batch(gen, b, t, model.config.vocab_size)
            layers = torch.tensor([L, 0] if L > 0 else [0])
            probes = torch.randint(0, vocab_limit, (b, 3), generator=gen)
            logits, hidden = eager(ids, mask)
            want = expected_v2(logits, list(hidden), ids, mask, layers, probes, vocab_limit, top_k)
            got = traced(ids, mask, layers, probes)
            assert got[0].shape == (b, t) and got[1].shape == (b, t, top_k), (got[0].shape, got[1].shape)
            assert got[5].shape == (len(layers), b, t, model.config.hidden_size), got[5].shape
            d = compare_v2(got, want, mask)
            dp = 0.0
            for i, n in enumerate(lengths):
                alone = traced(ids[i:i + 1, :n], mask[i:i + 1, :n], layers, probes[i:i + 1])
                for k in (0, 2, 4):
                    dp = max(dp, (alone[k][0] - got[k][i, :n]).abs().max().item())
                dp = max(dp, (alone[5][:, 0] - got[5][:, i, :n]).abs().max().item())
            log("  v2 check B=%d T=%d: |v2-v1| %s; padded-vs-alone %.2e"
                % (b, t, " ".join("%s %.1e" % kv for kv in d.items()), dp))
            bad = [k for k, v in d.items() if v > V2_TOL]
            if bad or dp > V2_TOL:
                raise AssertionError("v2 graph disagrees with the eager model (B=%d T=%d): %s"
                                     % (b, t, bad or "padding"))


def bf16_check_v2(model: GPTNeoXForCausalLM, traced_path: str, vocab_limit: int, log=print) -> None:
    """The traced v2 graph runs with bf16 weights (CPU): finite, hidden states in bf16,
    entropies near the fp32 ones."""
    gen = torch.Generator().manual_seed(98)
    ids, mask, _ = _random_batch(gen, 2, 19, min(257, vocab_limit))
    layers = torch.tensor([model.config.num_hidden_layers])
    probes = ids[:, :1]
    with torch.no_grad():
        tr = torch.jit.load(traced_path, map_location="cpu")
        ref = tr(ids, mask, layers, probes)
        got = tr.to(torch.bfloat16)(ids, mask, layers, probes)
    real = mask != 0
    assert got[0].dtype == torch.float32 and got[2].dtype == torch.float32
    assert got[5].dtype == torch.bfloat16, got[5].dtype
    if not torch.isfinite(got[0][real]).all() or not torch.isfinite(got[2][real]).all():
        raise AssertionError("non-finite bf16 v2 outputs")
    de = (got[0] - ref[0])[real].abs().max().item()
    log("  v2 bf16: entropy vs fp32 %.2e nats (max entropy %.2f)" % (de, ref[0][real].max().item()))
    if de > 0.05 * max(1.0, ref[0][real].max().item()):
        raise AssertionError("bf16 v2 entropies far from fp32: %.3g" % de)


def _graph_has_device_constant(traced) -> bool:
    g = str(traced.inlined_graph)
    return 'Device = prim::Constant[value="cpu"]' in g or 'value="cuda' in g


def export_model(model: GPTNeoXForCausalLM, out_dir: str, name: str,
                 vocab_limit: int = tok.VOCAB_LIMIT, eos_token_id: int = tok.EOS_ID,
                 tokenizer_src: Optional[str] = None,
                 tokenizer_extra_added: Optional[Sequence[str]] = None,
                 onnx: bool = True, reference: bool = True, check: bool = True,
                 encode: Callable[[str], List[int]] = tok.encode, log=print,
                 contract_version: int = 1, top_k: int = TOP_K, attention: str = "auto") -> None:
    """Write the contract files for ``model`` into ``out_dir``.

    contract_version 2 traces ScoringWrapper (top_k ids per position; attention "auto" =
    SDPA where this torch has it, else "math") instead of ContractWrapper."""
    if contract_version not in (1, 2):
        raise ValueError("contract_version must be 1 or 2, got %r" % (contract_version,))
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
    gen = torch.Generator().manual_seed(7)
    ex_ids = torch.randint(0, vocab_limit, (2, 11), generator=gen)
    ex_mask = torch.ones(2, 11, dtype=torch.long)
    ex_mask[1, 8:] = 0
    if contract_version == 1:
        wrapper = ContractWrapper(model).eval()
        example = (ex_ids, ex_mask)
        input_names = ["input_ids", "attention_mask"]
        output_names = ["logits", "hidden_states"]
        dynamic_axes = {"logits": {0: "batch", 1: "sequence"},
                        "hidden_states": {1: "batch", 2: "sequence"}}
        attention_impl = "fp32"
    else:
        # a copy: the caller's module keeps its v1 attention (make_reference runs it)
        scoring = copy.deepcopy(model)
        attention_impl = set_attention(scoring, attention)
        wrapper = ScoringWrapper(scoring, vocab_limit, top_k).eval()
        example = (ex_ids, ex_mask, torch.tensor([L, 0]), ex_ids[:, :2].contiguous())
        input_names = ["input_ids", "attention_mask", "layers", "probe_ids"]
        output_names = list(V2_OUTPUTS)
        dynamic_axes = {"layers": {0: "layers"}, "probe_ids": {0: "batch", 1: "probes"},
                        "entropy": {0: "batch", 1: "sequence"},
                        "topk_ids": {0: "batch", 1: "sequence"},
                        "topk_logprobs": {0: "batch", 1: "sequence"},
                        "next_logprob": {0: "batch", 1: "sequence"},
                        "probe_logprobs": {0: "batch", 1: "sequence", 2: "probes"},
                        "hidden_states": {0: "layers", 1: "batch", 2: "sequence"}}
    dynamic_axes.update({"input_ids": {0: "batch", 1: "sequence"},
                         "attention_mask": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, example, check_trace=False)
    if _graph_has_device_constant(traced):
        raise AssertionError("traced graph contains a fixed device constant")
    pt_path = os.path.join(out_dir, "model.pt")
    traced.save(pt_path)
    if check:
        log("self-check %s (contract v%d, traced at B=2 T=11)" % (name, contract_version))
        if contract_version == 1:
            self_check(model, torch.jit.load(pt_path, map_location="cpu"), vocab_limit, log=log)
            bf16_check(model, pt_path, log=log)
        else:
            self_check_v2(model, torch.jit.load(pt_path, map_location="cpu"), vocab_limit, top_k, log=log)
            bf16_check_v2(model, pt_path, vocab_limit, log=log)

    if onnx:
        onnx_path = os.path.join(out_dir, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(
                wrapper, example, onnx_path, opset_version=14,
                input_names=input_names, output_names=output_names,
                dynamic_axes=dynamic_axes, do_constant_folding=True)
        import onnx as onnx_lib
        onnx_lib.checker.check_model(onnx_lib.load(onnx_path))
        log("  onnx: %s written and checked (opset 14)" % onnx_path)
    else:
        p = os.path.join(out_dir, "model.onnx")
        if os.path.exists(p):
            os.remove(p)

    knowable = {
        "contract": CONTRACT if contract_version == 1 else CONTRACT_V2,
        "contract_version": contract_version,
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
    if contract_version == 2:
        knowable.update({
            "top_k": top_k,
            "attention": attention_impl,
            "torch_version": torch.__version__,
            "inputs": input_names,
            "outputs": output_names,
        })
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


def load_export(model_dir: str) -> GPTNeoXForCausalLM:
    """The eager module holding the weights of an export's model.pt (contract v1 or v2:
    both wrap the module as ``model``), built from its config.json."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = NeoXConfig.from_hf_dict(json.load(f))
    traced = torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
    sd = {k[len("model."):]: v.float() for k, v in traced.state_dict().items() if k.startswith("model.")}
    model = GPTNeoXForCausalLM(cfg)
    model.load_state_dict(sd, strict=True)
    return model.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="checkpoint .pt written by tools/train.py")
    src.add_argument("--from-export", help="an exported model directory whose model.pt weights to re-export")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", help="model name (required with --checkpoint)")
    ap.add_argument("--vocab-limit", type=int, default=None,
                    help="default: %d with --checkpoint, the source's with --from-export" % tok.VOCAB_LIMIT)
    ap.add_argument("--contract", type=int, choices=[1, 2], default=1, help="contract version to write")
    ap.add_argument("--top-k", type=int, default=TOP_K, help="v2: top-k ids per position in the graph")
    ap.add_argument("--attention", choices=["auto", "sdpa", "math"], default="auto", help="v2 attention")
    ap.add_argument("--no-onnx", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    v2 = dict(contract_version=a.contract, top_k=a.top_k, attention=a.attention)
    if a.checkpoint:
        if not a.name:
            ap.error("--name is required with --checkpoint")
        model = load_checkpoint(a.checkpoint)
        export_model(model, a.out, a.name, vocab_limit=a.vocab_limit or tok.VOCAB_LIMIT,
                     onnx=not a.no_onnx, **v2)
        return 0
    with open(os.path.join(a.from_export, "knowable.json"), encoding="utf-8") as f:
        meta = json.load(f)
    if os.path.abspath(a.from_export) == os.path.abspath(a.out):
        ap.error("--out must differ from --from-export")
    model = load_export(a.from_export)
    # reference.json depends on the weights and texts only: the source's is copied
    export_model(model, a.out, a.name or meta["name"], vocab_limit=a.vocab_limit or meta["vocab_limit"],
                 eos_token_id=meta.get("eos_token_id", tok.EOS_ID),
                 tokenizer_src=os.path.join(a.from_export, "tokenizer.json"),
                 onnx=not a.no_onnx, reference=False, **v2)
    ref = os.path.join(a.from_export, "reference.json")
    if os.path.exists(ref) and (a.vocab_limit is None or a.vocab_limit == meta["vocab_limit"]):
        shutil.copyfile(ref, os.path.join(a.out, "reference.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
