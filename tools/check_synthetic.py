#!/usr/bin/python3
"""Check the in-context learning test (ICLT) on the synthetic question/answer language.

  /usr/bin/python3 tools/check_synthetic.py [--model demo/models/synthetic-qa]
  /usr/bin/python3 tools/check_synthetic.py --checkpoint /tmp/knowable-synth/synthetic-qa.pt
  # write eval.json and MODEL_CARD.md into the model directory:
  /usr/bin/python3 tools/check_synthetic.py --model demo/models/synthetic-qa \
      --train-checkpoint /tmp/knowable-synth/synthetic-qa.pt \
      --notes demo/models/synthetic-qa/trials.md --write

Reads demo/synthetic/probe.jsonl (held-out questions only, see tools/make_synthetic.py)
and, for every probe document with question Q (kind k = Q[0]):

- entropy: nats of the next-token distribution (first vocab_limit=257 logits) after the
  prompt `Q ` (the labelled position), and P('0')+P('1') there;
- repeat: for a hint c in {'0','1'}, the prompt `Q c\\nQ `; p_rep = mean over c of the
  probability of c at the last position (near 1: the model copies the hint, near 0.5:
  it ignores it);
- ICLT mutual information over the candidates {'0','1'}: prior q(c) = the model's
  hint-free probabilities of '0'/'1' (renormalised over the two), r_c = the answer
  distribution after hint c (renormalised over '0'/'1'); MI = H(sum_c q(c) r_c) -
  sum_c q(c) H(r_c) (nats, 0..ln 2). High MI: the answer depends on the context
  (epistemic); low MI: aleatoric. AUC of -MI for kind 1 (positive = aleatoric), and,
  as a baseline, AUC of the entropy.

The same numbers are also printed for the model-training questions (seen in training;
one prompt per question) for comparison. The model is the exported TorchScript model.pt
(--model) or a checkpoint of tools/train.py (--checkpoint, eager).
"""
import argparse
import json
import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm import export, tokenizer as tok  # noqa: E402
import make_synthetic as ms  # noqa: E402

ZERO, ONE = ord("0"), ord("1")


def auc(pos, neg):
    """P(score_pos > score_neg) + 0.5 P(tie) (Mann-Whitney)."""
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    ranks = [0.0] * len(allv)
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2.0 + 1
        i = j + 1
    rpos = sum(r for r, (_, lab) in zip(ranks, allv) if lab == 1)
    return (rpos - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg))


def h2(p):
    """Entropy (nats) of a distribution over two outcomes given as a tensor [..., 2]."""
    return -(p * p.clamp_min(1e-30).log()).sum(-1)


class Runner:
    def __init__(self, model_dir=None, checkpoint=None):
        if checkpoint:
            self.model = export.load_checkpoint(checkpoint)
            self.traced = False
        else:
            self.model = torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu").eval()
            self.traced = True

    def last_logprobs(self, prompts, batch=256):
        """log_softmax over the first vocab_limit logits at the last position of each prompt
        (prompts of equal length per call are batched; right padding otherwise)."""
        out = []
        with torch.no_grad():
            for i in range(0, len(prompts), batch):
                chunk = [tok.encode(p) for p in prompts[i:i + batch]]
                t = max(len(c) for c in chunk)
                ids = torch.zeros(len(chunk), t, dtype=torch.long)
                mask = torch.zeros(len(chunk), t, dtype=torch.long)
                for j, c in enumerate(chunk):
                    ids[j, :len(c)] = torch.tensor(c)
                    mask[j, :len(c)] = 1
                if self.traced:
                    logits, _ = self.model(ids, mask)
                else:
                    logits = self.model(ids, mask, return_hidden=False)
                last = torch.tensor([len(c) - 1 for c in chunk])
                lg = logits[torch.arange(len(chunk)), last, :tok.VOCAB_LIMIT].float()
                out.append(torch.log_softmax(lg, dim=-1))
        return torch.cat(out)


def measure(runner, qs):
    """Per question: entropy, mass on '0'/'1', p_rep, MI."""
    lp0 = runner.last_logprobs([q + " " for q in qs])
    p0 = lp0.exp()
    ent = -(p0 * lp0).sum(-1)
    two = p0[:, [ZERO, ONE]]
    mass = two.sum(-1)
    prior = two / mass.unsqueeze(-1)
    post = []
    prep = []
    for c, cid in (("0", ZERO), ("1", ONE)):
        pc = runner.last_logprobs(["%s %s\n%s " % (q, c, q) for q in qs]).exp()
        prep.append(pc[:, cid])
        tw = pc[:, [ZERO, ONE]]
        post.append(tw / tw.sum(-1, keepdim=True))
    post = torch.stack(post, dim=1)  # [n, c, y]
    mix = (prior.unsqueeze(-1) * post).sum(1)
    mi = h2(mix) - (prior * h2(post)).sum(-1)
    return {"entropy": ent, "mass01": mass, "p_rep": (prep[0] + prep[1]) / 2,
            "p_rep0": prep[0], "p_rep1": prep[1], "mi": mi.clamp_min(0.0)}


