"""A plain-PyTorch GPT-NeoX causal language model.

Parameter names follow Hugging Face ``GPTNeoXForCausalLM`` exactly, so a real
Hugging Face state dict (Pythia, ...) loads with ``load_state_dict(strict=True)``
once its non-parameter buffers are dropped (see :func:`clean_hf_state_dict`).

The forward pass is written so that ``torch.jit.trace`` gives a graph that runs
for any batch size, any sequence length and on any device:

* no tensor is created with a fixed shape or device inside ``forward``: positions,
  rotary frequencies and masks are derived from the inputs by arithmetic and
  ``cumsum`` (no factory function, which the tracer would pin to one device);
* dtype conversions go through ``type_as`` (recorded dynamically by the tracer),
  so the traced module also runs with bf16 / fp16 weights.

Right padding: ``attention_mask`` is 1 on real tokens and 0 on padding. Position
ids are 0..T-1, attention is causal plus key masking, so the outputs at real
positions do not depend on the padding or on the other rows of the batch.

Attention implementations (``set_attention``), chosen before tracing:

* ``"fp32"`` (contract v1, the default): scores and softmax in float32 as an explicit
  [B*H, T, T] tensor with an additive causal + key-padding bias;
* ``"sdpa"`` (contract v2 where torch has ``F.scaled_dot_product_attention``): q, k, v in
  the weights' dtype, causal only. With right padding a real query at position i only
  attends to keys 0..i, which are all real, so the key mask changes nothing at real
  positions (padded positions' outputs are unspecified). The fused kernels keep the
  softmax in float32;
* ``"math"`` (contract v2 without SDPA): q k^T in the weights' dtype, softmax in float32,
  the same causal + key-padding bias as v1.
"""
import math
from dataclasses import dataclass, asdict, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class NeoXConfig:
    vocab_size: int = 264
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 256
    max_position_embeddings: int = 512
    rotary_pct: float = 0.25
    rotary_emb_base: float = 10000.0
    layer_norm_eps: float = 1e-5
    use_parallel_residual: bool = True
    tie_word_embeddings: bool = False
    bos_token_id: int = 256
    eos_token_id: int = 256
    hidden_act: str = "gelu"
    initializer_range: float = 0.02

    def to_hf_dict(self) -> dict:
        """The Hugging Face ``config.json`` content."""
        d = {
            "architectures": ["GPTNeoXForCausalLM"],
            "model_type": "gpt_neox",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "rotary_pct": self.rotary_pct,
            "rotary_emb_base": self.rotary_emb_base,
            "layer_norm_eps": self.layer_norm_eps,
            "use_parallel_residual": self.use_parallel_residual,
            "tie_word_embeddings": self.tie_word_embeddings,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "hidden_act": self.hidden_act,
            "initializer_range": self.initializer_range,
            "attention_dropout": 0.0,
            "hidden_dropout": 0.0,
            "use_cache": True,
            "torch_dtype": "float32",
        }
        return d

    @staticmethod
    def from_hf_dict(d: dict) -> "NeoXConfig":
        if d.get("model_type", "gpt_neox") != "gpt_neox":
            raise ValueError("not a gpt_neox config: model_type=%r" % d.get("model_type"))
        act = d.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError("unsupported hidden_act %r (only exact 'gelu')" % act)
        if d.get("tie_word_embeddings", False):
            raise ValueError("tied word embeddings are not supported")
        return NeoXConfig(
            vocab_size=int(d["vocab_size"]),
            hidden_size=int(d["hidden_size"]),
            num_hidden_layers=int(d["num_hidden_layers"]),
            num_attention_heads=int(d["num_attention_heads"]),
            intermediate_size=int(d["intermediate_size"]),
            max_position_embeddings=int(d["max_position_embeddings"]),
            rotary_pct=float(d.get("rotary_pct", 0.25)),
            rotary_emb_base=float(d.get("rotary_emb_base", 10000)),
            layer_norm_eps=float(d.get("layer_norm_eps", 1e-5)),
            use_parallel_residual=bool(d.get("use_parallel_residual", True)),
            tie_word_embeddings=False,
            bos_token_id=int(d.get("bos_token_id", 0) or 0),
            eos_token_id=int(d.get("eos_token_id", 0) or 0),
            hidden_act=act,
            initializer_range=float(d.get("initializer_range", 0.02)),
        )


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.size(-1) // 2
    x1 = x[..., :half]
    x2 = x[..., half:]
    return torch.cat((-x2, x1), dim=-1)


