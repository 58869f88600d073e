#!/usr/bin/python3
"""A random-init GPT-NeoX of Pythia-70M's shape (hidden 512, 6 layers, 8 heads, byte-level
tokenizer, max_context 512), exported under the model contract, for throughput benchmarks
only: its predictions are noise, but its forward pass costs about what a real small model's
does on a CPU, which the tiny family's does not (tiny-large: hidden 128, 4 layers).

  /usr/bin/python3 bench/make_wide_model.py OUT_DIR [--hidden 512] [--layers 6] [--heads 8]

Used by bench/score-vs-bare.sh with bench/wide-model.conf (BENCHMARKS.md section 2).
"""
import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

import torch  # noqa: E402

from knowable_lm import export  # noqa: E402
from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, init_weights  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = NeoXConfig(vocab_size=264, hidden_size=a.hidden, num_hidden_layers=a.layers,
                     num_attention_heads=a.heads, intermediate_size=4 * a.hidden,
                     max_position_embeddings=512, rotary_pct=0.25)
    m = GPTNeoXForCausalLM(cfg)
    init_weights(m, torch.Generator().manual_seed(7), std=0.02, embed_std=0.02, out_std=0.02)
    name = "wide-random-%dx%d" % (a.hidden, a.layers)
    export.export_model(m.eval(), a.out, name, onnx=False, reference=False, check=False)
    print("%s: %d parameters -> %s" % (name, sum(p.numel() for p in m.parameters()), a.out))


if __name__ == "__main__":
    main()
