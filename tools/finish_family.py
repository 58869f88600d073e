#!/usr/bin/python3
"""Export the trained tiny family and write its model cards.

  /usr/bin/python3 tools/finish_family.py --small /tmp/knowable-train/tiny-small.pt \
      --large /tmp/knowable-train/tiny-large.pt [--out demo/models]
  # keep the exported small model, export only a new large one (e.g. brought back from
  # tools/train_bpe_large_gpu.sh in the portable form of knowable_lm/ckpt.py):
  /usr/bin/python3 tools/finish_family.py --small demo/models/bpe-small --large OUT/ckpt/large-6x256.pkl

--small / --large: a checkpoint of tools/train.py (torch.save, or the portable .pkl of
knowable_lm/ckpt.py) or an exported model directory, which is measured from its model.pt
and not re-exported (its training facts come from its eval.json).
For each checkpoint: exports the contract files (tools/knowable_lm/export.py) into
OUT/<name>/, measures held-out bits per byte per domain on demo/corpora/probe/*.jsonl
(first 512 bytes of every probe document, no BOS; every byte after the first is
predicted, probabilities over the first vocab_limit=257 logits; for a checkpoint trained
with --tokenizer (BPE): the tokens of that prefix cut on a character boundary, tokens
after the first predicted, bits divided by the bytes they spell), writes
OUT/<name>/eval.json and OUT/<name>/MODEL_CARD.md (both models side by side),
and the copy check of tools/select_bpe_large.py (probability of the true next token
without and with the passage repeated before it: the ICLT's hint in its simplest form).
Exits with status 3 if the large model is not better than the small on every domain.
"""
import argparse
import glob
import json
import math
import os
import shutil
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm import bpe, ckpt, export, tokenizer as tok  # noqa: E402
import select_bpe_large  # noqa: E402

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


