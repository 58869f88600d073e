#!/usr/bin/python3
"""Export the trained tiny family and write its model cards.

  /usr/bin/python3 tools/finish_family.py --small /tmp/knowable-train/tiny-small.pt \
      --large /tmp/knowable-train/tiny-large.pt [--out demo/models]

For each checkpoint: exports the contract files (tools/knowable_lm/export.py) into
OUT/<name>/, measures held-out bits per byte per domain on demo/corpora/probe/*.jsonl
(first 512 bytes of every probe document, no BOS; every byte after the first is
predicted, probabilities over the first vocab_limit=257 logits; for a checkpoint trained
with --tokenizer (BPE): the tokens of that prefix cut on a character boundary, tokens
after the first predicted, bits divided by the bytes they spell), writes
OUT/<name>/eval.json and OUT/<name>/MODEL_CARD.md (both models side by side).
Exits with status 3 if the large model is not better than the small on every domain.
"""
import argparse
import glob
import json
import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm import bpe, export, tokenizer as tok  # noqa: E402

OUT_DIRS = {}  # model name -> its output directory (for the card's tokenizer hash)
DOMAINS = ["code", "legal", "speech", "scripture", "reference"]
EVAL_BYTES = 512


def probe_docs(corpora: str):
    """Byte family: the first EVAL_BYTES bytes of each probe document."""
    out = {}
    for d in DOMAINS:
        with open(os.path.join(corpora, "probe", d + ".jsonl"), encoding="utf-8") as f:
            out[d] = [json.loads(l)["text"].encode("utf-8")[:EVAL_BYTES] for l in f]
    return out


def probe_texts(corpora: str):
    """BPE family: the longest whole-character prefix of each probe document within EVAL_BYTES bytes."""
    out = {}
    for d in DOMAINS:
        with open(os.path.join(corpora, "probe", d + ".jsonl"), encoding="utf-8") as f:
            out[d] = [export.truncate_utf8(json.loads(l)["text"], EVAL_BYTES) for l in f]
    return out


def bits_per_byte_bpe(model, texts, tokenizer, batch=16):
    """Total bits / predicted bytes: each text is encoded, tokens 1..n-1 are predicted, and
    their bits are divided by the bytes those tokens spell (the first token's bytes are
    not predicted, as the first byte is not in the byte family). Returns (bits/byte,
    predicted bytes, predicted tokens)."""
    seqs = [tokenizer.encode(t) for t in texts]
    nats, n_tok = _nll(model, seqs, tokenizer.vocab_limit, batch)
    n_bytes = sum(sum(len(tokenizer.token_bytes[i]) for i in s[1:]) for s in seqs if len(s) >= 2)
    return nats / math.log(2) / n_bytes, n_bytes, n_tok


def bits_per_byte(model, docs, vocab_limit=tok.VOCAB_LIMIT, batch=16):
    """Total bits / predicted bytes over the docs (each doc: bytes 1..n-1 predicted)."""
    nats, n = _nll(model, [list(d) for d in docs], vocab_limit, batch)
    return nats / math.log(2) / n, n


def _nll(model, seqs, vocab_limit, batch):
    """Summed negative log-likelihood (nats) of ids 1..n-1 of each sequence, and their count."""
    total_nats = 0.0
    total_n = 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            chunk = [s for s in seqs[i:i + batch] if len(s) >= 2]
            if not chunk:
                continue
            t = max(len(c) for c in chunk)
            ids = torch.zeros(len(chunk), t, dtype=torch.long)
            mask = torch.zeros(len(chunk), t, dtype=torch.long)
            for j, c in enumerate(chunk):
                ids[j, :len(c)] = torch.tensor(c)
                mask[j, :len(c)] = 1
            logits = model(ids, mask, return_hidden=False)[:, :-1, :vocab_limit].float()
            lp = torch.log_softmax(logits, dim=-1)
            tgt = ids[:, 1:]
            m = mask[:, 1:].bool()
            nll = -lp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
            total_nats += nll[m].sum().item()
            total_n += int(m.sum().item())
    return total_nats, total_n


