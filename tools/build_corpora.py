#!/usr/bin/python3
"""Build the five bundled corpora from already-fetched sources (see build_corpora.sh).

  /usr/bin/python3 tools/build_corpora.py --src SRC_DIR --out demo/corpora

SRC_DIR holds:
  commons-lang3-3.14.0-sources.jar                 (code)
  spdx-license-list/package/licenses/*.json        (legal)
  datasets-sotu/package/data/*.json                (speech)
  kjv.txt = output of `bible -l100000 'Gen1:1-Rev22:21'` (scripture)
and /usr/share/wordnet/data.{adj,adv,noun,verb} is read for the reference domain.

Rules (all deterministic; see demo/corpora/README.md):
  * text normalised: CRLF/CR -> LF, trailing whitespace of each line removed, leading
    and trailing blank lines removed; code files lose their leading ASF licence
    comment (it is identical in every file; the licence is kept in NOTICES/).
  * each document is cut to at most DOC_MAX_BYTES UTF-8 bytes, at the last line
    break (or else space) before the limit.
  * per domain, documents are taken in the order of sha256("select:" + doc_id) until
    the domain holds at least DOMAIN_BYTES bytes (the crossing document is kept).
  * split: model-train iff int.from_bytes(sha256(doc_id)[:8], "big") % 100 < 70,
    else probe.
  * probe documents are cut into consecutive passages of at most PASSAGE_BYTES bytes
    (at line breaks, else spaces), at most MAX_PASSAGES per document, with ids
    "<doc_id>#<k>": the tiny models' context is 512 byte tokens, so whole 8 KiB
    documents would be truncated to their first 512 bytes. The pipeline keeps all
    passages of a document in one probe split (ingest.split.group-separator = "#").
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys
import zipfile

DOC_MAX_BYTES = 8192
DOMAIN_BYTES = 1_000_000
TRAIN_PERCENT = 70
PASSAGE_BYTES = 512
MAX_PASSAGES = 4
DOMAINS = ["code", "legal", "speech", "scripture", "reference"]

KJV_BOOKS = ["Gen", "Exod", "Lev", "Num", "Deut", "Josh", "Judg", "Ruth", "1Sam", "2Sam",
             "1Kgs", "2Kgs", "1Chr", "2Chr", "Ezra", "Neh", "Esth", "Job", "Ps", "Prov",
             "Eccl", "Song", "Isa", "Jer", "Lam", "Ezek", "Dan", "Hos", "Joel", "Amos",
             "Obad", "Jonah", "Mic", "Nah", "Hab", "Zeph", "Hag", "Zech", "Mal", "Matt",
             "Mark", "Luke", "John", "Acts", "Rom", "1Cor", "2Cor", "Gal", "Eph", "Phil",
             "Col", "1Thess", "2Thess", "1Tim", "2Tim", "Titus", "Phlm", "Heb", "Jas",
             "1Pet", "2Pet", "1John", "2John", "3John", "Jude", "Rev"]


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [l.rstrip() for l in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def cut(text: str, max_bytes: int = DOC_MAX_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    head = data[:max_bytes]
    pos = head.rfind(b"\n")
    if pos < max_bytes // 2:
        pos = head.rfind(b" ")
    if pos <= 0:
        pos = max_bytes
    return normalise(head[:pos].decode("utf-8", errors="ignore"))


def passages(doc_id: str, text: str):
    """Consecutive passages of at most PASSAGE_BYTES UTF-8 bytes, cut at a line break
    (else a space, else anywhere on a character boundary), at most MAX_PASSAGES."""
    out = []
    rest = text.encode("utf-8")
    while rest and len(out) < MAX_PASSAGES:
        if len(rest) <= PASSAGE_BYTES:
            head, rest = rest, b""
        else:
            window = rest[:PASSAGE_BYTES + 1]
            pos = window.rfind(b"\n")
            if pos < PASSAGE_BYTES // 4:
                pos = window.rfind(b" ")
            if pos < PASSAGE_BYTES // 4:
                pos = PASSAGE_BYTES
                while pos > 0 and (rest[pos] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
                    pos -= 1
            head, rest = rest[:pos], rest[pos:].lstrip(b"\n ")
        piece = normalise(head.decode("utf-8"))
        if piece:
            out.append(("%s#%02d" % (doc_id, len(out)), piece))
    return out


def hash_u64(s: str) -> int:
    return int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:8], "big")


def is_train(doc_id: str) -> bool:
    return hash_u64(doc_id) % 100 < TRAIN_PERCENT


# ---------------------------------------------------------------- sources
_ASF_HEADER = re.compile(r"\A\s*/\*.*?\*/\s*", re.S)


def code_docs(jar_path: str):
    with zipfile.ZipFile(jar_path) as z:
        for name in sorted(z.namelist()):
            if not name.endswith(".java"):
                continue
            text = z.read(name).decode("utf-8")
            m = _ASF_HEADER.match(text)
            if m and "Licensed to the Apache Software Foundation" in m.group(0):
                text = text[m.end():]
            yield "code:" + name, text


def legal_docs(lic_dir: str):
    for path in sorted(glob.glob(os.path.join(lic_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        text = d.get("licenseText") or ""
        spdx_id = os.path.basename(path)[:-len(".json")]
        yield "legal:" + spdx_id, text


def speech_docs(data_dir: str):
    for path in sorted(glob.glob(os.path.join(data_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        stem = os.path.basename(path)[:-len(".json")]
        # paragraphs in the source are separated by blank lines or single newlines
        yield "speech:" + stem, d.get("text") or ""


def scripture_docs(kjv_path: str):
    book_names = []
    chapters = []  # (book_name, chapter, [lines])
    head = re.compile(r"^(\S.*) (\d+)$")
    verse = re.compile(r"^\s+(\d+) (.*)$")
    with open(kjv_path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            m = head.match(line)
            if m:
                if not book_names or book_names[-1] != m.group(1):
                    book_names.append(m.group(1))
                chapters.append((m.group(1), int(m.group(2)), []))
                continue
            m = verse.match(line)
            if not m or not chapters:
                raise ValueError("unexpected line in KJV text: %r" % line[:80])
            chapters[-1][2].append("%s %s" % (m.group(1), m.group(2)))
    if len(book_names) != 66 or len(chapters) != 1189:
        raise ValueError("expected 66 books / 1189 chapters, got %d / %d"
                         % (len(book_names), len(chapters)))
    abbrev = dict(zip(book_names, KJV_BOOKS))
    for book, ch, lines in chapters:
        yield "scripture:%s.%d" % (abbrev[book], ch), "%s %d\n%s" % (book, ch, "\n".join(lines))


_POS = {"adj": "adj.", "adv": "adv.", "noun": "n.", "verb": "v."}


def reference_docs(wordnet_dir: str, group: int = 20):
    for pos in ["adj", "adv", "noun", "verb"]:
        entries = []
        with open(os.path.join(wordnet_dir, "data." + pos), encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):
                    continue  # licence header
                fields, _, gloss = line.partition(" | ")
                tok = fields.split()
                offset, w_cnt = tok[0], int(tok[3], 16)
                words = [re.sub(r"\(.*\)$", "", w).replace("_", " ")
                         for w in tok[4:4 + 2 * w_cnt:2]]
                entries.append((offset, "%s (%s): %s" % (", ".join(words), _POS[pos], gloss.strip())))
        for i in range(0, len(entries), group):
            chunk = entries[i:i + group]
            yield "reference:%s.%s" % (pos, chunk[0][0]), "\n".join(e[1] for e in chunk)


# ---------------------------------------------------------------- build
def select(docs):
    """Normalise, cut, drop empties, take in salted-hash order up to DOMAIN_BYTES."""
    seen = set()
    items = []
    for doc_id, text in docs:
        if doc_id in seen:
            raise ValueError("duplicate doc id " + doc_id)
        seen.add(doc_id)
        text = cut(normalise(text))
        if text:
            items.append((doc_id, text))
    items.sort(key=lambda it: hashlib.sha256(("select:" + it[0]).encode("utf-8")).digest())
    chosen = []
    total = 0
    for doc_id, text in items:
        if total >= DOMAIN_BYTES:
            break
        chosen.append((doc_id, text))
        total += len(text.encode("utf-8"))
    return sorted(chosen), len(items)


def write_jsonl(path: str, domain: str, docs) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for doc_id, text in docs:
            f.write(json.dumps({"doc_id": doc_id, "domain": domain, "text": text},
                               ensure_ascii=False) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    a = ap.parse_args(argv)
    src = a.src
    sources = {
        "code": code_docs(os.path.join(src, "commons-lang3-3.14.0-sources.jar")),
        "legal": legal_docs(os.path.join(src, "spdx-license-list/package/licenses")),
        "speech": speech_docs(os.path.join(src, "datasets-sotu/package/data")),
        "scripture": scripture_docs(os.path.join(src, "kjv.txt")),
        "reference": reference_docs(a.wordnet),
    }
    for sub in ("model-train", "probe"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    stats = {}
    for domain in DOMAINS:
        chosen, available = select(sources[domain])
        train = [d for d in chosen if is_train(d[0])]
        probe = [d for d in chosen if not is_train(d[0])]
        write_jsonl(os.path.join(a.out, "model-train", domain + ".jsonl"), domain, train)
        probe_passages = sorted(p for doc_id, text in probe for p in passages(doc_id, text))
        write_jsonl(os.path.join(a.out, "probe", domain + ".jsonl"), domain, probe_passages)
        nb = lambda ds: sum(len(t.encode("utf-8")) for _, t in ds)  # noqa: E731
        stats[domain] = {"available_docs": available, "docs": len(chosen), "bytes": nb(chosen),
                         "train_docs": len(train), "train_bytes": nb(train),
                         "probe_docs": len(probe), "probe_bytes": nb(probe),
                         "probe_passages": len(probe_passages), "probe_passage_bytes": nb(probe_passages)}
    with open(os.path.join(a.out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    print("%-10s %9s %6s %9s %6s %9s %6s %9s" % ("domain", "available", "docs", "bytes",
                                                 "train", "bytes", "probe", "bytes"))
    for d in DOMAINS:
        s = stats[d]
        print("%-10s %9d %6d %9d %6d %9d %6d %9d" % (d, s["available_docs"], s["docs"], s["bytes"],
                                                     s["train_docs"], s["train_bytes"],
                                                     s["probe_docs"], s["probe_bytes"]))


if __name__ == "__main__":
    sys.exit(main())
