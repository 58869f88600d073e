#!/usr/bin/python3
"""Synthetic question/answer language whose truth is known by construction.

  /usr/bin/python3 tools/make_synthetic.py [--seed 2024] [--bits 10] \
      [--train-out /tmp/knowable-synth/model-train.jsonl] [--probe-out demo/synthetic/probe.jsonl]

Format (byte-level text: only '0' (48), '1' (49), ' ' (32), '\\n' (10)):

  a record is  Q A\\n   Q = `bits` question bits ('0'/'1'), a space, one answer bit, newline.

The first bit of Q is its kind. Kind 0 ("knowable"): A = f(Q), a fixed pseudo-random
function of Q (sha256 of "<seed>:<Q>", lowest bit of the first byte). Kind 1
("aleatoric"): A is a fresh fair coin flip at every occurrence.

Question split: per kind, a seeded `holdout` fraction of the 2^(bits-1) questions is
held out; held-out questions never occur in the model-training text, and the probe
documents use held-out questions only (kind 0: epistemic, the model cannot know f(Q);
kind 1: aleatoric).

Model-training text (JSONL, {"doc_id","domain","text"}, `train-docs` documents of
5..19 records each, 65..247 bytes): records of uniformly drawn training questions;
after each record, with probability `repeat`, the same question follows again with an
answer (`Q A\\nQ A'\\n`: A' = A for kind 0, a fresh flip for kind 1), so the model can
learn that an earlier answer in context is worth copying for kind 0 only.

Probe documents: one record each (text exactly `Q A\\n`), `probe-per-kind` per kind,
cycling through the held-out questions of that kind in a seeded order; doc_id
"synthetic:<Q>#<n>" with n the occurrence number of Q (0, 1, ...). The labelled position
is the space (index `bits`): truth 0 (knowable/epistemic) if Q[0]=='0', 1 (aleatoric)
if Q[0]=='1'. Output is deterministic given the arguments; also writes meta.json and
README.md next to the probe file.
"""
import argparse
import hashlib
import json
import os
import random
import sys

DOMAIN = "synthetic"


def questions(bits):
    return [format(i, "0%db" % bits) for i in range(1 << bits)]


def kind(q):
    return int(q[0])


def f(q, seed):
    """The fixed answer of a kind-0 question."""
    return hashlib.sha256(("%d:%s" % (seed, q)).encode("ascii")).digest()[0] & 1


def split(bits, holdout, seed):
    """(train questions, held-out questions), both sorted; stratified by kind."""
    rng = random.Random("split:%d" % seed)
    train, held = [], []
    for k in (0, 1):
        qs = [q for q in questions(bits) if kind(q) == k]
        rng.shuffle(qs)
        n = int(round(holdout * len(qs)))
        held += qs[:n]
        train += qs[n:]
    return sorted(train), sorted(held)


def answer(q, seed, rng):
    return f(q, seed) if kind(q) == 0 else rng.getrandbits(1)


def record(q, a):
    return "%s %d\n" % (q, a)


def train_docs(train_qs, n_docs, repeat, seed):
    rng = random.Random("train:%d" % seed)
    stats = {"docs": 0, "records": 0, "repeat_records": 0, "bytes": 0}
    for d in range(n_docs):
        n_rec = rng.randint(5, 19)
        parts = []
        while len(parts) < n_rec:
            q = train_qs[rng.randrange(len(train_qs))]
            parts.append(record(q, answer(q, seed, rng)))
            if rng.random() < repeat:
                parts.append(record(q, answer(q, seed, rng)))
                stats["repeat_records"] += 1
        text = "".join(parts)
        stats["docs"] += 1
        stats["records"] += len(parts)
        stats["bytes"] += len(text)
        yield {"doc_id": "synthetic-train:%06d" % d, "domain": DOMAIN, "text": text}, stats


def probe_docs(held_qs, per_kind, seed):
    rng = random.Random("probe:%d" % seed)
    docs = []
    for k in (0, 1):
        qs = [q for q in held_qs if kind(q) == k]
        rng.shuffle(qs)
        seen = {}
        for i in range(per_kind):
            q = qs[i % len(qs)]
            n = seen.get(q, 0)
            seen[q] = n + 1
            docs.append({"doc_id": "synthetic:%s#%d" % (q, n), "domain": DOMAIN,
                         "text": record(q, answer(q, seed, rng))})
    docs.sort(key=lambda d: d["doc_id"])
    return docs


