"""The probe stage's fits on a GPU, in PyTorch, for sizing (BENCHMARKS.md section 8, docs/SCALE.md).

The Java stage trains the MLP probe with DJL (the same operations: Linear(d, 2048) -> Dropout
-> ReLU -> Linear(2048, 2), softmax cross-entropy, Adam 1e-4, batch 64) on the task's GPU when
Spark assigns one. This script times the same fit in PyTorch on synthetic rows held as fp16:

  device-fed: rows on the GPU, each minibatch gathered there (the best case);
  host-fed:   rows on the host in fp16, each minibatch converted and copied to the GPU, as
              the Java trainer does (decodes a batch into a float array, copies it over);

and the linear probe's work per L-BFGS evaluation (margins X w and gradient X^T r over all
rows), which the Java stage runs on the CPU. Prints one line per measurement with seconds
and peak GPU memory.

  python3 bench/probe_fit_gpu.py [--sizes 1024:100000,4096:1000000] [--epochs 1]
"""
import argparse
import time

import torch


def fit_mlp(x, y, h, batch, epochs, host_fed, device):
    n, d = x.shape
    g = torch.Generator(device="cpu").manual_seed(0)
    w1 = torch.nn.Linear(d, h).to(device)
    w2 = torch.nn.Linear(h, 2).to(device)
    drop = torch.nn.Dropout(0.1)
    opt = torch.optim.Adam(list(w1.parameters()) + list(w2.parameters()), lr=1e-4)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        if not host_fed:
            order = order.to(device)
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            if host_fed:
                xb = x[idx].float().pin_memory().to(device, non_blocking=True)
                yb = y[idx].to(device, non_blocking=True)
            else:
                xb = x[idx].float()
                yb = y[idx]
            loss = torch.nn.functional.cross_entropy(w2(torch.relu(drop(w1(xb)))), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    torch.cuda.synchronize()
    return time.perf_counter() - t


def linear_evaluation(x, y, device, repeats=5):
    """One objective + gradient evaluation of the logistic probe over every row: X w, then X^T r."""
    n, d = x.shape
    w = torch.randn(d, device=device) * 0.01
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        m = (x @ w.half()).float()
        r = (torch.sigmoid(m) - y.float()) / n
        g = (x.T @ r.half()).float()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / repeats, float(g.abs().max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024:100000,1024:1000000,4096:100000,4096:1000000")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--host-fed-rows", type=int, default=100000,
                    help="the host-fed MLP runs on the first this-many rows (time per row is what counts)")
    args = ap.parse_args()
    device = torch.device("cuda")
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    for size in args.sizes.split(","):
        d, n = map(int, size.split(":"))
        torch.manual_seed(0)
        x = torch.randn(n, d, device=device, dtype=torch.float16)
        y = (x[:, :16].float().sum(1) / 4 + torch.randn(n, device=device) > 0).long()
        torch.cuda.reset_peak_memory_stats()
        s, gmax = linear_evaluation(x, y, device)
        print(f"d={d} n={n} linear: one objective+gradient evaluation over all rows {s * 1e3:.2f} ms "
              f"(|g|max {gmax:.2e}); peak GPU {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB", flush=True)
        torch.cuda.reset_peak_memory_stats()
        s = fit_mlp(x, y, args.hidden, args.batch, args.epochs, False, device)
        print(f"d={d} n={n} mlp device-fed: {args.epochs} epoch(s), batch {args.batch}: {s:.1f} s = "
              f"{s * 1e6 / (n * args.epochs):.2f} us per row-epoch; peak GPU "
              f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB", flush=True)
        m = min(n, args.host_fed_rows)
        xh = x[:m].cpu()
        yh = y[:m].cpu()
        s = fit_mlp(xh, yh, args.hidden, args.batch, 1, True, device)
        print(f"d={d} n={m} mlp host-fed: 1 epoch, batch {args.batch}: {s:.1f} s = {s * 1e6 / m:.2f} us per "
              f"row-epoch", flush=True)
        del x, y, xh, yh
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
