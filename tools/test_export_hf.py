#!/usr/bin/python3
"""tools/export_hf.py on a Hugging Face-layout checkpoint of Pythia-70M's shape.

  /usr/bin/python3 tools/test_export_hf.py [--keep DIR]

Writes, with this project's own code and no download, what a Hugging Face GPT-NeoX
checkpoint directory holds: config.json (model_type gpt_neox; Pythia-70M's sizes: 6 layers,
hidden 512, 8 heads, 50304 output rows, rotary_pct 0.25, parallel residual), the
weights under Hugging Face parameter names as pytorch_model.bin in float16 (as Pythia's
are), plus the rotary inv_freq / masked_bias buffers older transformers versions saved,
and a byte-level tokenizer.json. Random weights (seeded).

Then exports it with tools/export_hf.py as contract v2 (the default) and as v1, and
compares both exported graphs with the project's eager GPTNeoXForCausalLM holding the
same weights, on a right-padded batch at real positions:
  v1: logits and every hidden state;
  v2: entropy over [0, vocab_limit), top-k log-probs (ids through the reference
      log-probs, so exact ties cannot fail it), the realised next token's log-prob, probe
      log-probs (these three are logits minus the log-normaliser) and the hidden states.
Tolerance 1e-4 absolute (float32 on the CPU; the paths differ only in summation order).
Exits 1 on any excess.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights, load_hf_state_dict  # noqa: E402
from knowable_lm import export, tokenizer as tok  # noqa: E402

TOL = 1e-4
VOCAB_LIMIT = 50254  # Pythia's: the paper's entropies exclude the padded rows

PYTHIA_70M = NeoXConfig(vocab_size=50304, hidden_size=512, num_hidden_layers=6, num_attention_heads=8,
                        intermediate_size=2048, max_position_embeddings=2048, rotary_pct=0.25,
                        rotary_emb_base=10000.0, use_parallel_residual=True, bos_token_id=0,
                        eos_token_id=0)


def write_hf_checkpoint(d: str) -> dict:
    """An HF-layout GPT-NeoX directory; returns the state dict as saved (float16)."""
    os.makedirs(d, exist_ok=True)
    model = GPTNeoXForCausalLM(PYTHIA_70M)
    init_weights(model, torch.Generator().manual_seed(70), std=0.02)
    sd = {k: v.half() for k, v in model.state_dict().items()}
    cfg = PYTHIA_70M.to_hf_dict()
    cfg["torch_dtype"] = "float16"
    extra = {}
    head = PYTHIA_70M.hidden_size // PYTHIA_70M.num_attention_heads
    rot = int(head * PYTHIA_70M.rotary_pct)
    for i in range(PYTHIA_70M.num_hidden_layers):
        p = "gpt_neox.layers.%d.attention." % i
        extra[p + "masked_bias"] = torch.tensor(-1e9)
        extra[p + "rotary_emb.inv_freq"] = 1.0 / (10000 ** (torch.arange(0, rot, 2).float() / rot))
    import json
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    torch.save(dict(sd, **extra), os.path.join(d, "pytorch_model.bin"))
    tok.write_tokenizer(os.path.join(d, "tokenizer.json"))
    return sd


def run_export(ckpt: str, out: str, contract: int, check: bool) -> None:
    cmd = [sys.executable, os.path.join(HERE, "export_hf.py"), "--checkpoint", ckpt, "--out", out,
           "--vocab-limit", str(VOCAB_LIMIT), "--contract", str(contract), "--no-onnx"]
    if not check:
        cmd.append("--no-check")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print("\n".join(line for line in r.stdout.splitlines() if "Warning" not in line and line.strip()))
    if r.returncode != 0:
        raise SystemExit("export_hf.py --contract %d failed (exit %d)" % (contract, r.returncode))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="write the checkpoint and exports here instead of a temporary directory")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    root = a.keep or tempfile.mkdtemp(prefix="test_export_hf_")
    try:
        ckpt = os.path.join(root, "hf-pythia-70m-shape")
        sd = write_hf_checkpoint(ckpt)
        # the project's eager model on the same (float16-rounded) weights
        eager = GPTNeoXForCausalLM(PYTHIA_70M)
        load_hf_state_dict(eager, sd)
        eager.eval()
        run_export(ckpt, os.path.join(root, "v2"), 2, check=True)
        run_export(ckpt, os.path.join(root, "v1"), 1, check=False)

        gen = torch.Generator().manual_seed(5)
        b, t = 3, 96
        ids = torch.randint(0, PYTHIA_70M.vocab_size, (b, t), generator=gen)  # some ids >= vocab_limit
        mask = torch.ones(b, t, dtype=torch.long)
        mask[1, 60:] = 0
        mask[2, 7:] = 0
        ids = ids * mask
        real = mask != 0
        L = PYTHIA_70M.num_hidden_layers
        layers = torch.tensor([L, 0, 3])
        probes = torch.randint(0, VOCAB_LIMIT, (b, 4), generator=gen)
        worst = {}
        with torch.no_grad():
            logits, hidden = eager(ids, mask)
            v1 = torch.jit.load(os.path.join(root, "v1", "model.pt"), map_location="cpu")
            l1, h1 = v1(ids, mask)
            worst["v1 logits"] = (l1 - logits)[real].abs().max().item()
            worst["v1 hidden"] = (h1 - torch.stack(hidden))[:, real].abs().max().item()
            v2 = torch.jit.load(os.path.join(root, "v2", "model.pt"), map_location="cpu")
            got = v2(ids, mask, layers, probes)
            want = export.expected_v2(logits, list(hidden), ids, mask, layers, probes, VOCAB_LIMIT, export.TOP_K)
            for k, v in export.compare_v2(got, want, mask).items():
                worst["v2 " + k] = v
        import json
        meta = json.load(open(os.path.join(root, "v2", "knowable.json")))
        ok = meta["contract"] == export.CONTRACT_V2 and meta["contract_version"] == 2
        ok = ok and meta["vocab_limit"] == VOCAB_LIMIT and meta["vocab_size"] == PYTHIA_70M.vocab_size
        print("knowable.json: contract %s, vocab_limit %d, attention %s"
              % (meta["contract"], meta["vocab_limit"], meta["attention"]))
        for k, v in worst.items():
            print("  %-28s %.2e" % (k, v))
        bad = [k for k, v in worst.items() if v > TOL]
        if bad or not ok:
            print("FAIL: %s" % (bad or "knowable.json"))
            return 1
        print("OK: v1 and v2 exports of the HF-layout Pythia-70M-shape checkpoint equal the eager model within %g"
              % TOL)
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
