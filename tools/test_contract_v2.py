#!/usr/bin/python3
"""Contract v2 against v1 on the same weights, for every bundled model.

  /usr/bin/python3 tools/test_contract_v2.py [MODEL_DIR ...]

Default models: every directory of demo/models and common/src/test/resources/models that
holds a v1 export with a reference.json. Each is re-exported as v2 into a temporary
directory (knowable_lm.export --from-export: the weights of its model.pt, whose own
self-check compares the v2 graph with the eager module on padded random batches), and
then the shipped v1 model.pt and the new v2 model.pt run the reference texts as one
right-padded batch, float32 on the CPU. Compared at real positions: entropy, the top-k
log-probs, the top-k ids (through v1's log-probs, so exact ties cannot fail it), the
realised next token's log-prob and probe log-probs (against v1's log-softmax), and every
hidden state. Also against reference.json (eager float32 outputs, 7 significant digits):
v2's entropy and top-k log-probs. Tolerance 1e-4 absolute; exits 1 on any excess.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

from knowable_lm import export  # noqa: E402

TOL = 1e-4


def default_models():
    out = []
    for base in ("demo/models", "common/src/test/resources/models"):
        for d in sorted(glob.glob(os.path.join(ROOT, base, "*"))):
            k = os.path.join(d, "knowable.json")
            if os.path.exists(k) and os.path.exists(os.path.join(d, "reference.json")):
                if json.load(open(k))["contract"] == export.CONTRACT:
                    out.append(d)
    return out


def compare(v1_dir: str, v2_dir: str) -> dict:
    meta = json.load(open(os.path.join(v1_dir, "knowable.json")))
    ref = json.load(open(os.path.join(v1_dir, "reference.json")))
    vl, L = meta["vocab_limit"], meta["num_layers"]
    cases = ref["cases"]
    t = max(len(c["input_ids"]) for c in cases)
    ids = torch.zeros(len(cases), t, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, c in enumerate(cases):
        ids[i, :len(c["input_ids"])] = torch.tensor(c["input_ids"])
        mask[i, :len(c["input_ids"])] = 1
    layers = torch.arange(L + 1)
    probes = torch.tensor([[0, vl - 1, 7 % vl]] * len(cases))
    v1 = torch.jit.load(os.path.join(v1_dir, "model.pt"), map_location="cpu")
    v2 = torch.jit.load(os.path.join(v2_dir, "model.pt"), map_location="cpu")
    k = json.load(open(os.path.join(v2_dir, "knowable.json")))["top_k"]
    with torch.no_grad():
        logits, hidden = v1(ids, mask)
        got = v2(ids, mask, layers, probes)
    want = export.expected_v2(logits, list(hidden), ids, mask, layers, probes, vl, k)
    d = export.compare_v2(got, want, mask)
    # reference.json (eager fp32, rounded to 7 significant digits)
    de = dt = 0.0
    for i, c in enumerate(cases):
        n = len(c["input_ids"])
        de = max(de, (got[0][i, :n] - torch.tensor(c["entropy"])).abs().max().item())
        kk = min(k, len(c["topk_logprobs"][0]))
        dt = max(dt, (got[2][i, :n, :kk] - torch.tensor(c["topk_logprobs"])[:, :kk]).abs().max().item())
    d["ref entropy"] = de
    d["ref topk_logprobs"] = dt
    return d


def main(argv=None):
    models = (argv if argv is not None else sys.argv[1:]) or default_models()
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="contract_v2_")
    failed = []
    try:
        for d in models:
            name = os.path.basename(os.path.normpath(d))
            out = os.path.join(tmp, name)
            r = subprocess.run([sys.executable, "-m", "knowable_lm.export", "--from-export", d, "--out", out,
                                "--contract", "2", "--no-onnx"], cwd=HERE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                print(r.stdout[-3000:])
                failed.append(name + " (export)")
                continue
            diffs = compare(d, out)
            worst = max(diffs.values())
            print("%-16s %s  %s" % (name, "ok  " if worst <= TOL else "FAIL",
                                    " ".join("%s %.1e" % kv for kv in diffs.items())))
            if worst > TOL:
                failed.append(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("OK: v2 equals v1 within %g on %d models" % (TOL, len(models)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