class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg: NeoXConfig):
        super().__init__()
        if cfg.hidden_size % cfg.num_attention_heads != 0:
            raise ValueError("hidden_size must be divisible by num_attention_heads")
        self.num_heads = cfg.num_attention_heads
        self.head_size = cfg.hidden_size // cfg.num_attention_heads
        self.rotary_ndims = int(self.head_size * cfg.rotary_pct)
        self.rotary_base = float(cfg.rotary_emb_base)
        self.scale = 1.0 / math.sqrt(self.head_size)
        self.impl = "fp32"  # see the module docstring and set_attention
        self.query_key_value = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def _rotary(self, positions: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """cos/sin of shape [T, rotary_ndims] in float32, computed from positions."""
        half = self.rotary_ndims // 2
        # 0..half-1 on the positions' device, built by arithmetic on the input only
        # (factory functions such as ones_like/new_ones/arange get a fixed device
        # constant when traced).
        idx = (positions[:1] * 0 + 1).expand(half).cumsum(0) - 1
        inv_freq = 1.0 / torch.pow(self.rotary_base, (idx * 2).float() / float(self.rotary_ndims))
        freqs = positions.float().unsqueeze(1) * inv_freq.unsqueeze(0)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    def forward(self, x: torch.Tensor, positions: torch.Tensor,
                mask_bias: Optional[torch.Tensor]) -> torch.Tensor:
        # x: [B, T, d]; positions: [T] int64; mask_bias: [B, 1, T, T] float32,
        # 0 where attention is allowed and -1e9 where it is not (None for "sdpa")
        qkv = self.query_key_value(x)
        b = qkv.size(0)
        t = qkv.size(1)
        qkv = qkv.view(b, t, self.num_heads, 3 * self.head_size).permute(0, 2, 1, 3)
        q = qkv[..., : self.head_size]
        k = qkv[..., self.head_size: 2 * self.head_size]
        v = qkv[..., 2 * self.head_size:]
        if self.rotary_ndims > 0:
            cos, sin = self._rotary(positions)
            cos = cos.type_as(q)
            sin = sin.type_as(q)
            r = self.rotary_ndims
            q_rot, q_pass = q[..., :r], q[..., r:]
            k_rot, k_pass = k[..., :r], k[..., r:]
            q = torch.cat((q_rot * cos + _rotate_half(q_rot) * sin, q_pass), dim=-1)
            k = torch.cat((k_rot * cos + _rotate_half(k_rot) * sin, k_pass), dim=-1)
        if self.impl == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.dense(out.permute(0, 2, 1, 3).flatten(2))
        b_h = q.size(0) * q.size(1)
        if self.impl == "math":
            # q k^T in the weights' dtype, softmax in float32
            bias = mask_bias.type_as(q).expand(-1, self.num_heads, -1, -1).reshape(b_h, t, t)
            scores = torch.baddbmm(bias, q.reshape(b_h, t, self.head_size),
                                   k.reshape(b_h, t, self.head_size).transpose(1, 2),
                                   beta=1.0, alpha=self.scale)
            probs = torch.softmax(scores.float(), dim=-1).type_as(v)
            out = torch.bmm(probs, v.reshape(b_h, t, self.head_size))
            out = out.view(b, self.num_heads, t, self.head_size).permute(0, 2, 1, 3).flatten(2)
            return self.dense(out)
        # scores in float32 whatever the weight dtype; the additive mask bias and the
        # 1/sqrt(head_size) scale are fused into one baddbmm
        qf = q.float().reshape(b_h, t, self.head_size)
        kf = k.float().reshape(b_h, t, self.head_size)
        bias = mask_bias.expand(-1, self.num_heads, -1, -1).reshape(b_h, t, t)
        scores = torch.baddbmm(bias, qf, kf.transpose(1, 2), beta=1.0, alpha=self.scale)
        probs = torch.softmax(scores, dim=-1).type_as(v)
        out = torch.bmm(probs, v.reshape(b_h, t, self.head_size))
        out = out.view(b, self.num_heads, t, self.head_size).permute(0, 2, 1, 3).flatten(2)
        return self.dense(out)


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg: NeoXConfig):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.dense_4h_to_h = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(x)))


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg: NeoXConfig):
        super().__init__()
        self.use_parallel_residual = cfg.use_parallel_residual
        self.input_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.post_attention_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.attention = GPTNeoXAttention(cfg)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, x, positions, mask_bias):
        attn = self.attention(self.input_layernorm(x), positions, mask_bias)
        if self.use_parallel_residual:
            # x + attn(ln1(x)) + mlp(ln2(x))  (HF sums mlp + attn + residual)
            mlp = self.mlp(self.post_attention_layernorm(x))
            return mlp + attn + x
        h = attn + x
        return self.mlp(self.post_attention_layernorm(h)) + h


