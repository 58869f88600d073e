"""Byte-level BPE: a trainer, a Python encoder, and a Hugging Face ``tokenizer.json`` writer.

Ids: 0..255 = the UTF-8 byte values (as in the byte-level tiny family), 256 =
<|endoftext|> (special added token), 257.. = the merged tokens in merge order, so
``vocab_limit = 257 + merges``.

Pre-tokenization (the same in Python and in tokenizer.json): a ``Split`` pre-tokenizer
with the regex ``PATTERN`` (behaviour Isolated), then ``ByteLevel`` without its own regex.
``PATTERN`` is GPT-2's split (`` ?letters+| ?digits+| ?other+|spaces(?!non-space)|spaces``)
with every class written as explicit ASCII ranges: "letter" is an ASCII letter or ANY
non-ASCII character, "space" is exactly space, tab, LF, CR. So Python's ``re`` and the
Oniguruma regex inside Hugging Face tokenizers split every UTF-8 text identically, with no
dependence on either side's Unicode tables (GPT-2's ``\\p{L}``/``\\s`` would need the
``regex`` module, absent from Debian's Python, and agree only where both tables agree).
Non-ASCII runs (accented words, CJK) therefore stay whole pieces and can be merged.

Merges are applied inside a piece only, lowest rank first; equal ranks left to right.
This is what the Hugging Face BPE model does (its queue orders by rank, then position),
and, because a merge only involves tokens created by earlier merges, the same as GPT-2's
"merge every occurrence of the best pair" loop used here.

Training (deterministic): pieces of every model-train document are counted; each step
merges the adjacent pair with the highest count summed over piece occurrences; ties go
to the pair with the smallest (left id, right id). Only demo/corpora/model-train is read.

  /usr/bin/python3 tools/knowable_lm/bpe.py --merges 2000 --out /tmp/bpe/tokenizer.json
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

try:  # package import (knowable_lm.bpe) or the script run directly (tools/knowable_lm/bpe.py)
    from .tokenizer import bytes_to_unicode  # GPT-2's byte -> printable character map, written once
except ImportError:
    from tokenizer import bytes_to_unicode

EOS_ID = 256
EOS_TOKEN = "<|endoftext|>"
FIRST_MERGE_ID = 257

# Classes: L = ASCII letters + every non-ASCII character; N = ASCII digits;
# S = space, tab, LF, CR; P = every other ASCII character.
_L = r"[^\x00-\x40\x5B-\x60\x7B-\x7F]"
_N = r"[0-9]"
_S = r"[\x09\x0A\x0D\x20]"
_P = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F]"
PATTERN = (r" ?" + _L + r"+| ?" + _N + r"+| ?" + _P + r"+|" + _S + r"+(?!" + r"[^\x09\x0A\x0D\x20]" + r")|"
           + _S + r"+")
_RE = re.compile(PATTERN)


def pieces(text: str) -> List[str]:
    """The pre-tokenizer's pieces; they cover the text exactly (every character is in one class)."""
    out = [m.group(0) for m in _RE.finditer(text)]
    if sum(len(p) for p in out) != len(text):  # cannot happen: the classes cover every character
        raise AssertionError("pre-tokenizer pattern does not cover the text")
    return out