def card(name, info, evals, names, all_train, copies=None):
    tr = info["train"]
    is_bpe = "tokenizer" in tr
    vocab_limit = tr.get("vocab_limit", tok.VOCAB_LIMIT)
    if is_bpe:
        intro = ["Tiny GPT-NeoX causal LM with a byte-level BPE vocabulary (%d merges learned on the"
                 % (vocab_limit - bpe.FIRST_MERGE_ID),
                 "model-train text by tools/knowable_lm/bpe.py), trained by this project (tools/train.py",
                 "--tokenizer) so that one token spans several bytes as in the paper's tokenizers.",
                 ] + (["Made by tools/train_bpe_large_gpu.sh: candidates trained in parallel on one GPU for a",
                       "fixed wall-clock budget, the best checkpoint by validation loss kept, the candidate",
                       "chosen on the probe passages (tools/select_bpe_large.py), exported here by",
                       "tools/finish_family.py with Debian torch. Random init, trained from scratch"]
                      if tr.get("device", "cpu").startswith("cuda") else
                      ["Made by tools/train_bpe_pair.sh (both models trained at once, one thread each, on a",
                       "2-core machine shared with other builds; the step counts are what fitted its time).",
                       "Random init, trained from scratch"])
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
        "| architecture | GPT-NeoX (rotary %g%%, parallel attention + MLP, LayerNorm, GELU, untied output) |"
        % (100 * info["config"].get("rotary_pct", 0.25)),
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
        "| training wall time | %.1f min (%s, torch %s) |" % (
            tr["wall_seconds"] / 60, ("1 CPU thread" if tr.get("device", "cpu") == "cpu" else tr["device"])
            + (", attention %s" % tr["attention"] if tr.get("attention") else ""),
            tr.get("torch", torch.__version__)),
        "| seed, peak lr | %d, %g |" % (tr["seed"], tr["lr"]),
    ] + _train_rows(tr) + ([
        "| stopped early | at step %d of %d planned (the shared machine was too busy; the learning rate "
        "had not decayed to its floor) |" % (tr["steps"], tr["planned_steps"])]
         if tr.get("planned_steps", tr["steps"]) != tr["steps"] and not tr.get("max_seconds") else []) + [
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
    lines += ["", "difference = %s minus %s (negative: the larger model is better)." % (names[1], names[0])]
    if copies:
        lines += ["", "## Copying in context (copy check)", "",
                  "The first %d probe documents of each domain: each text's first m = min(n, (context-1)/2)"
                  % select_bpe_large.COPY_DOCS,
                  "tokens (bytes, for the byte family) t, then <|endoftext|>, then t",
                  "again (tools/select_bpe_large.py): mean probability of the true next token t[i] after",
                  "t[0..i-1] without the hint (first copy) and with the whole passage before it (second",
                  "copy), i = 1..m-1. A model that copies in context moves the second number towards 1.", "",
                  "| domain | " + " | ".join("%s no hint | %s hint" % (n, n) for n in names) + " |",
                  "|---|" + "---|---|" * len(names)]
        for d in DOMAINS:
            lines.append("| %s | %s |" % (d, " | ".join("%.3f | %.3f" % (copies[n][d]["p_no_hint"], copies[n][d]["p_hint"])
                                                         for n in names)))
    lines += [
              "", "Training wall times: %s." % ", ".join(
                  "%s %.1f min (%s)" % (n, (all_train[n]["wall_seconds"]
                                            + all_train[n].get("init_train", {}).get("wall_seconds", 0)) / 60,
                                        all_train[n]["device"] if all_train[n].get("device", "cpu") != "cpu"
                                        else "one CPU thread on a 2-core machine shared with other work")
                  for n in names),
              "", "Files: config.json, tokenizer.json, model.pt (TorchScript), model.onnx (opset 14),",
              "knowable.json, reference.json (contract knowable-causal-lm/1, see tools/README.md),",
              "train.log%s, eval.json." % (" (and train-phase1.log, the phase it started from)"
                                           if info["train"].get("init_train") else ""), ""]
    return "\n".join(lines)


def _train_rows(tr):
    """Card rows for the options of the GPU-era train.py (absent from older checkpoints)."""
    rows = []
    if tr.get("max_seconds"):
        rows.append("| schedule | timed: cosine over %g s of training (train.py --steps 0 --max-seconds) |"
                    % tr["max_seconds"])
    if tr.get("val_every"):
        rows.append("| validation | every %d-th model-train document held out; checkpoint = best val loss "
                    "(%.4f nats/token at step %s of %d; last %.4f) |"
                    % (tr["val_every"], tr.get("best_val_loss", float("nan")), tr.get("best_step", "?"),
                       tr["steps"], tr.get("last_val_loss", float("nan"))))
    if tr.get("dropout"):
        rows.append("| dropout | %g (embedding, attention and MLP outputs; training only) |" % tr["dropout"])
    if tr.get("weight_decay") is not None:
        rows.append("| weight decay | %g |" % tr["weight_decay"])
    if tr.get("copy_prob"):
        rows.append("| repeated spans (copy training) | probability %g per window, span %d..%d tokens%s "
                    "(train.py --copy-prob%s) |" % (tr["copy_prob"], tr["copy_len"][0], tr["copy_len"][1],
                                                    ", the source span random bytes" if tr.get("copy_random") else "",
                                                    " --copy-random" if tr.get("copy_random") else ""))
    first = tr.get("init_train")
    if first:
        rows.append("| started from (train.py --init) | %s: %d steps x %d x %d context, %d tokens seen, %.1f min, "
                    "peak lr %g, seed %d%s; its log is train-phase1.log |"
                    % (first["name"], first["steps"], first["batch"], first["context"], first["tokens_seen"],
                       first["wall_seconds"] / 60, first["lr"], first["seed"],
                       ", every window a random span of %d..%d tokens and its copy" % tuple(first["copy_len"])
                       if first.get("copy_prob") == 1 and first.get("copy_random") else
                       (", copy probability %g" % first["copy_prob"] if first.get("copy_prob") else "")))
    return rows


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", required=True)
    ap.add_argument("--large", required=True)
    ap.add_argument("--out", default=os.path.join(here, "demo/models"))
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--small-log", default=None, help="copy this training log to OUT/<small name>/train.log")
    ap.add_argument("--large-log", default=None, help="copy this training log to OUT/<large name>/train.log")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    docs = probe_docs(a.corpora)
    texts = probe_texts(a.corpora)
    infos, evals, names = {}, {}, []
    copies = {}
    for path in (a.small, a.large):
        exported = os.path.isdir(path)
        if exported:
            # an already exported model: measured, card rewritten, files kept
            with open(os.path.join(path, "eval.json"), encoding="utf-8") as f:
                train = json.load(f)["train"]
            with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
                info = {"config": json.load(f), "train": train}
            model = ckpt.model_from_dir(path)
            if os.path.abspath(os.path.join(a.out, train["name"])) != os.path.abspath(path):
                raise SystemExit("%s: an exported model must be the directory OUT/%s" % (path, train["name"]))
        else:
            info = ckpt.load(path)
            model = ckpt.model_from(info)
            init = info["train"].get("init")
            if init and "init_train" not in info["train"]:
                # trained from another checkpoint's weights (a curriculum): record that phase
                if not os.path.exists(init):
                    raise SystemExit("%s was trained from %s (train.py --init), which is gone: the card "
                                     "needs its training facts" % (path, init))
                info["train"]["init_train"] = ckpt.load(init)["train"]
        name = info["train"]["name"]
        if name in infos:
            raise SystemExit("both checkpoints are named %s (train.py --name)" % name)
        names.append(name)
        infos[name] = info
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
        if not a.no_export and not exported:
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
        # the copy check (the ICLT's hint in its simplest form), for both families
        seqs = {d: ([s for s in (bpe_tok.encode(t) for t in texts[d]) if len(s) >= 2] if bpe_tok
                    else [list(b) for b in docs[d] if len(b) >= 2]) for d in DOMAINS}
        copies[name] = {d: select_bpe_large.copy_check(model, seqs[d], bpe_tok.vocab_limit if bpe_tok else tok.VOCAB_LIMIT,
                                                       model.config.max_position_embeddings,
                                                       bpe.EOS_ID, "cpu")
                        for d in DOMAINS}
        print("%s copy check: p(true next) %s" % (name, ", ".join(
            "%s %.3f->%.3f" % (d, copies[name][d]["p_no_hint"], copies[name][d]["p_hint"]) for d in DOMAINS)),
            flush=True)
    for name, log in zip(names, (a.small_log, a.large_log)):
        if log:
            shutil.copyfile(log, os.path.join(a.out, name, "train.log"))
    for name in names:
        out_dir = os.path.join(a.out, name)
        with open(os.path.join(out_dir, "eval.json"), "w", encoding="utf-8") as f:
            json.dump({"eval": "probe first %d bytes, bits per byte" % EVAL_BYTES,
                       "train": infos[name]["train"], "bits_per_byte": evals,
                       **({"copy_check": copies} if copies else {})}, f, indent=2)
            f.write("\n")
        with open(os.path.join(out_dir, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
            f.write(card(name, infos[name], evals, names, {n: infos[n]["train"] for n in names}, copies))
    worse = [d for d in DOMAINS if evals[names[1]][d]["bits_per_byte"] >= evals[names[0]][d]["bits_per_byte"]]
    if worse:
        print("WARNING: %s is not better than %s on: %s" % (names[1], names[0], ", ".join(worse)))
        return 3
    print("OK: %s better than %s on every domain" % (names[1], names[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
