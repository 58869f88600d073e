#!/usr/bin/python3
"""Selection report for BPE large-model candidates (issue 21 items 5 and 8), on the demo
probe passages only (demo/corpora/probe: never trained on, and never the study corpus,
which stays untouched for the final measurement).

  python3 tools/select_bpe_large.py --small demo/models/bpe-small [--small CKPT ...] \
      --large CKPT [--large CKPT ...] [--device cuda] --json OUT/selection.json

--small / --large: a checkpoint of tools/train.py (torch.save or the portable form of
knowable_lm/ckpt.py) or an exported model directory (config.json + model.pt).

Text: the longest whole-character prefix of at most 512 bytes of every probe document
(as finish_family.py), BPE-encoded with the family's tokenizer.json, no BOS.
Per model and domain:
  * bits_per_byte: bits of tokens 1..n-1 / the bytes they spell (finish_family.py's measure);
  * entropies H (nats, softmax over the first vocab_limit logits) at positions 0..n-2
    (the distribution of the next token after tokens[0..i]).
Per (small, large) pair and domain: positions in the paper's band H_S >= 2 with
H_L < 0.2 / 0.5 / 1.0 (class-0 candidates) and with |H_L - H_S| <= 0.1 (class-1
candidates). These are raw position counts, before the pipeline's split, entropy
matching and token balancing, so they are an upper bound of the test examples.
Copy check (ICLT's hint_repeat idea, per model; the first 100 documents of each domain):
the passage's first m = min(n, (context-1)//2)
tokens t, then <|endoftext|>, then t again, in one sequence; for i = 1..m-1 the
probability of t[i] after t[0..i-1] (no hint: first copy) and after t + <eos> + t[0..i-1]
(hint: the same prefix with the whole passage before it). Reported: mean probability of
the true next token without and with the hint, and the fraction of positions where the
hint lifts it above 0.5.
Candidates are ranked by pooled held-out bits per byte (lower first); the report is what
to choose by, the rank is only a default.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm import bpe, ckpt  # noqa: E402
from knowable_lm.export import truncate_utf8  # noqa: E402

DOMAINS = ["code", "legal", "speech", "scripture", "reference"]
EVAL_BYTES = 512
THRESHOLDS = [0.2, 0.5, 1.0]
BAND = 2.0
GAP = 0.1
COPY_DOCS = 100  # copy check: the first 100 probe documents of each domain (its cost is 2x a passage)


def load_model(spec):
    """(name, model, train-info) of a checkpoint file or an exported model directory."""
    if os.path.isdir(spec):
        with open(os.path.join(spec, "knowable.json"), encoding="utf-8") as f:
            name = json.load(f)["name"]
        return name + " (exported)", ckpt.model_from_dir(spec), {}
    ck = ckpt.load(spec)
    # candidates share the model name (bpe-large / bpe-small): the file names tell them apart
    return os.path.splitext(os.path.basename(spec))[0], ckpt.model_from(ck), ck["train"]


def batches(seqs, batch):
    for i in range(0, len(seqs), batch):
        yield seqs[i:i + batch]


def run_model(model, seqs, vocab_limit, device, batch=32):
    """Per sequence: (entropies at positions 0..n-2, nll of tokens 1..n-1) as float lists."""
    model.to(device).eval()
    ent, nll = [], []
    with torch.no_grad():
        for chunk in batches(seqs, batch):
            t = max(len(c) for c in chunk)
            ids = torch.zeros(len(chunk), t, dtype=torch.long)
            mask = torch.zeros(len(chunk), t, dtype=torch.long)
            for j, c in enumerate(chunk):
                ids[j, :len(c)] = torch.tensor(c)
                mask[j, :len(c)] = 1
            ids, mask = ids.to(device), mask.to(device)
            lp = torch.log_softmax(model(ids, mask, return_hidden=False)[:, :, :vocab_limit].float(), -1)
            h = -(lp.exp() * lp).sum(-1)
            tl = -lp[:, :-1].gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            h, tl = h.cpu(), tl.cpu()
            for j, c in enumerate(chunk):
                ent.append(h[j, :len(c) - 1].tolist())
                nll.append(tl[j, :len(c) - 1].tolist())
    return ent, nll


def copy_check(model, seqs, vocab_limit, context, eos, device, batch=32, max_docs=None):
    """Mean p(true next | no hint), mean p(true next | hint), fraction hint p > 0.5, count,
    over the first ``max_docs`` (default COPY_DOCS) sequences."""
    m_max = (context - 1) // 2
    seqs = [s for s in seqs if len(s) >= 2][:COPY_DOCS if max_docs is None else max_docs]
    pairs = [(s[:m_max], s[:m_max] + [eos] + s[:m_max]) for s in seqs]
    sum_no, sum_hint, above, n = 0.0, 0.0, 0, 0
    model.to(device).eval()
    with torch.no_grad():
        for chunk in batches(pairs, batch):
            t = max(len(c[1]) for c in chunk)
            ids = torch.zeros(len(chunk), t, dtype=torch.long)
            mask = torch.zeros(len(chunk), t, dtype=torch.long)
            for j, (_, full) in enumerate(chunk):
                ids[j, :len(full)] = torch.tensor(full)
                mask[j, :len(full)] = 1
            lp = torch.log_softmax(model(ids.to(device), mask.to(device), return_hidden=False)
                                   [:, :, :vocab_limit].float(), -1).cpu()
            for j, (s, _) in enumerate(chunk):
                m = len(s)
                tgt = torch.tensor(s[1:])
                p_no = lp[j, 0:m - 1].gather(-1, tgt.unsqueeze(-1)).squeeze(-1).exp()
                p_hint = lp[j, m + 1:2 * m].gather(-1, tgt.unsqueeze(-1)).squeeze(-1).exp()
                sum_no += p_no.sum().item()
                sum_hint += p_hint.sum().item()
                above += int((p_hint > 0.5).sum().item())
                n += m - 1
    return {"p_no_hint": sum_no / n, "p_hint": sum_hint / n, "frac_hint_above_0.5": above / n, "positions": n}


def pair_counts(ent_s, ent_l):
    """Per-position counts of the paper's band and labels for one domain."""
    out = {"band": 0, "gap": 0, **{"lt%g" % t: 0 for t in THRESHOLDS}}
    for hs_doc, hl_doc in zip(ent_s, ent_l):
        for hs, hl in zip(hs_doc, hl_doc):
            if hs < BAND:
                continue
            out["band"] += 1
            for t in THRESHOLDS:
                if hl < t:
                    out["lt%g" % t] += 1
            if abs(hl - hs) <= GAP:
                out["gap"] += 1
    return out


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="append", required=True)
    ap.add_argument("--large", action="append", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(here, "demo/models/bpe-small/tokenizer.json"))
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--limit-docs", type=int, default=0, help="first N probe documents per domain (tests)")
    ap.add_argument("--json", default=None, help="write the report here")
    ap.add_argument("--pack", default=None, metavar="DIR",
                    help="copy the checkpoint-file candidates into DIR in the portable form "
                         "(knowable_lm/ckpt.py): smalls and the default large choice in float32, "
                         "the other larges in --pack-others-dtype")
    ap.add_argument("--pack-others-dtype", default="float16", choices=["float32", "float16", "none"])
    a = ap.parse_args(argv)
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
    t0 = time.time()
    tk = bpe.BpeTokenizer.from_file(a.tokenizer)
    seqs, nbytes = {}, {}
    for d in DOMAINS:
        with open(os.path.join(a.corpora, "probe", d + ".jsonl"), encoding="utf-8") as f:
            texts = [truncate_utf8(json.loads(l)["text"], EVAL_BYTES) for l in f]
        if a.limit_docs:
            texts = texts[:a.limit_docs]
        seqs[d] = [s for s in (tk.encode(t) for t in texts) if len(s) >= 2]
        nbytes[d] = sum(sum(len(tk.token_bytes[i]) for i in s[1:]) for s in seqs[d])

    results = {}
    for role, specs in (("small", a.small), ("large", a.large)):
        for spec in specs:
            try:
                name, model, train = load_model(spec)
            except Exception as e:  # one unreadable candidate must not sink the report
                print("SKIP %s %s: %s: %s" % (role, spec, type(e).__name__, e), flush=True)
                continue
            if model.config.vocab_size < tk.vocab_limit:
                print("SKIP %s: %d output rows < vocab_limit %d" % (spec, model.config.vocab_size, tk.vocab_limit))
                continue
            r = {"role": role, "spec": spec, "params": model.num_parameters(),
                 "shape": "%dx%d/h%d rot%g" % (model.config.num_hidden_layers, model.config.hidden_size,
                                               model.config.num_attention_heads, model.config.rotary_pct),
                 "train": train, "domains": {}, "ent": {}}
            tot_bits, tot_bytes = 0.0, 0
            for d in DOMAINS:
                ent, nll = run_model(model, seqs[d], tk.vocab_limit, a.device)
                bits = sum(map(sum, nll)) / math.log(2)
                tot_bits += bits
                tot_bytes += nbytes[d]
                r["ent"][d] = ent
                r["domains"][d] = {"bits_per_byte": round(bits / nbytes[d], 4),
                                   "copy": copy_check(model, seqs[d], tk.vocab_limit,
                                                      model.config.max_position_embeddings, bpe.EOS_ID, a.device)}
            r["bits_per_byte"] = round(tot_bits / tot_bytes, 4)
            n = sum(r["domains"][d]["copy"]["positions"] for d in DOMAINS)
            r["copy"] = {k: sum(r["domains"][d]["copy"][k] * r["domains"][d]["copy"]["positions"]
                                for d in DOMAINS) / n for k in ("p_no_hint", "p_hint", "frac_hint_above_0.5")}
            key = name
            while key in results:
                key += "'"
            results[key] = r
            print("%-28s %s params %d: %.4f bits/byte pooled, copy p %.3f -> %.3f (%.1fs)"
                  % (key, r["shape"], r["params"], r["bits_per_byte"], r["copy"]["p_no_hint"],
                     r["copy"]["p_hint"], time.time() - t0), flush=True)
            model.cpu()

    smalls = [k for k, r in results.items() if r["role"] == "small"]
    larges = sorted((k for k, r in results.items() if r["role"] == "large"),
                    key=lambda k: results[k]["bits_per_byte"])
    pairs = {}
    for s in smalls:
        for l in larges:
            pc = {d: pair_counts(results[s]["ent"][d], results[l]["ent"][d]) for d in DOMAINS}
            pc["pooled"] = {k: sum(pc[d][k] for d in DOMAINS) for k in pc[DOMAINS[0]]}
            pairs["%s | %s" % (s, l)] = pc

    files = [k for k in larges if not os.path.isdir(results[k]["spec"])]
    choice = files[0] if files else None
    lines = ["== positions per domain: H_S >= 2 (band) and H_L < 0.2 / 0.5 / 1.0, |H_L-H_S| <= 0.1 (gap) =="]
    for p, pc in pairs.items():
        lines.append(p)
        for d in DOMAINS + ["pooled"]:
            c = pc[d]
            lines.append("   %-10s band %6d  <0.2 %5d  <0.5 %5d  <1.0 %5d  gap %5d"
                         % (d, c["band"], c["lt0.2"], c["lt0.5"], c["lt1"], c["gap"]))
    lines += ["", "== held-out bits/byte on demo/corpora/probe (first 512 bytes per doc) =="]
    lines.append("%-24s %-16s %8s " % ("model", "shape", "params") + " ".join("%9s" % d for d in DOMAINS)
                 + "   pooled  best-step/steps")
    for k in smalls + larges:
        r = results[k]
        tr = r["train"]
        lines.append("%-24s %-16s %8d " % (k[:24], r["shape"], r["params"])
                     + " ".join("%9.4f" % r["domains"][d]["bits_per_byte"] for d in DOMAINS)
                     + "   %.4f  %s/%s" % (r["bits_per_byte"], tr.get("best_step", "-"), tr.get("steps", "-")))
    lines += ["", "== copy check: mean p(true next token) without -> with the passage repeated before it =="]
    for k in smalls + larges:
        r = results[k]
        lines.append("%-24s " % k[:24] + " ".join("%s %.2f->%.2f" % (d[:4], r["domains"][d]["copy"]["p_no_hint"],
                                                                   r["domains"][d]["copy"]["p_hint"]) for d in DOMAINS)
                     + "  all %.3f->%.3f (>0.5: %.2f)" % (r["copy"]["p_no_hint"], r["copy"]["p_hint"],
                                                          r["copy"]["frac_hint_above_0.5"]))
    lines += ["", "== band positions per pair: pooled / smallest domain (which) =="]
    for p, pc in pairs.items():
        def pm(key):
            d = min(DOMAINS, key=lambda x: pc[x][key])
            return "%5d/%4d %-4s" % (pc["pooled"][key], pc[d][key], d[:4])
        lines.append("%-44s <0.2 %s <0.5 %s <1.0 %s gap %s" % (p[:44], pm("lt0.2"), pm("lt0.5"), pm("lt1"), pm("gap")))
    if choice:
        lines += ["", "default large choice (lowest pooled bits/byte among the trained candidates): %s (%s)"
                  % (choice, results[choice]["spec"])]
    print("\n".join(lines), flush=True)
    if a.pack:
        os.makedirs(a.pack, exist_ok=True)
        for k in smalls + larges:
            spec = results[k]["spec"]
            if os.path.isdir(spec):
                continue
            dt = "float32" if (results[k]["role"] == "small" or k == choice) else a.pack_others_dtype
            if dt == "none":
                continue
            dst = os.path.join(a.pack, k + ".pkl")
            ckpt.save_portable(ckpt.load(spec), dst, getattr(torch, dt))
            results[k]["packed"] = {"file": os.path.basename(dst), "dtype": dt, "bytes": os.path.getsize(dst)}
            print("packed %s (%s, %.1f MB)" % (dst, dt, os.path.getsize(dst) / 1e6), flush=True)
    if a.json:
        for r in results.values():
            del r["ent"]
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"probe": "demo/corpora/probe, first %d bytes per document" % EVAL_BYTES,
                       "band_min_small_entropy": BAND, "gap": GAP, "thresholds": THRESHOLDS,
                       "limit_docs": a.limit_docs, "models": results, "pairs": pairs,
                       "ranked_large": larges, "default_choice": choice, "table": lines}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