class GPTNeoXModel(nn.Module):
    def __init__(self, cfg: NeoXConfig):
        super().__init__()
        self.embed_in = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([GPTNeoXLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def _prepare(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        # positions 0..T-1 on the input's device, derived from the input by arithmetic
        # only (no factory function, so no device constant in a traced graph)
        positions = (input_ids[0] * 0 + 1).cumsum(0) - 1
        if all(layer.attention.impl == "sdpa" for layer in self.layers):
            return positions, None  # causal masking inside the kernel
        causal = positions.unsqueeze(0) <= positions.unsqueeze(1)  # [T(query), T(key)]
        keys = attention_mask.unsqueeze(1).unsqueeze(2) != 0       # [B, 1, 1, T]
        allowed = causal.unsqueeze(0).unsqueeze(0) & keys            # [B, 1, T, T]
        # additive bias, built by arithmetic (no factory function): 0 allowed, -1e9 not
        return positions, (allowed.float() - 1.0) * 1e9

    def forward_selected(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                         layers: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(the hidden states whose indices are in ``layers`` [n] int64, stacked
        [n, B, T, d] in the weights' dtype; the final-norm output [B, T, d]).

        Index convention as ``forward``: 0 = embeddings, l = layer l, L = after the final
        norm. Only the n selected states are kept: each step overwrites the slots whose
        index matches (an elementwise select, so the graph traces for any n)."""
        positions, mask_bias = self._prepare(input_ids, attention_mask)
        slots = layers.view(-1, 1, 1, 1)
        h = self.embed_in(input_ids)
        picked = torch.where(slots == 0, h.unsqueeze(0), h.unsqueeze(0) * 0)
        last = len(self.layers)
        for i, layer in enumerate(self.layers):
            h = layer(h, positions, mask_bias)
            if i < last - 1:
                picked = torch.where(slots == i + 1, h.unsqueeze(0), picked)
        h = self.final_layer_norm(h)
        picked = torch.where(slots == last, h.unsqueeze(0), picked)
        return picked, h

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> List[torch.Tensor]:
        positions, mask_bias = self._prepare(input_ids, attention_mask)
        h = self.embed_in(input_ids)
        hidden = [h]
        for i, layer in enumerate(self.layers):
            h = layer(h, positions, mask_bias)
            if i < len(self.layers) - 1:
                hidden.append(h)
        h = self.final_layer_norm(h)
        hidden.append(h)
        return hidden


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, cfg: NeoXConfig):
        super().__init__()
        self.config = cfg
        self.gpt_neox = GPTNeoXModel(cfg)
        self.embed_out = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                return_hidden: bool = True):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.gpt_neox(input_ids, attention_mask)
        logits = self.embed_out(hidden[-1])
        if return_hidden:
            return logits, hidden
        return logits

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def has_sdpa() -> bool:
    return hasattr(F, "scaled_dot_product_attention")


def set_attention(model: nn.Module, impl: str) -> str:
    """Sets every attention layer to ``impl`` ("fp32", "sdpa", "math", or "auto" = "sdpa"
    where this torch has it, else "math"); returns the implementation set."""
    if impl == "auto":
        impl = "sdpa" if has_sdpa() else "math"
    if impl not in ("fp32", "sdpa", "math"):
        raise ValueError("attention implementation %r (fp32, sdpa, math or auto)" % impl)
    if impl == "sdpa" and not has_sdpa():
        raise ValueError("torch %s has no F.scaled_dot_product_attention" % torch.__version__)
    for m in model.modules():
        if isinstance(m, GPTNeoXAttention):
            m.impl = impl
    return impl


def init_weights(model: GPTNeoXForCausalLM, generator: torch.Generator,
                 std: float = 0.02, embed_std: Optional[float] = None,
                 out_std: Optional[float] = None) -> None:
    """Deterministic normal init (biases 0, LayerNorm weight 1 / bias 0)."""
    embed_std = std if embed_std is None else embed_std
    out_std = std if out_std is None else out_std
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name or "layer_norm" in name:
                if name.endswith("weight"):
                    p.fill_(1.0)
                else:
                    p.zero_()
            elif name.endswith("bias"):
                p.zero_()
            elif name == "gpt_neox.embed_in.weight":
                p.copy_(torch.randn(p.shape, generator=generator) * embed_std)
            elif name == "embed_out.weight":
                p.copy_(torch.randn(p.shape, generator=generator) * out_std)
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * std)


# Keys present in some Hugging Face GPT-NeoX checkpoints that are buffers, not
# parameters (older transformers versions saved them).
_HF_BUFFER_SUFFIXES = (".attention.bias", ".attention.masked_bias", ".attention.rotary_emb.inv_freq")


def clean_hf_state_dict(sd: dict) -> dict:
    """Drop the non-parameter buffers that some HF checkpoints contain."""
    return {k: v for k, v in sd.items() if not k.endswith(_HF_BUFFER_SUFFIXES)}


def load_hf_state_dict(model: GPTNeoXForCausalLM, sd: dict) -> None:
    """Load a Hugging Face GPTNeoXForCausalLM state dict (strict)."""
    sd = clean_hf_state_dict(sd)
    sd = {k: v.float() for k, v in sd.items()}
    model.load_state_dict(sd, strict=True)