def read_texts(corpus_dir: str) -> List[str]:
    texts = []
    for path in sorted(glob.glob(os.path.join(corpus_dir, "model-train", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                texts.append(json.loads(line)["text"])
    if not texts:
        raise SystemExit("no documents under %s/model-train/*.jsonl" % corpus_dir)
    return texts


def train(texts: Iterable[str], n_merges: int, log=print) -> List[Tuple[int, int]]:
    """Learn n_merges merges; returns the (left id, right id) pairs in rank order.
    Merge k creates id FIRST_MERGE_ID + k."""
    counts = Counter()
    for t in texts:
        for p in pieces(t):
            counts[p.encode("utf-8")] += 1
    words = [list(w) for w in counts]  # byte ids
    freqs = list(counts.values())
    pair_counts: Dict[Tuple[int, int], int] = defaultdict(int)
    where: Dict[Tuple[int, int], set] = defaultdict(set)  # pair -> indices of words holding it
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    merges = []
    for k in range(n_merges):
        if not pair_counts:
            break
        # highest count; ties: smallest (left, right)
        best = min(pair_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        pair, cnt = best
        if cnt < 2:
            break
        new_id = FIRST_MERGE_ID + k
        merges.append(pair)
        for i in sorted(where.pop(pair, ())):
            w, f = words[i], freqs[i]
            for a, b in zip(w, w[1:]):  # remove this word's old pairs
                pair_counts[(a, b)] -= f
                if pair_counts[(a, b)] <= 0:
                    del pair_counts[(a, b)]
                if (a, b) != pair:
                    where[(a, b)].discard(i)
            nw = merge_word(w, pair, new_id)
            words[i] = nw
            for a, b in zip(nw, nw[1:]):
                pair_counts[(a, b)] += f
                where[(a, b)].add(i)
        pair_counts.pop(pair, None)
        if (k + 1) % 250 == 0:
            log("merge %d: %r count %d" % (k + 1, pair, cnt))
    return merges


def merge_word(w: Sequence[int], pair: Tuple[int, int], new_id: int) -> List[int]:
    out = []
    i = 0
    a, b = pair
    while i < len(w):
        if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(w[i])
            i += 1
    return out


class BpeTokenizer:
    """Python encoder with the ids Hugging Face tokenizers give for the written tokenizer.json."""

    def __init__(self, merges: Sequence[Tuple[int, int]]):
        self.merges = [tuple(m) for m in merges]
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self.vocab_limit = FIRST_MERGE_ID + len(self.merges)
        self.token_bytes: Dict[int, bytes] = {b: bytes([b]) for b in range(256)}
        self.token_bytes[EOS_ID] = EOS_TOKEN.encode("utf-8")
        for r, (a, b) in enumerate(self.merges):
            self.token_bytes[FIRST_MERGE_ID + r] = self.token_bytes[a] + self.token_bytes[b]
        self._cache: Dict[str, List[int]] = {}

    @classmethod
    def from_file(cls, path: str) -> "BpeTokenizer":
        """Read the merges back from a tokenizer.json written by ``tokenizer_json``."""
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        vocab = doc["model"]["vocab"]
        merges = []
        for m in doc["model"]["merges"]:
            left, right = m.split(" ") if isinstance(m, str) else m
            merges.append((vocab[left], vocab[right]))
        t = cls(merges)
        if t.tokenizer_json() != json.dumps(doc, ensure_ascii=False):
            raise ValueError("%s was not written by knowable_lm.bpe (or by another version)" % path)
        return t

    def _encode_piece(self, piece: str) -> List[int]:
        ids = self._cache.get(piece)
        if ids is None:
            w = list(piece.encode("utf-8"))
            while len(w) > 1:
                best = min((self.rank.get(p, 1 << 30), p) for p in zip(w, w[1:]))
                if best[0] == 1 << 30:
                    break
                w = merge_word(w, best[1], FIRST_MERGE_ID + best[0])
            ids = w
            if len(self._cache) < 500000:
                self._cache[piece] = ids
        return ids

    def encode(self, text: str) -> List[int]:
        """Ids of the text; a literal <|endoftext|> is the special token (as in tokenizers)."""
        out = []
        for j, part in enumerate(text.split(EOS_TOKEN)):
            if j:
                out.append(EOS_ID)
            for p in pieces(part):
                out.extend(self._encode_piece(p))
        return out

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(self.token_bytes.get(i, b"") for i in ids).decode("utf-8", errors="replace")

    def tokenizer_json(self) -> str:
        b2u = bytes_to_unicode()

        def s(i):
            return "".join(b2u[c] for c in self.token_bytes[i])

        vocab = {b2u[b]: b for b in range(256)}
        # In the model's vocab too: tokenizers gives an added token that is missing from
        # the vocab the id vocab_size (2256 here), not the id written in added_tokens.
        vocab[EOS_TOKEN] = EOS_ID
        for r in range(len(self.merges)):
            vocab[s(FIRST_MERGE_ID + r)] = FIRST_MERGE_ID + r
        if len(vocab) != self.vocab_limit:
            raise AssertionError("two merges produce the same token")
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                      "use_regex": False}
        doc = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": EOS_ID, "content": EOS_TOKEN, "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
                dict(byte_level)]},
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
                "vocab": vocab,
                "merges": ["%s %s" % (s(a), s(b)) for a, b in self.merges],
            },
        }
        return json.dumps(doc, ensure_ascii=False)

    def write(self, path: str) -> str:
        """Write tokenizer.json; returns its sha256 hex digest."""
        data = self.tokenizer_json().encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        return hashlib.sha256(data).hexdigest()


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=os.path.join(here, "demo/corpora"))
    ap.add_argument("--merges", type=int, default=2000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    texts = read_texts(a.corpora)
    merges = train(texts, a.merges)
    t = BpeTokenizer(merges)
    sha = t.write(a.out)
    n_bytes = sum(len(x.encode("utf-8")) for x in texts)
    n_tok = sum(len(t.encode(x)) for x in texts)
    print("%d merges, vocab_limit %d; model-train: %d bytes -> %d tokens (%.3f bytes/token); %s sha256 %s"
          % (len(merges), t.vocab_limit, n_bytes, n_tok, n_bytes / n_tok, a.out, sha))
    return 0


if __name__ == "__main__":
    sys.exit(main())
