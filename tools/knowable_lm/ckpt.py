"""Training checkpoints that any torch version reads.

tools/train.py writes ``{"config": HF config dict, "state_dict": {name: CPU tensor},
"train": {...}}`` with ``torch.save``. A checkpoint made on another machine with a newer
torch (e.g. torch 2.x on a GPU box) is also written in a *portable* form by
:func:`save_portable`: the same dict, but every tensor replaced by
``{"dtype": "float32"|"bfloat16"|..., "shape": [...], "data": raw little-endian bytes}``
and pickled with the standard ``pickle`` module (protocol 4), so reading it needs no
torch serialization code at all (torch 1.13 reads torch 2.x zip files in practice, but
this does not depend on it). :func:`load` reads both forms; bf16 weights come back as
float32.
"""
import os
import pickle
from typing import Dict

import torch

from .gpt_neox import GPTNeoXForCausalLM, NeoXConfig

PORTABLE_MAGIC = "knowable-portable-checkpoint/1"
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
           "int64": torch.int64}


def _to_raw(t: torch.Tensor) -> dict:
    t = t.detach().cpu().contiguous()
    name = str(t.dtype).replace("torch.", "")
    if name not in _DTYPES:
        raise ValueError("unsupported dtype %s" % t.dtype)
    # bytes via a uint8 view (bf16 has no numpy type); int16 view keeps 2-byte dtypes exact
    raw = t.reshape(-1).view(torch.uint8) if t.numel() else torch.zeros(0, dtype=torch.uint8)
    try:
        data = raw.numpy().tobytes()
    except (ImportError, RuntimeError):  # a torch built without numpy
        data = bytes(raw.tolist())
    return {"dtype": name, "shape": list(t.shape), "data": data}


def _from_raw(r: dict) -> torch.Tensor:
    dt = _DTYPES[r["dtype"]]
    buf = bytearray(r["data"])
    u8 = torch.frombuffer(buf, dtype=torch.uint8) if len(buf) else torch.zeros(0, dtype=torch.uint8)
    return u8.view(dt).reshape(r["shape"]).clone()


def save_portable(ck: dict, path: str, dtype: torch.dtype = torch.float32) -> None:
    """Write ``ck`` (a train.py checkpoint dict) in the portable form, weights cast to ``dtype``."""
    out = dict(ck)
    out["format"] = PORTABLE_MAGIC
    out["state_dict"] = {k: _to_raw(v.to(dtype) if v.is_floating_point() else v)
                         for k, v in ck["state_dict"].items()}
    with open(path + ".tmp", "wb") as f:
        pickle.dump(out, f, protocol=4)
    os.replace(path + ".tmp", path)


def load(path: str) -> dict:
    """A checkpoint dict with ``state_dict`` of float32 CPU tensors, from either form."""
    with open(path, "rb") as f:
        head = f.read(2)
    if head[:1] == b"\x80":  # a plain pickle (protocol >= 2): the portable form
        with open(path, "rb") as f:
            ck = pickle.load(f)
        if ck.get("format") != PORTABLE_MAGIC:
            raise ValueError("%s: a pickle but not a %s file" % (path, PORTABLE_MAGIC))
        ck["state_dict"] = {k: _from_raw(v) for k, v in ck["state_dict"].items()}
    else:
        # our own files: the full unpickler (torch >= 2.6 defaults to weights_only=True)
        ck = torch.load(path, map_location="cpu", weights_only=False)
    ck["state_dict"] = {k: (v.float() if v.is_floating_point() else v) for k, v in ck["state_dict"].items()}
    return ck


def model_from(ck: dict) -> GPTNeoXForCausalLM:
    """The eval-mode float32 model of a loaded checkpoint dict."""
    model = GPTNeoXForCausalLM(NeoXConfig.from_hf_dict(ck["config"]))
    model.load_state_dict(ck["state_dict"], strict=True)
    return model.eval()


def model_from_dir(model_dir: str) -> GPTNeoXForCausalLM:
    """The eager model of an exported contract directory: config.json + the parameters of
    the traced model.pt (the trace keeps the eager module's parameter names)."""
    import json
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = NeoXConfig.from_hf_dict(json.load(f))
    traced = torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
    sd: Dict[str, torch.Tensor] = {}
    for k, v in traced.state_dict().items():
        # the contract wrapper holds the model under one attribute prefix
        key = k.split(".", 1)[1] if not (k.startswith("gpt_neox.") or k.startswith("embed_out.")) else k
        sd[key] = v.float()
    model = GPTNeoXForCausalLM(cfg)
    model.load_state_dict(sd, strict=True)
    return model.eval()