def mean(t):
    return float(t.mean().item()) if t.numel() else float("nan")


def evaluate(runner, probe_path, meta):
    docs = [json.loads(l) for l in open(probe_path, encoding="utf-8")]
    bits = meta["bits"]
    qs = [d["text"][:bits] for d in docs]
    kinds = torch.tensor([int(q[0]) for q in qs])
    m = measure(runner, qs)
    rows = []
    for k in (0, 1):
        sel = kinds == k
        rows.append({"set": "held-out probe", "kind": k, "n": int(sel.sum()),
                     **{key: round(mean(v[sel]), 4) for key, v in m.items()}})
    mi = m["mi"].tolist()
    ent = m["entropy"].tolist()
    pos = [i for i, k in enumerate(kinds.tolist()) if k == 1]
    neg = [i for i, k in enumerate(kinds.tolist()) if k == 0]
    res = {"auc_neg_mi": round(auc([-mi[i] for i in pos], [-mi[i] for i in neg]), 4),
           "auc_entropy": round(auc([ent[i] for i in pos], [ent[i] for i in neg]), 4)}
    train_qs, _ = ms.split(bits, meta["holdout"], meta["seed"])
    mt = measure(runner, train_qs)
    tk = torch.tensor([int(q[0]) for q in train_qs])
    # kind 0 seen in training: how often the hint-free argmax is the true f(Q)
    fq = torch.tensor([ms.f(q, meta["seed"]) for q in train_qs])
    for k in (0, 1):
        sel = tk == k
        rows.append({"set": "training questions", "kind": k, "n": int(sel.sum()),
                     **{key: round(mean(v[sel]), 4) for key, v in mt.items()}})
    lp = runner.last_logprobs([q + " " for q in train_qs])
    pred = (lp[:, ONE] > lp[:, ZERO]).long()
    k0 = tk == 0
    res["train_kind0_accuracy"] = round(float((pred[k0] == fq[k0]).float().mean()), 4)
    res["train_kind0_p_true"] = round(float(lp[k0].exp().gather(1, torch.where(
        fq[k0] == 1, ONE, ZERO).unsqueeze(1)).mean()), 4)
    return rows, res


def table(rows, res):
    lines = ["| questions | kind | n | entropy (nats) | P('0')+P('1') | p_repeat (hint c -> c) | ICLT MI (nats) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d (%s) | %d | %.4f | %.3f | %.3f | %.4f |" % (
            r["set"], r["kind"], "knowable" if r["kind"] == 0 else "aleatoric", r["n"],
            r["entropy"], r["mass01"], r["p_rep"], r["mi"]))
    lines += ["", "held-out probe, positive = kind 1 (aleatoric): AUC(-MI) = %.3f, AUC(entropy) = %.3f"
              % (res["auc_neg_mi"], res["auc_entropy"]),
              "training kind-0 questions: hint-free argmax = f(Q) for %.1f%%, mean P(f(Q)) = %.3f"
              % (100 * res["train_kind0_accuracy"], res["train_kind0_p_true"]),
              "(ln 2 = %.3f)" % math.log(2)]
    return "\n".join(lines)