def card(name, info, evals, names, all_train):
    tr = info["train"]
    is_bpe = "tokenizer" in tr
    vocab_limit = tr.get("vocab_limit", tok.VOCAB_LIMIT)
    if is_bpe:
        intro = ["Tiny GPT-NeoX causal LM with a byte-level BPE vocabulary (%d merges learned on the"
                 % (vocab_limit - bpe.FIRST_MERGE_ID),
                 "model-train text by tools/knowable_lm/bpe.py), trained by this project (tools/train.py",
                 "--tokenizer) so that one token spans several bytes as in the paper's tokenizers.",
                 "Made by tools/train_bpe_pair.sh (both models trained at once, one thread each, on a",
                 "2-core machine shared with other builds; the step counts are what fitted its time).",
                 "Random init, trained from scratch"]
        tok_row = ("| tokenizer | byte-level BPE: bytes 0..255, <\\|endoftext\\|> (256), %d merges (257..%d); "
                   "tokenizer.json sha256 %s |" % (vocab_limit - bpe.FIRST_MERGE_ID, vocab_limit - 1,
                                                   tok.sha256_file(os.path.join(OUT_DIRS[name], "tokenizer.json"))))
        unit = "tokens"
        eval_lines = ["The longest whole-character prefix of at most %d bytes of every document of" % EVAL_BYTES,
                      "demo/corpora/probe/<domain>.jsonl, encoded with tokenizer.json, no BOS; every token",
                      "after the first is predicted (probabilities over the first %d logits); bits are" % vocab_limit,
                      "divided by the bytes the predicted tokens spell, so the numbers compare with the",
                      "byte-level tiny family's."]
    else:
        intro = ["Tiny byte-level GPT-NeoX causal LM trained by this project (tools/train.py) for the",
                 "embedded demo of the knowable/unknowable pipeline. Random init, trained from scratch"]
        tok_row = "| tokenizer | bytes 0..255 + <\\|endoftext\\|> (256), tokenizer.json |"
        unit = "bytes (tokens)"
        eval_lines = ["First %d bytes of every document of demo/corpora/probe/<domain>.jsonl, no BOS; every"
                      % EVAL_BYTES,
                      "byte after the first is predicted; probabilities over the first 257 logits."]
    lines = [
        "# %s" % name,
        "",
    ] + intro + [
        "only on the model-training hash bucket of demo/corpora (model-train/*.jsonl, all five",
        "domains mixed); the probe documents (demo/corpora/probe) were never seen in training.",
        "",
        "| property | value |",
        "|---|---|",
        "| architecture | GPT-NeoX (rotary 25%, parallel attention + MLP, LayerNorm, GELU, untied output) |",
        "| parameters | %d |" % tr["params"],
        "| layers | %d |" % info["config"]["num_hidden_layers"],
        "| hidden size (width) | %d |" % info["config"]["hidden_size"],
        "| attention heads | %d |" % info["config"]["num_attention_heads"],
        "| output rows / usable ids (vocab_limit) | %d / %d |" % (info["config"]["vocab_size"], vocab_limit),
        tok_row,
        "| max context | %d tokens |" % tr["context"],
        "| training stream (model-train bucket) | %d %s |" % (tr["train_stream_tokens"], "tokens" if is_bpe else "bytes"),
        "| training steps x batch x context | %d x %d x %d |" % (tr["steps"], tr["batch"], tr["context"]),
        "| %s seen in training | %d |" % (unit, tr["tokens_seen"]),
        "| training wall time | %.1f min (1 CPU thread, Debian torch %s) |" % (tr["wall_seconds"] / 60, torch.__version__),
        "| seed, peak lr | %d, %g |" % (tr["seed"], tr["lr"]),
    ] + ([
        "| stopped early | at step %d of %d planned (the shared machine was too busy; the learning rate "
        "had not decayed to its floor) |" % (tr["steps"], tr["planned_steps"])]
         if tr.get("planned_steps", tr["steps"]) != tr["steps"] else []) + [
        "",
        "## Held-out bits per byte, per domain",
        "",
    ] + eval_lines + [
        "",
        "| domain | docs | predicted bytes | " + " | ".join(names) + " | difference |",
        "|---|---|---|" + "---|" * len(names) + "---|",
    ]
    for d in DOMAINS:
        vals = [evals[n][d]["bits_per_byte"] for n in names]
        lines.append("| %s | %d | %d | %s | %+.3f |" % (
            d, evals[names[0]][d]["docs"], evals[names[0]][d]["bytes"],
            " | ".join("%.3f" % v for v in vals), vals[1] - vals[0]))
    lines += ["", "difference = %s minus %s (negative: the larger model is better)." % (names[1], names[0]),
              "", "Training wall times: %s on a 2-core machine shared with other work (one training thread)."
              % ", ".join("%s %.1f min" % (n, all_train[n]["wall_seconds"] / 60) for n in names),
              "", "Files: config.json, tokenizer.json, model.pt (TorchScript), model.onnx (opset 14),",
              "knowable.json, reference.json (contract knowable-causal-lm/1, see tools/README.md),",
              "train.log, eval.json.", ""]
    return "\n".join(lines)


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", required=True)
    ap.add_argument("--large", required=True)
    ap.add_argument("--out", default=os.path.join(here, "demo/models"))
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--no-export", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    docs = probe_docs(a.corpora)
    texts = probe_texts(a.corpora)
    infos, evals, names = {}, {}, []
    for path in (a.small, a.large):
        info = torch.load(path, map_location="cpu")
        name = info["train"]["name"]
        names.append(name)
        infos[name] = info
        model = export.load_checkpoint(path)
        out_dir = os.path.join(a.out, name)
        OUT_DIRS[name] = out_dir
        tok_src = info["train"].get("tokenizer")
        bpe_tok = None
        if tok_src:
            # BPE: the committed copy in the output directory wins over the training path
            # (same merges; it is what Java reads)
            if os.path.exists(os.path.join(out_dir, "tokenizer.json")):
                tok_src = os.path.join(out_dir, "tokenizer.json")
            bpe_tok = bpe.BpeTokenizer.from_file(tok_src)
            if bpe_tok.vocab_limit != info["train"]["vocab_limit"]:
                raise SystemExit("%s: tokenizer %s has vocab_limit %d, the checkpoint %d"
                                 % (path, tok_src, bpe_tok.vocab_limit, info["train"]["vocab_limit"]))
        if not a.no_export:
            if bpe_tok:
                export.export_model(model, out_dir, name, vocab_limit=bpe_tok.vocab_limit,
                                    tokenizer_src=tok_src, encode=bpe_tok.encode, onnx=True)
            else:
                export.export_model(model, out_dir, name, onnx=True)
        evals[name] = {}
        for d in DOMAINS:
            if bpe_tok:
                bpb, n, nt = bits_per_byte_bpe(model, texts[d], bpe_tok)
                evals[name][d] = {"bits_per_byte": round(bpb, 4), "docs": len(texts[d]), "bytes": n, "tokens": nt}
            else:
                bpb, n = bits_per_byte(model, docs[d])
                evals[name][d] = {"bits_per_byte": round(bpb, 4), "docs": len(docs[d]), "bytes": n}
            print("%s %-10s %.3f bits/byte (%d bytes)" % (name, d, bpb, n), flush=True)
    for name in names:
        out_dir = os.path.join(a.out, name)
        with open(os.path.join(out_dir, "eval.json"), "w", encoding="utf-8") as f:
            json.dump({"eval": "probe first %d bytes, bits per byte" % EVAL_BYTES,
                       "train": infos[name]["train"], "bits_per_byte": evals}, f, indent=2)
            f.write("\n")
        with open(os.path.join(out_dir, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
            f.write(card(name, infos[name], evals, names, {n: infos[n]["train"] for n in names}))
    worse = [d for d in DOMAINS if evals[names[1]][d]["bits_per_byte"] >= evals[names[0]][d]["bits_per_byte"]]
    if worse:
        print("WARNING: %s is not better than %s on: %s" % (names[1], names[0], ", ".join(worse)))
        return 3
    print("OK: %s better than %s on every domain" % (names[1], names[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
