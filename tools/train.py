#!/usr/bin/python3
"""Train one tiny byte-level GPT-NeoX model on demo/corpora/model-train/*.jsonl.

  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train.py \
      --name tiny-small --layers 2 --hidden 64 --heads 4 --steps 6000 \
      --checkpoint /tmp/knowable-train/tiny-small.pt --log demo/models/tiny-small/train.log

Data: every model-train document (all five domains, files and documents in sorted
order; with --train-jsonl, the documents of those files in the order given) as UTF-8
bytes followed by <|endoftext|> (id 256), concatenated into one stream; each step
samples `batch` random windows of `context`+1 tokens from it (seeded). Only the
model-training hash bucket is read, never demo/corpora/probe.
With --tokenizer (a tokenizer.json from knowable_lm/bpe.py), documents are BPE ids
instead of bytes (same <|endoftext|> id 256) and the output has vocab_limit rows padded
to a multiple of 8.
Optimiser: AdamW (betas 0.9/0.95, weight decay 0.01 on matrices), linear warm-up then
cosine decay to 10%, gradient clipping 1.0. One thread, deterministic given the seed.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights  # noqa: E402
from knowable_lm import bpe, tokenizer as tok  # noqa: E402

VOCAB_ROWS = 264


def vocab_rows(vocab_limit: int) -> int:
    """Output rows: vocab_limit padded to a multiple of 8 (264 for the byte vocabulary)."""
    return (vocab_limit + 7) // 8 * 8


def load_stream(corpus_dir: str, files=None, encode=None) -> torch.Tensor:
    """The training stream: ``files`` (in the order given) if set, else every
    corpus_dir/model-train/*.jsonl in sorted order; ``encode`` (default: UTF-8 bytes)
    turns a document into ids."""
    ids = []
    paths = files if files else sorted(glob.glob(os.path.join(corpus_dir, "model-train", "*.jsonl")))
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line)["text"]
                ids.extend(encode(text) if encode else text.encode("utf-8"))
                ids.append(tok.EOS_ID)
    return torch.tensor(ids, dtype=torch.int16)


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--train-jsonl", action="append", default=None, metavar="FILE",
                    help="train on these JSONL files (repeatable) instead of CORPORA/model-train "
                         "(e.g. the synthetic text of tools/make_synthetic.py)")
    ap.add_argument("--tokenizer", default=None, metavar="TOKENIZER_JSON",
                    help="a BPE tokenizer.json written by knowable_lm/bpe.py (default: byte-level ids)")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--rotary-pct", type=float, default=0.25,
                    help="fraction of each head's dimensions with rotary position (default 0.25)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--checkpoint", required=True, help="where to write the final checkpoint")
    ap.add_argument("--log", required=True)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--save-every", type=int, default=0,
                    help="also write the checkpoint every N steps (0: only at the end), so a run on a "
                         "busy machine can be stopped early and still be exported")
    a = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.checkpoint)), exist_ok=True)
    logf = open(a.log, "w", encoding="utf-8")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    if a.tokenizer:
        bpe_tok = bpe.BpeTokenizer.from_file(a.tokenizer)
        stream = load_stream(a.corpora, a.train_jsonl, bpe_tok.encode)
        vocab_limit = bpe_tok.vocab_limit
    else:
        stream = load_stream(a.corpora, a.train_jsonl)
        vocab_limit = tok.VOCAB_LIMIT
    cfg = NeoXConfig(vocab_size=vocab_rows(vocab_limit), hidden_size=a.hidden, num_hidden_layers=a.layers,
                     num_attention_heads=a.heads, intermediate_size=4 * a.hidden,
                     max_position_embeddings=a.context, rotary_pct=a.rotary_pct)
    model = GPTNeoXForCausalLM(cfg)
    init_weights(model, torch.Generator().manual_seed(a.seed), std=0.02)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(a.seed + 1)

    def lr_at(step):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        p = (step - a.warmup) / max(1, a.steps - a.warmup)
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    log("train %s: layers=%d hidden=%d heads=%d params=%d context=%d batch=%d steps=%d lr=%g seed=%d%s"
        % (a.name, a.layers, a.hidden, a.heads, model.num_parameters(), a.context, a.batch,
           a.steps, a.lr, a.seed, "" if a.rotary_pct == 0.25 else " rotary_pct=%g" % a.rotary_pct))
    if a.tokenizer:
        log("tokenizer: %s (BPE, vocab_limit %d, sha256 %s)" % (a.tokenizer, vocab_limit, tok.sha256_file(a.tokenizer)))
    if a.train_jsonl:
        log("data: %d tokens (%s, docs separated by <|endoftext|>); torch %s"
            % (stream.numel(), ", ".join(a.train_jsonl), torch.__version__))
    else:
        log("data: %d tokens (model-train bucket, 5 domains, docs separated by <|endoftext|>); torch %s"
            % (stream.numel(), torch.__version__))

    def save(steps_done, seen, el):
        _save(a, cfg, model, stream, vocab_limit, steps_done, seen, el)

    t0 = time.time()
    seen = 0
    run_loss = 0.0
    run_n = 0
    n = stream.numel() - (a.context + 1)
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        starts = torch.randint(0, n, (a.batch,), generator=gen)
        win = torch.stack([stream[s:s + a.context + 1] for s in starts.tolist()]).long()
        x, y = win[:, :-1], win[:, 1:]
        logits = model(x, torch.ones_like(x), return_hidden=False)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seen += x.numel()
        run_loss += loss.item()
        run_n += 1
        if (step + 1) % a.log_every == 0 or step + 1 == a.steps:
            el = time.time() - t0
            log("step %6d  loss %.4f nats (%.3f bits/token)  lr %.2e  tokens %d  elapsed %.0fs  %.0f tok/s"
                % (step + 1, run_loss / run_n, run_loss / run_n / math.log(2), lr_at(step), seen,
                   el, seen / el))
            run_loss, run_n = 0.0, 0
        if a.save_every and (step + 1) % a.save_every == 0 and step + 1 < a.steps:
            save(step + 1, seen, time.time() - t0)
            log("checkpoint at step %d: %s" % (step + 1, a.checkpoint))
    el = time.time() - t0
    save(a.steps, seen, el)
    log("done: %d tokens seen in %.1f s; checkpoint %s" % (seen, el, a.checkpoint))


def _save(a, cfg, model, stream, vocab_limit, steps_done, seen, el):
    torch.save({"config": cfg.to_hf_dict(), "state_dict": model.state_dict(),
                "train": {"name": a.name, "steps": steps_done, "planned_steps": a.steps, "tokens_seen": seen,
                          "wall_seconds": round(el, 1), "train_stream_tokens": stream.numel(),
                          "params": model.num_parameters(), "seed": a.seed, "lr": a.lr,
                          "batch": a.batch, "context": a.context,
                          **({"train_jsonl": a.train_jsonl, "warmup": a.warmup} if a.train_jsonl else {}),
                          **({"tokenizer": os.path.abspath(a.tokenizer), "vocab_limit": vocab_limit,
                              "tokenizer_sha256": tok.sha256_file(a.tokenizer), "warmup": a.warmup}
                             if a.tokenizer else {})}},
               a.checkpoint + ".tmp")
    os.replace(a.checkpoint + ".tmp", a.checkpoint)  # a reader never sees half a file


if __name__ == "__main__":
    sys.exit(main())
