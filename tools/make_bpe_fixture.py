#!/usr/bin/python3
"""Python-made ids for the BPE tokenizer parity test (Java: BpeTokenizerParityTest).

  /usr/bin/python3 tools/make_bpe_fixture.py demo/models/bpe-small/tokenizer.json \
      common/src/test/resources/tokenizers/bpe-parity.json

Writes {tokenizer_sha256, cases: [{text, ids}], model_train: {documents, tokens, ids_sha256}}:
the cases are hand-picked texts (ASCII, code, CJK, emoji, white-space runs, control
characters, a literal <|endoftext|>); model_train hashes the ids of every
demo/corpora/model-train document (files sorted, one line per document: ids joined by
",", lines joined by "\\n", UTF-8, sha256), so the Java side checks 3.5 MB of real text
without a large fixture. Also checks decode(encode(x)) == x for every text.
"""
import glob
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from knowable_lm import bpe  # noqa: E402

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! It's 2024-05-17; e.g. 3.14159 and 1,000,000 items (approx.).",
    "public static int add(int a, int b) {\n    return a + b;\n}\n",
    "\tif (x != null && y >= 0x7F) {\r\n\t\tlist.add(\"a\\tb\");\t// tab\r\n\t}",
    "    indented    words   with\t\ttabs  and   runs     ",
    "\n\n\n   \n \t \r\n",
    " ",
    "a",
    "",
    "trailing spaces   ",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3092\u66f8\u304d\u307e\u3059\u3002\u4e2d\u6587\u6587\u672c\uff0c"
    "\u6c49\u5b57\u3002 \u8a31\u53ef\u3055\u308c\u305f\u7bc4\u56f2\u5185\u3067",
    "Emoji: \U0001F642\U0001F44D\U0001F3FD \U0001F468\u200D\U0001F469\u200D\U0001F467 \u2764\ufe0f \U0001F1E9\U0001F1EA!",
    "Z\u00fcrich na\u00efve caf\u00e9 \u2014 \u00abÇa va?\u00bb \u00bfQu\u00e9 tal? se\u00f1or Fran\u00e7ois",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u0440\u0443\u0441\u0441\u043a\u0438\u0439 "
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940 \ud55c\uad6d\uc5b4",
    "e\u0301 (combining) \u00a0nbsp\u00a0 \u2028line sep\u3000ideographic space\u2009thin",
    "ctrl \x00\x01\x0b\x0c\x1c\x1f\x7f end",
    "digits 0123456789 \u0661\u0662\u0663 \u00bd \u2460",
    "a<|endoftext|>b <|endoftext|> c<|endoftext|>",
    "In the beginning God created the heaven and the earth. And the earth was without form, and void;",
    "Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use this file "
    "except in compliance with the License.",
    "$$ x^2 + y_1 = \\frac{a}{b} $$ ... --- *** ### @@@ ~~~ ``` <tag attr='v'/> &amp;",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ththththththe the the thethe",
]


def model_train_ids(t: bpe.BpeTokenizer, corpora: str):
    lines = []
    docs = 0
    tokens = 0
    for path in sorted(glob.glob(os.path.join(corpora, "model-train", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line)["text"]
                ids = t.encode(text)
                if t.decode(ids) != text:
                    raise AssertionError("round trip fails in %s" % path)
                lines.append(",".join(map(str, ids)))
                docs += 1
                tokens += len(ids)
    return {"documents": docs, "tokens": tokens,
            "ids_sha256": hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()}


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    tok_path, out = argv
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    t = bpe.BpeTokenizer.from_file(tok_path)
    cases = []
    for text in TEXTS:
        ids = t.encode(text)
        if t.decode(ids) != text:
            raise AssertionError("round trip fails: %r" % text)
        cases.append({"text": text, "ids": ids})
    doc = {"tokenizer_sha256": bpe.hashlib.sha256(open(tok_path, "rb").read()).hexdigest(),
           "vocab_limit": t.vocab_limit, "cases": cases,
           "model_train": model_train_ids(t, os.path.join(here, "demo/corpora"))}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print("%d cases, model-train %s -> %s" % (len(cases), doc["model_train"], out))


if __name__ == "__main__":
    main(sys.argv[1:])
