#!/usr/bin/python3
"""Build the random-init fixture models used by the Java tests (deterministic, seeded).

  /usr/bin/python3 tools/make_fixtures.py [--out common/src/test/resources/models]

Writes:
  random-small/     2 layers, hidden 32, 4 heads, max_context 128 (with model.onnx)
  random-large/     3 layers, hidden 48, 4 heads, max_context 128, same tokenizer.json
  bad-contract/     model.pt whose forward returns only the logits tensor (+ config,
                    knowable, tokenizer) for the "model breaks the contract" test
  other-tokenizer/  random-small's weights with a different tokenizer.json (extra added
                    token <|pad|> id 257) for the "mismatched tokenizer pair" test
  non-finite/       random-small's weights and tokenizer; its logits are NaN at every
                    position whose input token is '@' (id 64), and one logit is +Inf where
                    the input token is '^' (id 94), for the "model returns NaN / Inf" tests
"""
import argparse
import os
import shutil
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights  # noqa: E402
from knowable_lm import export, tokenizer as tok  # noqa: E402

VOCAB_ROWS = 264  # padded output matrix, like Pythia; 257 usable ids
NAN_ID = 64  # '@' in the byte-level tokenizer
INF_ID = 94  # '^'


class NonFiniteWrapper(torch.nn.Module):
    """The contract's outputs, with NaN logits after NAN_ID and a +Inf logit (id 0) after INF_ID."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        logits, hidden = self.model(input_ids, attention_mask)
        logits = logits.float()
        nan_at = (input_ids == NAN_ID).unsqueeze(-1)
        logits = torch.where(nan_at, torch.full_like(logits, float("nan")), logits)
        first = torch.arange(logits.shape[-1]) == 0
        inf_at = (input_ids == INF_ID).unsqueeze(-1) & first
        logits = torch.where(inf_at, torch.full_like(logits, float("inf")), logits)
        return logits, torch.stack(hidden, dim=0).float()


def random_model(layers: int, hidden: int, heads: int, seed: int) -> GPTNeoXForCausalLM:
    cfg = NeoXConfig(vocab_size=VOCAB_ROWS, hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=heads, intermediate_size=4 * hidden,
                     max_position_embeddings=128, rotary_pct=0.5)
    m = GPTNeoXForCausalLM(cfg)
    g = torch.Generator().manual_seed(seed)
    init_weights(m, g, std=0.2, embed_std=0.5, out_std=0.5)
    return m.eval()


def make_v2(small, large, out):
    export.export_model(small, os.path.join(out, "random-small-v2"), "random-small-v2", onnx=True,
                        contract_version=2)
    export.export_model(large, os.path.join(out, "random-large-v2"), "random-large-v2", onnx=False,
                        contract_version=2)


def main(argv=None):
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(here, "common/src/test/resources/models"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = a.out
    os.makedirs(out, exist_ok=True)

    small = random_model(2, 32, 4, seed=1001)
    export.export_model(small, os.path.join(out, "random-small"), "random-small", onnx=True)

    large = random_model(3, 48, 4, seed=1002)
    export.export_model(large, os.path.join(out, "random-large"), "random-large", onnx=False)

    # bad contract: forward returns only logits
    bad = os.path.join(out, "bad-contract")
    os.makedirs(bad, exist_ok=True)
    for f in os.listdir(bad):
        os.remove(os.path.join(bad, f))
    export.export_model(small, bad, "bad-contract", onnx=False, reference=False, check=False)
    export.export_logits_only(small, os.path.join(bad, "model.pt"))

    # other tokenizer: same weights as random-small, tokenizer with an extra added token
    other = os.path.join(out, "other-tokenizer")
    export.export_model(small, other, "other-tokenizer", onnx=False,
                        tokenizer_extra_added=["<|pad|>"], check=False)

    # non-finite: made last so the models above are generated exactly as before
    nf = os.path.join(out, "non-finite")
    export.export_model(small, nf, "non-finite", onnx=False, reference=False, check=False)
    w = NonFiniteWrapper(small).eval()
    ids = torch.tensor([[1, NAN_ID, 2, INF_ID, 3]], dtype=torch.long)
    with torch.no_grad():
        traced = torch.jit.trace(w, (ids, torch.ones_like(ids)), check_trace=False)
        lg, _ = traced(torch.tensor([[5, 6, NAN_ID, INF_ID, 7, 8]]), torch.ones(1, 6, dtype=torch.long))
    # the trace must keep the data-dependent masks (NaN at 2 only, Inf at 3 only)
    assert torch.isnan(lg[0, 2]).all() and not torch.isnan(lg[0, [0, 1, 4, 5]]).any()
    assert torch.isinf(lg[0, 3, 0]) and torch.isfinite(lg[0, 3, 1:]).all()
    traced.save(os.path.join(nf, "model.pt"))

    # contract v2 exports of the same weights (made last, so the models above are unchanged)
    make_v2(small, large, out)

    for d in sorted(os.listdir(out)):
        p = os.path.join(out, d)
        if os.path.isdir(p):
            size = sum(os.path.getsize(os.path.join(p, f)) for f in os.listdir(p))
            print("%-16s %8d bytes  %s" % (d, size, " ".join(sorted(os.listdir(p)))))


if __name__ == "__main__":
    main()
