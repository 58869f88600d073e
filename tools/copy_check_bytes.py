#!/usr/bin/python3
"""Does a byte-level model copy in context? (docs/ICLT.md, "Why the bundled family hardly copies")

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/copy_check_bytes.py demo/models/tiny-small /tmp/ck/tiny-small-copy.pt

For each model (an exported directory or a train.py checkpoint): the first 120 bytes of the
first 40 documents of every demo/corpora/probe domain, and 40 strings of 120 random printable
bytes (seeded), each followed by a separator and the same bytes again; prints the mean
probability of the true next byte in the first copy (no hint) and in the second (hint).
A model that copies moves the second number towards 1, on random bytes above all, where
nothing but the earlier occurrence predicts the next byte. --separators eos,newline,none
repeats the check with each separator between the copies.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from knowable_lm import ckpt  # noqa: E402

DOMAINS = ["code", "legal", "speech", "scripture", "reference"]
SEPARATORS = {"eos": [256], "newline": [10], "none": []}


def probe_texts(corpora, per_domain=40, length=120):
    out = []
    for d in DOMAINS:
        n = 0
        with open(os.path.join(corpora, "probe", d + ".jsonl"), encoding="utf-8") as f:
            for line in f:
                t = json.loads(line)["text"].encode("utf-8")[:length]
                if len(t) == length:
                    out.append(list(t))
                    n += 1
                if n == per_domain:
                    break
    return out


def copy_probabilities(model, seqs, sep, vocab_limit=257):
    """Mean p(true next byte) over positions 1..m-1 of the first copy and of the second."""
    no_hint = hint = 0.0
    n = 0
    with torch.no_grad():
        for s in seqs:
            full = s + sep + s
            m, k = len(s), len(sep)
            logits = model(torch.tensor([full]), torch.ones(1, len(full), dtype=torch.long), return_hidden=False)
            lp = torch.log_softmax(logits[0, :, :vocab_limit].float(), -1)
            tgt = torch.tensor(s[1:]).unsqueeze(-1)
            no_hint += lp[0:m - 1].gather(-1, tgt).exp().sum().item()
            # the second copy starts at m + k; position m + k + i - 1 predicts its byte i
            hint += lp[m + k:2 * m + k - 1].gather(-1, tgt).exp().sum().item()
            n += m - 1
    return no_hint / n, hint / n


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="exported model directories or train.py checkpoints")
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--separators", default="eos")
    a = ap.parse_args()
    torch.set_num_threads(1)
    natural = probe_texts(a.corpora)
    g = torch.Generator().manual_seed(5)
    random_bytes = [torch.randint(32, 127, (120,), generator=g).tolist() for _ in range(40)]
    for spec in a.models:
        model = (ckpt.model_from_dir(spec) if os.path.isdir(spec) else ckpt.model_from(ckpt.load(spec))).eval()
        for name in a.separators.split(","):
            sep = SEPARATORS[name]
            p0, p1 = copy_probabilities(model, natural, sep)
            r0, r1 = copy_probabilities(model, random_bytes, sep)
            print("%s (separator %s): natural text %.3f -> %.3f, random bytes %.3f -> %.3f"
                  % (spec, name, p0, p1, r0, r1), flush=True)


if __name__ == "__main__":
    main()
