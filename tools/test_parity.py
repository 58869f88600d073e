#!/usr/bin/python3
"""Parity of tools/knowable_lm/gpt_neox.py with Hugging Face GPTNeoXForCausalLM.

  /usr/bin/python3 tools/test_parity.py

Where `transformers` imports: builds GPTNeoXForCausalLM from a random small config
(parallel and sequential residual), loads its state dict into our module with
load_state_dict(strict=True) and compares logits and every hidden state (right-padded
batch, real positions only). Prints the max abs differences; exits 1 if any exceeds
1e-4. Without transformers it prints "SKIPPED: transformers not importable (...)" and
exits 0 (Debian has no transformers package).
"""
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, load_hf_state_dict  # noqa: E402

TOL = 1e-4


def main():
    try:
        import transformers
        from transformers import GPTNeoXConfig, GPTNeoXForCausalLM as HFModel
    except Exception as e:  # ImportError, or a broken installation
        print("SKIPPED: transformers not importable (%s: %s)" % (type(e).__name__, e))
        return 0
    torch.set_num_threads(1)
    torch.manual_seed(0)
    worst = 0.0
    for parallel in (True, False):
        hf_cfg = GPTNeoXConfig(vocab_size=264, hidden_size=64, num_hidden_layers=3,
                               num_attention_heads=4, intermediate_size=256,
                               max_position_embeddings=128, rotary_pct=0.25,
                               rotary_emb_base=10000, layer_norm_eps=1e-5,
                               use_parallel_residual=parallel, tie_word_embeddings=False,
                               hidden_act="gelu", bos_token_id=256, eos_token_id=256,
                               attention_dropout=0.0, hidden_dropout=0.0, initializer_range=0.2)
        hf = HFModel(hf_cfg).eval()
        ours = GPTNeoXForCausalLM(NeoXConfig.from_hf_dict(hf_cfg.to_dict())).eval()
        load_hf_state_dict(ours, hf.state_dict())
        ids = torch.randint(0, 257, (3, 40))
        mask = torch.ones_like(ids)
        mask[1, 25:] = 0
        mask[2, 7:] = 0
        with torch.no_grad():
            out = hf(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            logits, hidden = ours(ids, mask)
        real = mask.bool()
        dl = (out.logits - logits)[real].abs().max().item()
        dh = max((a - b)[real].abs().max().item() for a, b in zip(out.hidden_states, hidden))
        if len(out.hidden_states) != len(hidden):
            print("FAIL: %d HF hidden states vs %d" % (len(out.hidden_states), len(hidden)))
            return 1
        print("transformers %s, use_parallel_residual=%s: max |diff| logits %.3e, hidden states %.3e"
              % (transformers.__version__, parallel, dl, dh))
        worst = max(worst, dl, dh)
    if worst > TOL:
        print("FAIL: difference above %g" % TOL)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
