#!/usr/bin/env python3
"""Reference point for bench/score-vs-bare.sh: Debian's torch runs the same TorchScript
(model.pt) over the same batches the Java bench wrote (batches-<role>.bin), one thread,
with the same per-position work: log-softmax over vocab_limit, entropy, top-k, and the
requested hidden layers copied out of the unpadded positions.

  OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_reference.py MODEL_DIR BATCHES TOPK LAYERS REPS
"""
import json
import sys
import time

import numpy as np
import torch


def read_batches(path):
    a = np.fromfile(path, dtype="<i4")
    pos = 1
    out = []
    for _ in range(int(a[0])):
        b = int(a[pos]); pos += 1
        seqs = []
        for _ in range(b):
            n = int(a[pos]); pos += 1
            seqs.append(a[pos:pos + n]); pos += n
        out.append(seqs)
    return out


def main():
    model_dir, path, topk, layers, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    torch.set_num_threads(1)
    meta = json.load(open(model_dir + "/knowable.json"))
    vl = meta["vocab_limit"]
    layers = [int(x) for x in layers.split(",") if x]
    model = torch.jit.load(model_dir + "/model.pt", map_location="cpu")
    batches = read_batches(path)
    prepared = []
    for seqs in batches:
        t = max(len(s) for s in seqs)
        ids = torch.zeros(len(seqs), t, dtype=torch.long)
        mask = torch.zeros(len(seqs), t, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.from_numpy(s.astype(np.int64))
            mask[i, :len(s)] = 1
        prepared.append((ids, mask))
    tokens = sum(len(s) for seqs in batches for s in seqs)
    with torch.inference_mode():
        for rep in range(reps):
            start = time.perf_counter()
            for ids, mask in prepared:
                if meta["contract"].endswith("/2"):
                    # contract v2: the head is in the graph; read back what Java reads
                    keep = mask.reshape(-1).bool()
                    sel = torch.tensor(layers or [meta["num_layers"]])
                    e, ti, tv, nl, _, hs = model(ids, mask, sel, ids[:, :1] * 0)
                    out = [e.reshape(-1)[keep].numpy(), tv[..., :topk].reshape(-1, topk)[keep].numpy(),
                           ti[..., :topk].reshape(-1, topk)[keep].numpy()]
                    for li in range(len(layers)):
                        out.append(hs[li].reshape(-1, hs.shape[-1])[keep].float().numpy())
                    continue
                logits, hidden = model(ids, mask)
                keep = mask.reshape(-1).bool()
                lp = torch.log_softmax(logits.reshape(-1, logits.shape[-1])[keep][:, :vl].float(), -1)
                p = lp.exp()
                ent = -(torch.where(p == 0, torch.zeros_like(p), p * lp)).sum(-1)
                top = lp.topk(topk, -1)
                out = [ent.numpy(), top.values.numpy(), top.indices.numpy()]
                for layer in layers:
                    out.append(hidden[layer].reshape(-1, hidden.shape[-1])[keep].numpy())
            secs = time.perf_counter() - start
            print("TORCH rep %d: %d tokens in %.2f s, %.0f tokens/s" % (rep + 1, tokens, secs, tokens / secs))


if __name__ == "__main__":
    main()
