"""Byte-level tokenizer: ids 0..255 are the UTF-8 byte values, 256 is <|endoftext|>.

The ``tokenizer.json`` written here is in Hugging Face tokenizers format (a BPE
model with the 256 GPT-2 byte-to-unicode characters and no merges, behind a
ByteLevel pre-tokenizer without regex), so Java (DJL HuggingFaceTokenizer) and
Python produce the same ids: Python encodes with ``list(text.encode('utf-8'))``.
"""
import hashlib
import json
from typing import List, Optional, Sequence

EOS_ID = 256
EOS_TOKEN = "<|endoftext|>"
VOCAB_LIMIT = 257


def bytes_to_unicode() -> dict:
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _added(id_: int, content: str) -> dict:
    return {"id": id_, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}


def tokenizer_json(extra_added: Optional[Sequence[str]] = None) -> str:
    """The tokenizer.json text. ``extra_added`` appends special tokens with ids 257, 258, ...
    (used only to build a deliberately different tokenizer for tests)."""
    b2u = bytes_to_unicode()
    added = [_added(EOS_ID, EOS_TOKEN)]
    for i, tok in enumerate(extra_added or []):
        added.append(_added(EOS_ID + 1 + i, tok))
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": dict(byte_level),
        "post_processor": None,
        "decoder": dict(byte_level),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": {b2u[b]: b for b in range(256)},
            "merges": [],
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=None, sort_keys=False)


def tokenizer_bytes(extra_added: Optional[Sequence[str]] = None) -> bytes:
    return tokenizer_json(extra_added).encode("utf-8")


def write_tokenizer(path: str, extra_added: Optional[Sequence[str]] = None) -> str:
    """Write tokenizer.json; returns its sha256 hex digest."""
    data = tokenizer_bytes(extra_added)
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def encode(text: str) -> List[int]:
    return list(text.encode("utf-8"))


def decode(ids: Sequence[int]) -> str:
    return bytes(i for i in ids if 0 <= i < 256).decode("utf-8", errors="replace")
