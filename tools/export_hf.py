#!/usr/bin/python3
"""Export a Hugging Face GPT-NeoX checkpoint (e.g. Pythia) to the knowable-causal-lm contract.

  /usr/bin/python3 tools/export_hf.py --checkpoint HF_DIR --out OUT_DIR [--name NAME]
      [--vocab-limit N] [--contract 2] [--top-k 10] [--attention auto] [--no-onnx] [--no-check]

--contract 2 (the default) writes the scoring-head graph (docs/MODEL_CONTRACT.md, v2):
entropy, top-k, next-token and probe log-probs and the requested hidden states only, with
attention through F.scaled_dot_product_attention when the exporting torch has it (>= 2.0;
else q k^T in the weights' dtype with an fp32 softmax). --contract 1 writes the older
full-logits graph.

HF_DIR must contain config.json (model_type gpt_neox), tokenizer.json and the weights:
model.safetensors / model-*.safetensors (needs the `safetensors` Python package) or
pytorch_model.bin / pytorch_model-*.bin (read with torch.load). The weights are loaded
into tools/knowable_lm/gpt_neox.py with load_state_dict(strict=True) (after dropping the
attention.bias / masked_bias / rotary_emb.inv_freq buffers some checkpoints contain).
tokenizer.json is copied unchanged; vocab_limit defaults to the tokenizer's vocabulary
size (largest id in vocab / added_tokens + 1), except for the GPT-NeoX-20B tokenizer of
Pythia (50277 ids in a 50304-row matrix), where it defaults to 50254, the vocabulary the
paper computed entropies over (the ids above it are added whitespace and special tokens).
reference.json needs token ids for the reference texts: they come from the `tokenizers`
package when it imports; without it, only a byte-level tokenizer with no merges (like the
tiny family's) can be encoded, and otherwise reference.json is skipped with a warning.
(Debian has no transformers/tokenizers/safetensors packages: on this machine only
pytorch_model.bin checkpoints load.)
"""
import argparse
import glob
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from knowable_lm.gpt_neox import GPTNeoXForCausalLM, NeoXConfig, load_hf_state_dict  # noqa: E402
from knowable_lm import export, tokenizer as tok  # noqa: E402


def load_weights(ckpt: str) -> dict:
    st = sorted(glob.glob(os.path.join(ckpt, "model*.safetensors")))
    if st:
        try:
            from safetensors.torch import load_file
        except ImportError as e:
            bins = sorted(glob.glob(os.path.join(ckpt, "pytorch_model*.bin")))
            if not bins:
                raise SystemExit("checkpoint has only safetensors weights and the `safetensors` "
                                 "package does not import (%s)" % e)
        else:
            sd = {}
            for f in st:
                sd.update(load_file(f))
            return sd
    bins = sorted(glob.glob(os.path.join(ckpt, "pytorch_model*.bin")))
    if not bins:
        raise SystemExit("no model.safetensors or pytorch_model.bin in " + ckpt)
    sd = {}
    for f in bins:
        sd.update(torch.load(f, map_location="cpu"))
    return sd


def tokenizer_vocab_size(doc: dict) -> int:
    ids = list((doc.get("model") or {}).get("vocab", {}).values())
    ids += [t["id"] for t in doc.get("added_tokens", [])]
    return max(ids) + 1


def make_encoder(tok_path: str, doc: dict):
    try:
        from tokenizers import Tokenizer
        t = Tokenizer.from_file(tok_path)
        return lambda text: t.encode(text, add_special_tokens=False).ids
    except ImportError:
        pass
    m = doc.get("model") or {}
    if m.get("type") == "BPE" and not m.get("merges") and len(m.get("vocab", {})) == 256:
        b2u = tok.bytes_to_unicode()
        vocab = m["vocab"]
        table = [vocab[b2u[b]] for b in range(256)]
        return lambda text: [table[b] for b in text.encode("utf-8")]
    return None


# The GPT-NeoX-20B tokenizer (Pythia): 50277 ids; the paper's entropies use the first 50254.
NEOX_TOKENIZER_IDS = 50277
NEOX_PAPER_VOCAB_LIMIT = 50254


def default_vocab_limit(tokenizer_ids, matrix_rows):
    """The vocab_limit when --vocab-limit is not given."""
    if tokenizer_ids == NEOX_TOKENIZER_IDS and matrix_rows >= NEOX_TOKENIZER_IDS:
        return NEOX_PAPER_VOCAB_LIMIT
    return min(tokenizer_ids, matrix_rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="Hugging Face model directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None, help="model name (default: checkpoint dir name)")
    ap.add_argument("--vocab-limit", type=int, default=None)
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--no-check", action="store_true", help="skip traced-vs-eager checks (big models)")
    ap.add_argument("--contract", type=int, choices=[1, 2], default=2, help="contract version (default 2)")
    ap.add_argument("--top-k", type=int, default=export.TOP_K, help="v2: top-k ids per position")
    ap.add_argument("--attention", choices=["auto", "sdpa", "math"], default="auto",
                    help="v2 attention: auto = sdpa where torch has it, else math")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    with open(os.path.join(a.checkpoint, "config.json"), encoding="utf-8") as f:
        hf_cfg = json.load(f)
    cfg = NeoXConfig.from_hf_dict(hf_cfg)
    tok_path = os.path.join(a.checkpoint, "tokenizer.json")
    with open(tok_path, encoding="utf-8") as f:
        tok_doc = json.load(f)
    vocab_limit = a.vocab_limit or default_vocab_limit(tokenizer_vocab_size(tok_doc), cfg.vocab_size)
    model = GPTNeoXForCausalLM(cfg)
    load_hf_state_dict(model, load_weights(a.checkpoint))
    model.eval()
    encode = make_encoder(tok_path, tok_doc)
    if encode is None:
        print("WARNING: `tokenizers` does not import and tokenizer.json is not plain byte-level: "
              "reference.json is not written")
    name = a.name or os.path.basename(os.path.normpath(a.checkpoint))
    export.export_model(model, a.out, name, vocab_limit=vocab_limit,
                        eos_token_id=cfg.eos_token_id, tokenizer_src=tok_path,
                        onnx=not a.no_onnx, reference=encode is not None,
                        check=not a.no_check, encode=encode or tok.encode,
                        contract_version=a.contract, top_k=a.top_k, attention=a.attention)
    print("exported %s (contract v%d): layers=%d hidden=%d vocab rows=%d vocab_limit=%d -> %s"
          % (name, a.contract, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size, vocab_limit, a.out))


if __name__ == "__main__":
    sys.exit(main())