CARD = """# synthetic-qa

Tiny byte-level GPT-NeoX causal LM trained from scratch (tools/train.py --train-jsonl) on
the synthetic question/answer language of tools/make_synthetic.py (demo/synthetic): records
`Q A\\n` with {bits}-bit questions; kind 0 (Q starts with 0): A = f(Q), fixed; kind 1: A a fair
coin flip; {repeat_pct:g}% of records are followed by the same question again. The held-out
questions of demo/synthetic/probe.jsonl never occur in the training text. Same tokenizer.json
(sha256 {tok_sha}) as the tiny family.

```sh
{commands}
```

| property | value |
|---|---|
| architecture | GPT-NeoX (rotary {rotary_pct:g}%, parallel attention + MLP, LayerNorm, GELU, untied output) |
| parameters | {params} |
| layers / hidden size / heads | {layers} / {hidden} / {heads} |
| max context | {context} |
| training stream | {stream} tokens ({train_jsonl}, sha256 {train_sha}) |
| training steps x batch x context | {steps} x {batch} x {context} |
| tokens seen | {seen} |
| training wall time | {minutes:.1f} min (1 CPU thread, Debian torch {torch}) |
| seed, peak lr | {seed}, {lr:g} |

## In-context learning test on the synthetic language (tools/check_synthetic.py)

{table}

entropy: at the labelled position (after `Q `); p_repeat: probability of c after
`Q c\\nQ ` (mean over c in {{0,1}}); MI: ICLT mutual information over the candidates
{{'0','1'}} (nats). Expected by construction: entropy about ln 2 for both kinds on held-out
questions (the model cannot know f(Q)), p_repeat near 1 for kind 0 and near 0.5 for
kind 1, so MI separates the kinds although the entropy cannot. AUC(entropy) is the
ranking of the hint-free entropies: a value far from 0.5 with both means near ln 2 means
tiny but systematic differences (the hint-free probabilities of one kind are slightly
less even than those of the other), not knowledge of the held-out answers.

Files: config.json, tokenizer.json, model.pt (TorchScript), model.onnx (opset 14),
knowable.json, reference.json (contract knowable-causal-lm/1, see tools/README.md),
train.log, eval.json, trials.md (the runs tried, appended below).
"""


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(here, "demo/models/synthetic-qa"),
                    help="exported model directory (model.pt)")
    ap.add_argument("--checkpoint", help="evaluate this tools/train.py checkpoint (eager) instead")
    ap.add_argument("--probe", default=os.path.join(here, "demo/synthetic/probe.jsonl"))
    ap.add_argument("--train-checkpoint", help="checkpoint with the training info, for --write")
    ap.add_argument("--notes", help="markdown file appended to MODEL_CARD.md (with --write)")
    ap.add_argument("--write", action="store_true",
                    help="write eval.json and MODEL_CARD.md into --model (needs --train-checkpoint)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    with open(os.path.join(os.path.dirname(os.path.abspath(a.probe)), "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    runner = Runner(model_dir=a.model, checkpoint=a.checkpoint)
    rows, res = evaluate(runner, a.probe, meta)
    tab = table(rows, res)
    print(tab)
    if a.write:
        if not a.train_checkpoint or a.checkpoint:
            ap.error("--write needs --model and --train-checkpoint")
        tr = torch.load(a.train_checkpoint, map_location="cpu")["train"]
        with open(os.path.join(a.model, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        with open(os.path.join(a.model, "knowable.json"), encoding="utf-8") as f:
            kn = json.load(f)
        with open(os.path.join(a.model, "eval.json"), "w", encoding="utf-8") as f:
            json.dump({"eval": "tools/check_synthetic.py on demo/synthetic/probe.jsonl",
                       "synthetic": meta, "train": tr, "rows": rows, "summary": res}, f, indent=2)
            f.write("\n")
        commands = "\n".join([
            meta["command"],
            "/usr/bin/python3 tools/train.py --name %s --train-jsonl %s \\\n"
            "    --layers %d --hidden %d --heads %d --context %d --rotary-pct %g \\\n"
            "    --steps %d --batch %d --lr %g --warmup %s --seed %d \\\n"
            "    --checkpoint %s --log %s/train.log"
            % (tr["name"], " ".join(tr.get("train_jsonl", [])), cfg["num_hidden_layers"],
               cfg["hidden_size"], cfg["num_attention_heads"], tr["context"], cfg["rotary_pct"],
               tr["steps"], tr["batch"], tr["lr"], tr.get("warmup", "?"), tr["seed"],
               a.train_checkpoint, os.path.relpath(a.model, here)),
            "(cd tools && /usr/bin/python3 -m knowable_lm.export --checkpoint %s --out ../%s --name %s)"
            % (a.train_checkpoint, os.path.relpath(a.model, here), tr["name"]),
            "/usr/bin/python3 tools/check_synthetic.py --model %s --train-checkpoint %s%s --write"
            % (os.path.relpath(a.model, here), a.train_checkpoint,
               " --notes %s" % os.path.relpath(a.notes, here) if a.notes else "")])
        with open(os.path.join(a.model, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
            f.write(CARD.format(
                bits=meta["bits"], repeat_pct=100 * meta["repeat"], tok_sha=kn["tokenizer_sha256"],
                commands=commands, params=tr["params"], layers=cfg["num_hidden_layers"],
                hidden=cfg["hidden_size"], heads=cfg["num_attention_heads"], context=tr["context"],
                rotary_pct=100 * cfg["rotary_pct"],
                stream=tr["train_stream_tokens"], train_jsonl=", ".join(tr.get("train_jsonl", [])),
                train_sha=meta["train_jsonl_sha256"][:16] + "...", steps=tr["steps"],
                batch=tr["batch"], seen=tr["tokens_seen"], minutes=tr["wall_seconds"] / 60,
                torch=torch.__version__, seed=tr["seed"], lr=tr["lr"], table=tab))
            if a.notes:
                with open(a.notes, encoding="utf-8") as nf:
                    f.write("\n" + nf.read())
        print("wrote %s/eval.json and MODEL_CARD.md" % a.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