README = """# demo/synthetic — a question/answer language with known truth

Made by `tools/make_synthetic.py` (deterministic): the synthetic check of the in-context
learning test (ICLT), as in the paper's synthetic experiment.

```sh
{command}
```

## Format
Byte-level text over `0` (48), `1` (49), space (32) and newline (10). A record is
`Q A\\n`: Q = {bits} question bits, a space, one answer bit, a newline. The first bit of Q
is its kind:

- kind 0 (knowable): A = f(Q), fixed by the seed (lowest bit of sha256("{seed}:Q")[0]);
- kind 1 (aleatoric): A is a fresh fair coin flip at every occurrence.

Per kind, {holdout_pct:g}% of the {per_kind_q} questions are held out (seeded): {held} held-out
questions ({held_per_kind} per kind) never occur in the model-training text; {train_q} questions do.

## Files
- `probe.jsonl` — {probe} probe documents ({probe_per_kind} per kind), each exactly one record
  `Q A\\n` with a held-out Q; `{{"doc_id": "synthetic:<Q>#<n>", "domain": "synthetic", "text"}}`,
  n = occurrence number of Q. Labelled position: the space (0-based index {bits}), whose next
  token is the answer bit; truth 0 (knowable, epistemic for a held-out Q) when Q starts
  with `0`, 1 (aleatoric) when it starts with `1`. Java: `dev.knowable.synthetic.SyntheticQa`.
- `meta.json` — the parameters, counts and the sha256 of the model-training text.

The model-training text (`{train_out}`, {train_docs} documents, {train_records} records of
which {train_repeats} are repeats, {train_bytes} bytes) is not committed: rerun the
command (its sha256 is in meta.json). Each record is followed by a repeat of the same
question with probability {repeat:g} (`Q A\\nQ A'\\n`, A' = A for kind 0, a fresh flip for
kind 1). The model trained on it is `demo/models/synthetic-qa`.
"""


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--bits", type=int, default=10, help="question bits N (default 10)")
    ap.add_argument("--holdout", type=float, default=0.25, help="held-out fraction per kind")
    ap.add_argument("--repeat", type=float, default=0.3, help="probability of a repeat record")
    ap.add_argument("--train-docs", type=int, default=20000)
    ap.add_argument("--probe-per-kind", type=int, default=1200)
    ap.add_argument("--train-out", default="/tmp/knowable-synth/model-train.jsonl")
    ap.add_argument("--probe-out", default=os.path.join(here, "demo/synthetic/probe.jsonl"))
    a = ap.parse_args(argv)
    if a.bits < 2 or a.bits > 24:
        ap.error("--bits must be in 2..24")

    train_qs, held_qs = split(a.bits, a.holdout, a.seed)
    if not held_qs or not train_qs:
        ap.error("empty split")

    os.makedirs(os.path.dirname(os.path.abspath(a.train_out)), exist_ok=True)
    h = hashlib.sha256()
    stats = {}
    with open(a.train_out, "w", encoding="utf-8") as out:
        for doc, stats in train_docs(train_qs, a.train_docs, a.repeat, a.seed):
            line = json.dumps(doc) + "\n"
            h.update(line.encode("utf-8"))
            out.write(line)
    stats = dict(stats)

    probe = probe_docs(held_qs, a.probe_per_kind, a.seed)
    assert len({d["doc_id"] for d in probe}) == len(probe)
    pdir = os.path.dirname(os.path.abspath(a.probe_out))
    os.makedirs(pdir, exist_ok=True)
    with open(a.probe_out, "w", encoding="utf-8") as out:
        for d in probe:
            out.write(json.dumps(d) + "\n")

    command = "/usr/bin/python3 tools/make_synthetic.py" + "".join(
        " %s" % x for x in (argv if argv is not None else sys.argv[1:]))
    meta = {
        "format": "synthetic-qa/1", "seed": a.seed, "bits": a.bits, "holdout": a.holdout,
        "repeat": a.repeat, "questions": 1 << a.bits, "train_questions": len(train_qs),
        "heldout_questions": len(held_qs),
        "probe_docs": len(probe), "probe_per_kind": a.probe_per_kind,
        "train_docs": stats["docs"], "train_records": stats["records"],
        "train_repeat_records": stats["repeat_records"], "train_bytes": stats["bytes"],
        "train_jsonl_sha256": h.hexdigest(), "command": command,
    }
    with open(os.path.join(pdir, "meta.json"), "w", encoding="utf-8") as out:
        json.dump(meta, out, indent=2)
        out.write("\n")
    with open(os.path.join(pdir, "README.md"), "w", encoding="utf-8") as out:
        out.write(README.format(
            command=command, bits=a.bits, seed=a.seed, holdout_pct=100 * a.holdout,
            per_kind_q=1 << (a.bits - 1), held=len(held_qs), held_per_kind=len(held_qs) // 2,
            train_q=len(train_qs), probe=len(probe), probe_per_kind=a.probe_per_kind,
            train_out=a.train_out, train_docs=stats["docs"], train_records=stats["records"],
            train_repeats=stats["repeat_records"], train_bytes=stats["bytes"], repeat=a.repeat))
    print("train: %d docs, %d records (%d repeats), %d bytes -> %s (sha256 %s)"
          % (stats["docs"], stats["records"], stats["repeat_records"], stats["bytes"],
             a.train_out, h.hexdigest()))
    print("probe: %d docs (%d per kind) from %d held-out questions -> %s"
          % (len(probe), a.probe_per_kind, len(held_qs), a.probe_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
