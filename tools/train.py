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
Optimiser: AdamW (betas 0.9/0.95, weight decay --weight-decay, default 0.01, on
matrices), linear warm-up then cosine decay to 10%, gradient clipping 1.0. On the CPU
(default) one thread, deterministic given the seed.

Options for the retrained BPE large model (tools/train_bpe_large_gpu.sh):
  --device cuda [--bf16]  train on a GPU (bf16 autocast; weights and optimiser stay fp32)
  --max-seconds S         stop cleanly after S seconds of training and save; with
                          --steps 0 the run is timed only and the cosine schedule runs on
                          elapsed/S instead of step/steps (warm-up stays in steps)
  --dropout P             dropout on the embedding output and on the attention and MLP
                          outputs of every layer (added here by forward hooks, so the
                          exported model is the plain GPT-NeoX; eval mode switches it off)
  --val-every K           every K-th document of each model-train file (K-1, 2K-1, ...) is
                          held out of the training stream as a validation stream (still
                          model-train text; the probe passages are never read); the val loss
                          is measured every --eval-every steps on --val-windows (128) fixed
                          windows spread evenly over the validation stream, and the
                          checkpoint written is the one with the best val loss so far
  --copy-prob P           repeated-span augmentation, so the model learns to copy in
                          context (the ICLT's hint is the prompt repeated before it): each
                          training window of context+1 tokens independently, with
                          probability P, gets one span of length L ~ uniform{copy-min..
                          min(copy-max, (context+1)//2)} copied: source start a ~ uniform
                          {0..context+1-2L}, destination b ~ uniform{a+L..context+1-L},
                          window[b:b+L] = window[a:a+L] (overwriting what was there); all
                          positions keep their loss, so the tokens after the first of the
                          copy are predictable from the earlier occurrence (seeded generator
                          of its own: seed+2)
  --copy-random           with --copy-prob: the source span is first refilled with uniform
                          random ids below <|endoftext|>, so its copy can be predicted only
                          by copying (natural text is partly predictable without it)
  --init CHECKPOINT       start from that checkpoint's weights instead of a random init (the
                          second phase of a curriculum: e.g. copying learned at context 128,
                          then natural text at 512; docs/ICLT.md); the architecture flags must
                          match it, the context may differ (rotary positions are computed, there
                          is no position table); the optimiser and schedule start fresh
Checkpoints hold only CPU float32 tensors + plain Python values (torch 1.13 loads them,
and tools/knowable_lm/ckpt.py reads the portable form written on other machines).
"""
import argparse
import glob
import json
import math
import os
import signal
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from knowable_lm import gpt_neox  # noqa: E402
from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights  # noqa: E402
from knowable_lm import bpe, ckpt, tokenizer as tok  # noqa: E402

VOCAB_ROWS = 264


def vocab_rows(vocab_limit: int) -> int:
    """Output rows: vocab_limit padded to a multiple of 8 (264 for the byte vocabulary)."""
    return (vocab_limit + 7) // 8 * 8


def load_stream(corpus_dir: str, files=None, encode=None, val_every: int = 0):
    """The training stream: ``files`` (in the order given) if set, else every
    corpus_dir/model-train/*.jsonl in sorted order; ``encode`` (default: UTF-8 bytes)
    turns a document into ids. With ``val_every`` K > 0, document i of each file with
    i % K == K-1 goes to a second (validation) stream instead. Returns (train, val); val
    is None without ``val_every``."""
    ids, val = [], []
    paths = files if files else sorted(glob.glob(os.path.join(corpus_dir, "model-train", "*.jsonl")))
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                text = json.loads(line)["text"]
                dst = val if val_every and i % val_every == val_every - 1 else ids
                dst.extend(encode(text) if encode else text.encode("utf-8"))
                dst.append(tok.EOS_ID)
    return (torch.tensor(ids, dtype=torch.int16),
            torch.tensor(val, dtype=torch.int16) if val_every else None)


def copy_spans(win: torch.Tensor, prob: float, lo: int, hi: int, gen: torch.Generator,
               random_vocab: int = 0) -> int:
    """Repeated-span augmentation in place (the scheme in the module doc): returns how
    many rows got a copied span. With random_vocab > 0 the source span is first filled with
    ids drawn uniformly from [0, random_vocab), so its copy is predictable only from the
    earlier occurrence (--copy-random)."""
    n = win.size(1)
    hi = min(hi, n // 2)
    if prob <= 0 or hi < lo:
        return 0
    done = 0
    for r in range(win.size(0)):
        if torch.rand((), generator=gen).item() >= prob:
            continue
        length = int(torch.randint(lo, hi + 1, (), generator=gen))
        a = int(torch.randint(0, n - 2 * length + 1, (), generator=gen))
        b = int(torch.randint(a + length, n - length + 1, (), generator=gen))
        if random_vocab > 0:
            win[r, a:a + length] = torch.randint(0, random_vocab, (length,), generator=gen)
        win[r, b:b + length] = win[r, a:a + length].clone()
        done += 1
    return done


def init_from(model, cfg: NeoXConfig, path: str) -> dict:
    """Loads a train.py checkpoint's weights into `model` (--init) and returns its training
    facts. Every architecture setting must equal the checkpoint's except
    max_position_embeddings (the context), which no parameter depends on."""
    ck = ckpt.load(path)
    theirs = dict(ck["config"])
    ours = cfg.to_hf_dict()
    theirs.pop("max_position_embeddings", None)
    ours.pop("max_position_embeddings", None)
    diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
    if diff:
        raise SystemExit("--init %s: its architecture differs in %s (checkpoint %s, flags %s)"
                         % (path, ", ".join(diff), [theirs.get(k) for k in diff], [ours.get(k) for k in diff]))
    model.load_state_dict(ck["state_dict"], strict=True)
    return ck.get("train", {})


def add_dropout(model, p: float) -> None:
    """Dropout on the embedding output and on each layer's attention and MLP outputs, as
    forward hooks (active in train mode only); the module code and its parameters are
    unchanged, so checkpoints and exports are those of the plain model."""
    def hook(module, inputs, output):
        return F.dropout(output, p, module.training)
    model.gpt_neox.embed_in.register_forward_hook(hook)
    for layer in model.gpt_neox.layers:
        layer.attention.register_forward_hook(hook)
        layer.mlp.register_forward_hook(hook)


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
    ap.add_argument("--steps", type=int, required=True,
                    help="training steps; 0 = until --max-seconds (then the schedule runs on time)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: deterministic, shared machine)")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (weights and optimiser stay fp32)")
    ap.add_argument("--attention", default="fp32", choices=["fp32", "sdpa", "math", "auto"],
                    help="attention implementation while training (gpt_neox.set_attention; training "
                         "windows have no padding, so sdpa's causal-only mask is exact); the saved "
                         "weights do not depend on it. Default fp32 (contract v1's explicit float32 "
                         "scores); if the first step fails with another, the run falls back to fp32")
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="stop after this many seconds of training and save (0: no limit)")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--val-every", type=int, default=0, metavar="K",
                    help="hold out every K-th model-train document as a validation stream (0: none)")
    ap.add_argument("--eval-every", type=int, default=250, help="val loss every N steps (with --val-every)")
    ap.add_argument("--val-windows", type=int, default=128, help="validation windows (default 128)")
    ap.add_argument("--copy-prob", type=float, default=0.0)
    ap.add_argument("--copy-min", type=int, default=8)
    ap.add_argument("--copy-max", type=int, default=128)
    ap.add_argument("--copy-random", action="store_true",
                    help="fill each copied span's source with uniform random ids first (see copy_spans)")
    ap.add_argument("--init", default=None, metavar="CHECKPOINT",
                    help="start from this checkpoint's weights (same architecture; see the module doc)")
    ap.add_argument("--checkpoint", required=True, help="where to write the final checkpoint")
    ap.add_argument("--log", required=True)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--save-every", type=int, default=0,
                    help="also write the checkpoint every N steps (0: only at the end), so a run on a "
                         "busy machine can be stopped early and still be exported")
    a = ap.parse_args(argv)
    if a.steps <= 0 and a.max_seconds <= 0:
        ap.error("--steps 0 needs --max-seconds")
    if a.copy_prob > 0 and not 1 <= a.copy_min <= min(a.copy_max, (a.context + 1) // 2):
        ap.error("--copy-min must be >= 1 and <= min(--copy-max, (context+1)//2)")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device %s: torch %s sees no CUDA device" % (a.device, torch.__version__))
    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.checkpoint)), exist_ok=True)
    logf = open(a.log, "w", encoding="utf-8")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    if a.tokenizer:
        bpe_tok = bpe.BpeTokenizer.from_file(a.tokenizer)
        stream, val = load_stream(a.corpora, a.train_jsonl, bpe_tok.encode, a.val_every)
        vocab_limit = bpe_tok.vocab_limit
    else:
        stream, val = load_stream(a.corpora, a.train_jsonl, None, a.val_every)
        vocab_limit = tok.VOCAB_LIMIT
    cfg = NeoXConfig(vocab_size=vocab_rows(vocab_limit), hidden_size=a.hidden, num_hidden_layers=a.layers,
                     num_attention_heads=a.heads, intermediate_size=4 * a.hidden,
                     max_position_embeddings=a.context, rotary_pct=a.rotary_pct)
    model = GPTNeoXForCausalLM(cfg)
    if a.init:
        a.init_train = init_from(model, cfg, a.init)
    else:
        init_weights(model, torch.Generator().manual_seed(a.seed), std=0.02)
    if a.dropout > 0:
        add_dropout(model, a.dropout)
    attention = "fp32"
    if a.attention != "fp32":
        if not hasattr(gpt_neox, "set_attention"):
            raise SystemExit("--attention %s needs gpt_neox.set_attention (contract v2)" % a.attention)
        attention = gpt_neox.set_attention(model, a.attention)
    model.to(device)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(a.seed + 1)
    copy_gen = torch.Generator().manual_seed(a.seed + 2)

    def lr_at(step, elapsed):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        p = 0.0
        if a.steps > 0:
            p = (step - a.warmup) / max(1, a.steps - a.warmup)
        if a.max_seconds > 0 and a.steps <= 0:
            p = elapsed / a.max_seconds
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    extras = []
    if a.rotary_pct != 0.25:
        extras.append("rotary_pct=%g" % a.rotary_pct)
    for k in ("dropout", "copy_prob", "copy_random", "val_every", "max_seconds"):
        if getattr(a, k):
            extras.append("%s=%g" % (k, getattr(a, k)))
    if a.init:
        extras.append("init=%s" % a.init)
    if a.copy_prob:
        extras.append("copy_len=%d..%d" % (a.copy_min, min(a.copy_max, (a.context + 1) // 2)))
    if a.weight_decay != 0.01:
        extras.append("weight_decay=%g" % a.weight_decay)
    log("train %s: layers=%d hidden=%d heads=%d params=%d context=%d batch=%d steps=%d lr=%g seed=%d%s"
        % (a.name, a.layers, a.hidden, a.heads, model.num_parameters(), a.context, a.batch,
           a.steps, a.lr, a.seed, "".join(" " + e for e in extras)))
    if device.type != "cpu" or a.bf16 or attention != "fp32":
        log("device: %s%s, attention %s (%s)" % (device, " bf16 autocast" if a.bf16 else "", attention,
                                                 torch.cuda.get_device_name(device) if device.type == "cuda"
                                                 else "cpu"))
    if a.tokenizer:
        log("tokenizer: %s (BPE, vocab_limit %d, sha256 %s)" % (a.tokenizer, vocab_limit, tok.sha256_file(a.tokenizer)))
    if a.train_jsonl:
        log("data: %d tokens (%s, docs separated by <|endoftext|>); torch %s"
            % (stream.numel(), ", ".join(a.train_jsonl), torch.__version__))
    else:
        log("data: %d tokens (model-train bucket, 5 domains, docs separated by <|endoftext|>); torch %s"
            % (stream.numel(), torch.__version__))
    if val is not None:
        log("validation: %d tokens (every %d-th model-train document, not trained on)" % (val.numel(), a.val_every))

    amp = (lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)) if a.bf16 else None
    offsets = torch.arange(a.context + 1)
    val_windows = None
    if val is not None:
        # up to --val-windows disjoint windows spread evenly over the whole stream, so every domain
        # (the files come in sorted order) is in the validation loss
        nv = min(a.val_windows, val.numel() // (a.context + 1))
        if nv < 1:
            raise SystemExit("validation stream too short (%d tokens) for one window" % val.numel())
        span = val.numel() // nv
        val_windows = torch.stack([val[i * span:i * span + a.context + 1] for i in range(nv)]).long()

    def forward_loss(win):
        x, y = win[:, :-1], win[:, 1:]
        if amp:
            with amp():
                logits = model(x, torch.ones_like(x), return_hidden=False)
        else:
            logits = model(x, torch.ones_like(x), return_hidden=False)
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))

    def val_loss():
        model.eval()
        with torch.no_grad():
            tot = 0.0
            for i in range(0, val_windows.size(0), 16):
                w = val_windows[i:i + 16].to(device)
                tot += forward_loss(w).item() * w.size(0)
        model.train()
        return tot / val_windows.size(0)

    state = {"best": None, "best_step": 0, "last_val": None, "copied": 0}

    def save(steps_done, seen, el, sd=None):
        _save(a, cfg, model, stream, vocab_limit, steps_done, seen, el, sd, state)

    t0 = time.time()
    seen = 0
    run_loss = 0.0
    run_n = 0
    n = stream.numel() - (a.context + 1)
    step = 0
    stop_reason = "steps"
    # SIGTERM (e.g. from `timeout`) ends the run after the current step, with a checkpoint
    term = []
    signal.signal(signal.SIGTERM, lambda *_: term.append(1))
    while True:
        el = time.time() - t0
        if a.steps > 0 and step >= a.steps:
            break
        if term:
            stop_reason = "SIGTERM"
            break
        if a.max_seconds > 0 and el >= a.max_seconds:
            stop_reason = "max-seconds"
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, el)
        starts = torch.randint(0, n, (a.batch,), generator=gen)
        win = stream[starts.unsqueeze(1) + offsets].long()
        state["copied"] += copy_spans(win, a.copy_prob, a.copy_min, a.copy_max, copy_gen,
                                      tok.EOS_ID if a.copy_random else 0)
        opt.zero_grad(set_to_none=True)
        try:
            loss = forward_loss(win.to(device, non_blocking=True))
            loss.backward()
        except RuntimeError as e:
            if step > 0 or attention == "fp32":
                raise
            # a kernel this torch/GPU lacks: one retry with the v1 attention
            log("attention %s failed on the first step (%s: %s); falling back to fp32"
                % (attention, type(e).__name__, str(e).splitlines()[0][:200]))
            attention = gpt_neox.set_attention(model, "fp32")
            opt.zero_grad(set_to_none=True)
            loss = forward_loss(win.to(device, non_blocking=True))
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen += a.batch * a.context
        run_loss += loss.item()
        run_n += 1
        if step % a.log_every == 0 or step == a.steps:
            el = time.time() - t0
            log("step %6d  loss %.4f nats (%.3f bits/token)  lr %.2e  tokens %d  elapsed %.0fs  %.0f tok/s"
                % (step, run_loss / run_n, run_loss / run_n / math.log(2), lr_at(step - 1, el), seen,
                   el, seen / max(el, 1e-9)))
            run_loss, run_n = 0.0, 0
        if val_windows is not None and step % a.eval_every == 0:
            _track_val(a, state, val_loss(), step, model, log)
            if state["best_step"] == step:
                save(step, seen, time.time() - t0, state["best"])
        elif val_windows is None and a.save_every and step % a.save_every == 0 and step != a.steps:
            save(step, seen, time.time() - t0)
            log("checkpoint at step %d: %s" % (step, a.checkpoint))
    el = time.time() - t0
    if val_windows is not None:
        if stop_reason == "SIGTERM" and state["best"] is not None:
            pass  # asked to stop: write the best so far at once, no last evaluation
        elif step % a.eval_every != 0:
            _track_val(a, state, val_loss(), step, model, log)
        save(step, seen, el, state["best"])
        log("done (%s): %d steps, %d tokens seen in %.1f s; best val loss %.4f at step %d (last %.4f); "
            "checkpoint (best) %s" % (stop_reason, step, seen, el, state["best_val"], state["best_step"],
                                      state["last_val"], a.checkpoint))
    else:
        save(step, seen, el)
        log("done (%s): %d steps, %d tokens seen in %.1f s; checkpoint %s"
            % (stop_reason, step, seen, el, a.checkpoint))


def _track_val(a, state, v, step, model, log):
    state["last_val"] = v
    better = state["best"] is None or v < state["best_val"]
    if better:
        state["best_val"] = v
        state["best_step"] = step
        state["best"] = {k: t.detach().float().cpu().clone() for k, t in model.state_dict().items()}
    log("step %6d  val loss %.4f nats%s" % (step, v, "  (best)" if better else ""))


def _save(a, cfg, model, stream, vocab_limit, steps_done, seen, el, sd=None, state=None):
    if sd is None:
        sd = {k: t.detach().float().cpu() for k, t in model.state_dict().items()}
    train = {"name": a.name, "steps": steps_done, "planned_steps": a.steps if a.steps > 0 else steps_done,
             "tokens_seen": seen, "wall_seconds": round(el, 1), "train_stream_tokens": stream.numel(),
             "params": model.num_parameters(), "seed": a.seed, "lr": a.lr,
             "batch": a.batch, "context": a.context,
             "device": a.device + (" bf16" if a.bf16 else ""), "torch": str(torch.__version__)}
    if a.attention != "fp32":
        train["attention"] = a.attention
    if a.train_jsonl:
        train.update({"train_jsonl": a.train_jsonl, "warmup": a.warmup})
    if a.tokenizer:
        train.update({"tokenizer": os.path.abspath(a.tokenizer), "vocab_limit": vocab_limit,
                      "tokenizer_sha256": tok.sha256_file(a.tokenizer), "warmup": a.warmup})
    for k in ("dropout", "copy_prob", "copy_random", "max_seconds", "val_every"):
        if getattr(a, k):
            train[k] = getattr(a, k)
    if a.init:
        train["init"] = os.path.abspath(a.init)
        train["init_train"] = a.init_train  # the phase it started from (the model card reports it)
    if a.copy_prob:
        train["copy_len"] = [a.copy_min, min(a.copy_max, (a.context + 1) // 2)]
        train["windows_with_copy"] = state["copied"] if state else 0
    if a.weight_decay != 0.01:
        train["weight_decay"] = a.weight_decay
    if a.rotary_pct != 0.25:
        train["rotary_pct"] = a.rotary_pct
    if state and state.get("best") is not None:
        train.update({"best_step": state["best_step"], "best_val_loss": round(state["best_val"], 5),
                      "last_val_loss": round(state["last_val"], 5)})
    torch.save({"config": cfg.to_hf_dict(), "state_dict": sd, "train": train}, a.checkpoint + ".tmp")
    os.replace(a.checkpoint + ".tmp", a.checkpoint)  # a reader never sees half a file


if __name__ == "__main__":
    sys.exit(main())
