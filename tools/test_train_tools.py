#!/usr/bin/python3
"""Checks of the training tools added for the retrained BPE pair (issue 21), on the CPU:

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/test_train_tools.py     (about 1 minute)

1. repeated-span augmentation (train.copy_spans): every changed row holds an exact copy
   of an earlier span of length within the bounds, everything else untouched, and the
   share of rows with a copy is near the probability (binomial, 5 sigma); with
   --copy-random the source span holds random ids and its later copy equals it;
2. dropout hooks (train.add_dropout): eval mode equals the hook-free model exactly,
   train mode differs; the state_dict keys are unchanged;
3. portable checkpoints (knowable_lm/ckpt.py): float32 round trip is bit-exact, float16
   within float16 rounding (relative 2^-11), and a checkpoint saved by this torch reloads;
4. ckpt.model_from_dir (the eager model behind an exported directory) gives the logits
   of that directory's traced model.pt (max |diff| <= 1e-4, the export check's tolerance);
5. select_bpe_large's copy check equals separate forward passes per position, and its
   band counts a hand count;
6. train.py end to end on the CPU: two runs with the same seed and --steps give identical
   checkpoints (deterministic path), a --max-seconds run stops by time and keeps its
   best-validation checkpoint, SIGTERM stops a run with a checkpoint written, and an
   attention kernel failing on the first step falls back to fp32 (same result as fp32);
7. --init (a curriculum's second phase): a checkpoint trained at another context loads
   exactly, the new checkpoint records where it started, and an architecture that differs
   fails with the differing setting named.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

import train  # noqa: E402
from knowable_lm import ckpt  # noqa: E402
from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights  # noqa: E402

TOK = os.path.join(ROOT, "demo/models/bpe-small/tokenizer.json")


def check_copy_spans():
    gen = torch.Generator().manual_seed(7)
    rows, n, lo, hi, prob = 4000, 289, 8, 144, 0.3
    orig = torch.randint(0, 50000, (rows, n), generator=gen)
    win = orig.clone()
    done = train.copy_spans(win, prob, lo, hi, torch.Generator().manual_seed(8))
    changed = 0
    for r in range(rows):
        diff = (win[r] != orig[r]).nonzero().flatten()
        if diff.numel() == 0:
            continue
        changed += 1
        b0, b1 = diff.min().item(), diff.max().item()
        # the overwritten region lies inside one span [b, b+L) copied from [a, a+L), a+L <= b
        found = False
        for length in range(max(lo, b1 - b0 + 1), hi + 1):
            for b in range(max(0, b1 - length + 1), b0 + 1):
                if b + length > n:
                    continue
                seg = win[r, b:b + length]
                for a in range(0, b - length + 1):
                    if torch.equal(orig[r, a:a + length], seg) and torch.equal(win[r, a:a + length], seg):
                        found = True
                        break
                if found:
                    break
            if found:
                break
        assert found, "row %d: changed positions %d..%d are not a copy of an earlier span" % (r, b0, b1)
    # random ids over 50,000 values: a copy changes at least one position with probability ~1
    assert changed == done, (changed, done)
    sd = (rows * prob * (1 - prob)) ** 0.5
    assert abs(done - rows * prob) < 5 * sd, (done, rows * prob, sd)
    # spans too long for the window are not drawn
    w = torch.arange(20).unsqueeze(0).repeat(50, 1)
    assert train.copy_spans(w.clone(), 1.0, 11, 30, torch.Generator().manual_seed(1)) == 0
    print("copy_spans: %d/%d rows copied (p=%g), every change an exact earlier span" % (done, rows, prob))
    # --copy-random: the source span is refilled with ids below random_vocab (ids of the
    # window are all >= 1000), and the same span appears again later, exactly
    orig = torch.randint(1000, 50000, (500, n), generator=gen)
    win = orig.clone()
    done = train.copy_spans(win, 1.0, lo, hi, torch.Generator().manual_seed(9), random_vocab=256)
    assert done == 500
    for r in range(500):
        low = (win[r] < 256).nonzero().flatten()
        length = low.numel() // 2
        assert lo <= length <= hi, (r, low.numel())
        a, b = low[0].item(), low[length].item()
        assert torch.equal(low[:length], torch.arange(a, a + length)), r
        assert torch.equal(low[length:], torch.arange(b, b + length)), r
        assert torch.equal(win[r, a:a + length], win[r, b:b + length]), r
        keep = torch.ones(n, dtype=torch.bool)
        keep[a:a + length] = False
        keep[b:b + length] = False
        assert torch.equal(win[r][keep], orig[r][keep]), r
    print("copy_spans --copy-random: 500/500 rows hold a random span and its exact later copy")


def small_model(seed=3):
    cfg = NeoXConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=64)
    m = GPTNeoXForCausalLM(cfg)
    init_weights(m, torch.Generator().manual_seed(seed), std=0.1)
    return m


def check_dropout():
    plain, hooked = small_model(), small_model()
    train.add_dropout(hooked, 0.3)
    assert list(plain.state_dict()) == list(hooked.state_dict())
    x = torch.randint(0, 64, (2, 17), generator=torch.Generator().manual_seed(2))
    plain.eval()
    hooked.eval()
    with torch.no_grad():
        assert torch.equal(plain(x, return_hidden=False), hooked(x, return_hidden=False))
        hooked.train()
        torch.manual_seed(0)
        d = (plain(x, return_hidden=False) - hooked(x, return_hidden=False)).abs().max().item()
    assert d > 1e-3, d
    print("dropout hooks: eval identical, train differs by up to %.3f" % d)


def check_portable(tmp):
    m = small_model()
    ck = {"config": m.config.to_hf_dict(), "state_dict": dict(m.state_dict()), "train": {"name": "x", "n": 1}}
    ckpt.save_portable(ck, os.path.join(tmp, "a.pkl"))
    back = ckpt.load(os.path.join(tmp, "a.pkl"))
    assert back["train"] == ck["train"]
    for k, v in ck["state_dict"].items():
        assert torch.equal(back["state_dict"][k], v), k
    ckpt.save_portable(ck, os.path.join(tmp, "h.pkl"), torch.float16)
    half = ckpt.load(os.path.join(tmp, "h.pkl"))
    for k, v in ck["state_dict"].items():
        h = half["state_dict"][k]
        assert h.dtype == torch.float32
        assert torch.all((h - v).abs() <= v.abs() * 2 ** -11 + 2 ** -24), k
    torch.save(ck, os.path.join(tmp, "t.pt"))
    tb = ckpt.load(os.path.join(tmp, "t.pt"))
    assert all(torch.equal(tb["state_dict"][k], v) for k, v in ck["state_dict"].items())
    print("portable checkpoints: fp32 exact, fp16 within 2^-11, torch.save form (torch %s) reloads" % torch.__version__)


def check_model_from_dir():
    d = os.path.join(ROOT, "demo/models/bpe-small")
    eager = ckpt.model_from_dir(d)
    traced = torch.jit.load(os.path.join(d, "model.pt"))
    ids = torch.randint(0, 2257, (3, 40), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    mask[1, 30:] = 0
    with torch.no_grad():
        le = eager(ids, mask, return_hidden=False)
        lt = traced(ids, mask)[0]
    diff = (le - lt)[mask.bool()].abs().max().item()
    assert diff <= 1e-4, diff
    print("model_from_dir(bpe-small): logits max |diff| vs model.pt %.2e" % diff)


def run_train(tmp, name, extra, wait=True):
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--name", "t", "--tokenizer", TOK, "--layers", "1",
           "--hidden", "16", "--heads", "2", "--context", "32", "--batch", "2", "--warmup", "2",
           "--log-every", "5", "--checkpoint", os.path.join(tmp, name + ".pt"),
           "--log", os.path.join(tmp, name + ".log")] + extra
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return ckpt.load(os.path.join(tmp, name + ".pt"))


def check_train(tmp):
    flags = ["--steps", "12", "--copy-prob", "0.5", "--copy-min", "2", "--copy-max", "8", "--dropout", "0.1"]
    a = run_train(tmp, "a", flags)
    b = run_train(tmp, "b", flags)
    assert a["train"]["steps"] == 12 and a["train"]["windows_with_copy"] > 0
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k
    timed = run_train(tmp, "c", ["--steps", "0", "--max-seconds", "3", "--val-every", "20", "--eval-every", "4"])
    tr = timed["train"]
    assert tr["steps"] > 0 and tr["best_step"] <= tr["steps"] and tr["best_val_loss"] <= tr["last_val_loss"] + 1e-9
    with open(os.path.join(tmp, "c.log"), encoding="utf-8") as f:
        assert "done (max-seconds)" in f.read()
    p = run_train(tmp, "d", ["--steps", "1000000", "--val-every", "20", "--eval-every", "3"], wait=False)
    log = os.path.join(tmp, "d.log")
    t0 = time.time()
    while time.time() - t0 < 120:  # wait until it trains
        if os.path.exists(log) and "step" in open(log, encoding="utf-8").read().split("validation:")[-1]:
            break
        time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    assert p.wait(60) == 0
    with open(log, encoding="utf-8") as f:
        assert "done (SIGTERM)" in f.read()
    assert ckpt.load(os.path.join(tmp, "d.pt"))["train"]["steps"] > 0
    print("train.py: same seed -> identical checkpoints; --max-seconds stopped after %d steps (best val %.3f at "
          "step %d); SIGTERM saved" % (tr["steps"], tr["best_val_loss"], tr["best_step"]))
    check_attention_fallback(tmp)
    check_init(tmp, a)


def check_init(tmp, a):
    """--init: a run at context 64 from checkpoint a (context 32) records its start (path and
    a's training facts); the
    weights init_from loads into a context-64 model are a's exactly; different heads fail
    and name num_attention_heads."""
    b = run_train(tmp, "i", ["--steps", "1", "--context", "64", "--init", os.path.join(tmp, "a.pt")])
    assert b["train"]["init"] == os.path.join(tmp, "a.pt") and b["config"]["max_position_embeddings"] == 64
    assert b["train"]["init_train"] == a["train"], "the phase it started from is recorded"
    cfg = NeoXConfig.from_hf_dict(b["config"])
    m = GPTNeoXForCausalLM(cfg)
    init_weights(m, torch.Generator().manual_seed(99), std=0.02)
    train.init_from(m, cfg, os.path.join(tmp, "a.pt"))
    for k, v in m.state_dict().items():
        assert torch.equal(v, a["state_dict"][k]), k
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--name", "t", "--tokenizer", TOK, "--layers", "1",
           "--hidden", "16", "--heads", "4", "--context", "32", "--batch", "2", "--steps", "1",
           "--init", os.path.join(tmp, "a.pt"), "--checkpoint", os.path.join(tmp, "j.pt"),
           "--log", os.path.join(tmp, "j.log")]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode != 0 and "num_attention_heads" in r.stdout, r.stdout[-500:]
    print("train.py --init: a context-32 checkpoint loads exactly into a context-64 model; other heads refused")


def check_attention_fallback(tmp):
    """--attention sdpa whose kernel fails on the first step: the run goes on with fp32 and
    ends like a plain fp32 run with the same seed (same first batch, same update)."""
    from knowable_lm import gpt_neox
    F = gpt_neox.F

    def broken(*args, **kwargs):
        raise RuntimeError("no kernel for this test")
    saved = (gpt_neox.has_sdpa, getattr(F, "scaled_dot_product_attention", None))
    gpt_neox.has_sdpa = lambda: True
    F.scaled_dot_product_attention = broken
    common = ["--name", "t", "--tokenizer", TOK, "--layers", "1", "--hidden", "16", "--heads", "2",
              "--context", "32", "--batch", "2", "--warmup", "2", "--steps", "3", "--log-every", "1"]
    try:
        train.main(common + ["--attention", "sdpa", "--checkpoint", os.path.join(tmp, "s.pt"),
                             "--log", os.path.join(tmp, "s.log")])
    finally:
        gpt_neox.has_sdpa = saved[0]
        if saved[1] is None:
            del F.scaled_dot_product_attention
        else:
            F.scaled_dot_product_attention = saved[1]
    train.main(common + ["--checkpoint", os.path.join(tmp, "f.pt"), "--log", os.path.join(tmp, "f.log")])
    with open(os.path.join(tmp, "s.log"), encoding="utf-8") as f:
        assert "falling back to fp32" in f.read()
    s, f = ckpt.load(os.path.join(tmp, "s.pt")), ckpt.load(os.path.join(tmp, "f.pt"))
    for k, v in f["state_dict"].items():
        assert torch.equal(s["state_dict"][k], v), k
    print("train.py --attention: a failing first step falls back to fp32 and equals the fp32 run")


def check_report_measures():
    """select_bpe_large: the one-pass copy check against separate forward passes per
    position (batched with padding vs one unpadded prefix at a time), and the band counts
    against a hand count."""
    import select_bpe_large as sel
    m = small_model().eval()
    g = torch.Generator().manual_seed(11)
    seqs = [torch.randint(0, 60, (n,), generator=g).tolist() for n in (9, 40, 2, 23)]
    got = sel.copy_check(m, seqs, 60, 64, 63, "cpu", batch=3)
    no, hint, above, n = 0.0, 0.0, 0, 0
    with torch.no_grad():
        for s in seqs:
            t = s[:(64 - 1) // 2]
            for i in range(1, len(t)):
                p0 = torch.softmax(m(torch.tensor([t[:i]]), return_hidden=False)[0, -1, :60], -1)[t[i]].item()
                ph = torch.softmax(m(torch.tensor([t + [63] + t[:i]]), return_hidden=False)[0, -1, :60],
                                   -1)[t[i]].item()
                no, hint, above, n = no + p0, hint + ph, above + (ph > 0.5), n + 1
    assert got["positions"] == n, (got, n)
    assert abs(got["p_no_hint"] - no / n) < 1e-5 and abs(got["p_hint"] - hint / n) < 1e-5, (got, no / n, hint / n)
    assert got["frac_hint_above_0.5"] == above / n
    hs = [[2.5, 1.0, 3.0, 2.0], [4.0]]
    hl = [[0.1, 0.0, 2.95, 0.6], [3.91]]
    c = sel.pair_counts(hs, hl)
    # band: 2.5, 3.0, 2.0, 4.0; H_L < 0.2: 0.1; < 0.5: 0.1; < 1.0: 0.1, 0.6; gap: 2.95, 3.91
    assert c == {"band": 4, "gap": 2, "lt0.2": 1, "lt0.5": 1, "lt1": 2}, c
    print("select_bpe_large: copy check equals per-position forward passes (%d positions), band counts exact" % n)


def main():
    torch.set_num_threads(1)
    check_report_measures()
    check_copy_spans()
    check_dropout()
    with tempfile.TemporaryDirectory() as tmp:
        check_portable(tmp)
        check_model_from_dir()
        check_train(tmp)
    print("OK")


if __name__ == "__main__":
    main()
