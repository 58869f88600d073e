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
# Leak filter: a passage is dropped when it shares a window of WINDOW characters (after
# white-space normalisation) with model-training text or with a kept passage of another document.
WINDOW = 100
# CJK scripts (Chinese and Japanese licences): left out of the probe side; the tiny byte
# models score them at 15-20 bits/byte, so they would be a domain of their own.
CJK_RANGES = [(0x1100, 0x11FF), (0x2E80, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
              (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF)]
DROP_REASONS = ["cjk", "short", "model_train_window", "probe_window_other_doc"]
# The pipeline's default split (reference.conf knowable.ingest.split) and conf/demo.conf's
# group separator: only used to measure cross-split shared windows in stats.json.
SPLIT_SALT = "knowable-split-v1"
SPLIT_TRAIN, SPLIT_VAL = 0.6, 0.2
SPLIT_GROUP_SEPARATOR = "#"
# Study corpus: more held-out text for a study run (demo/corpora/study).
STUDY_DOMAIN_BYTES = 1_000_000
# WordNet glosses yield few gap labels per byte with the tiny pair (demo run: 0.32 balanced
# examples per class per KB in [2, inf), code 4.6, scripture 1.6): three times the text, so
# that its test split reaches the 150 examples per class the study needs.
STUDY_DOMAIN_BYTES_BY_DOMAIN = {"reference": 3_000_000}
STUDY_MAX_PASSAGES = 16
# legal runs out of documents (near-copies of the model-training licences are filtered
# out), so its held-out licences contribute more passages each.
STUDY_MAX_PASSAGES_BY_DOMAIN = {"legal": 64}
LANG3_JAR = "commons-lang3-3.14.0-sources.jar"
EXTRA_CODE_JARS = ["commons-text-1.11.0-sources.jar", "commons-collections4-4.4-sources.jar",
                   "commons-io-2.15.1-sources.jar"]
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


def passages(doc_id: str, text: str, max_passages: int = MAX_PASSAGES):
    """Consecutive passages of at most PASSAGE_BYTES UTF-8 bytes, cut at a line break
    (else a space, else anywhere on a character boundary), at most MAX_PASSAGES."""
    out = []
    rest = text.encode("utf-8")
    while rest and len(out) < max_passages:
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
            try:
                text = z.read(name).decode("utf-8")
            except UnicodeDecodeError:
                continue  # commons-text's EntityArrays.java is Latin-1: left out
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


# ---------------------------------------------------------------- leak filter
WS_RUN = re.compile(r"[ \t\n\r\f\v]+")  # ASCII white space only, as the Java test reads it


def window_text(text: str) -> str:
    """What the window measure reads: runs of ASCII white space -> one space, ends stripped."""
    return WS_RUN.sub(" ", text).strip()


def windows(text: str):
    """The distinct 100-character (code point) windows of window_text(text), as 8-byte
    BLAKE2b digests (deterministic, unlike Python's salted str hash)."""
    t = window_text(text)
    return {hashlib.blake2b(t[i:i + WINDOW].encode("utf-8"), digest_size=8).digest()
            for i in range(len(t) - WINDOW + 1)}


def covered_fraction(text: str, train_windows) -> float:
    """Fraction of the passage's window characters that lie in a window shared with train."""
    t = window_text(text)
    n = len(t)
    if n < WINDOW:
        return 0.0
    covered = [False] * n
    for i in range(n - WINDOW + 1):
        if hashlib.blake2b(t[i:i + WINDOW].encode("utf-8"), digest_size=8).digest() in train_windows:
            for j in range(i, i + WINDOW):
                covered[j] = True
    return sum(covered) / n


def has_cjk(text: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in CJK_RANGES)


def split_of(doc_id: str) -> str:
    """The pipeline's probe split (dev.knowable.ingest.SplitAssigner) with the default
    split settings and conf/demo.conf's group separator; only used for the stats."""
    at = doc_id.rfind(SPLIT_GROUP_SEPARATOR)
    group = doc_id[:at] if at > 0 else doc_id
    v = hash_u64("%s:%s" % (SPLIT_SALT, group))
    u = (v >> 11) * 2.0 ** -53
    if u < SPLIT_TRAIN:
        return "train"
    return "val" if u < SPLIT_TRAIN + SPLIT_VAL else "test"


def group_of(passage_id: str) -> str:
    return passage_id[:passage_id.rfind("#")]


class ProbeFilter:
    """Keeps a candidate passage only if it (1) holds no CJK character, (2) has at least
    WINDOW characters after white-space normalisation (shorter ones cannot be checked),
    (3) shares no window with model-training text and (4) shares no window with an
    already kept passage of another document. (4) is a greedy pass in candidate order:
    unlike keeping one document per union-find cluster, a passage is only dropped for a
    direct conflict, and no chain of shared boilerplate removes a whole family; unlike a
    split-aware rule it needs no knowledge of the split salt or fractions, and it also keeps
    near-copies out of the same split."""

    def __init__(self, train_windows):
        self.train = train_windows
        self.owner = {}  # window digest -> document id (group) that first kept it
        self.reasons = {}
        self.offered_clean = []  # offered passages that passed (1)-(3), in offer order

    def offer(self, passage_id: str, text: str) -> bool:
        reason = None
        if has_cjk(text):
            reason = "cjk"
        elif len(window_text(text)) < WINDOW:
            reason = "short"
        else:
            ws = windows(text)
            group = group_of(passage_id)
            if not ws.isdisjoint(self.train):
                reason = "model_train_window"
            else:
                self.offered_clean.append((passage_id, text))
                if any(self.owner.get(w, group) != group for w in ws):
                    reason = "probe_window_other_doc"
                else:
                    for w in ws:
                        self.owner.setdefault(w, group)
        if reason:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            return False
        return True


def overlap_stats(passages_by_domain, train_windows):
    """Per domain: passages, passages sharing a window with model-train text, mean covered
    fraction; over the whole set (all domains): windows that occur in passages of more than
    one probe split and in more than one document."""
    out = {}
    splits_of = {}
    groups_of = {}
    for domain in DOMAINS:
        ps = passages_by_domain.get(domain, [])
        shared = 0
        cover = 0.0
        for pid, text in ps:
            ws = windows(text)
            if not ws.isdisjoint(train_windows):
                shared += 1
                cover += covered_fraction(text, train_windows)
            s = split_of(pid)
            g = group_of(pid)
            for w in ws:
                splits_of.setdefault(w, set()).add(s)
                gs = groups_of.setdefault(w, g)
                if gs != g:
                    groups_of[w] = None  # more than one document
        out[domain] = {"passages": len(ps), "bytes": sum(len(t.encode("utf-8")) for _, t in ps),
                       "sharing_model_train_window": shared,
                       "mean_fraction_covered": round(cover / len(ps), 6) if ps else 0.0}
    out["all"] = {"cross_split_windows": sum(1 for v in splits_of.values() if len(v) > 1),
                  "cross_document_windows": sum(1 for v in groups_of.values() if v is None)}
    return out


def dedup_options(candidates):
    """What each way of handling near-duplicates inside the probe set keeps, measured on
    candidates that already passed the CJK, length and model-train filters:
    doc_union_find = one document per union-find cluster of documents sharing a window;
    passage_union_find = one document's passages per cluster of passages;
    greedy = the rule used (ProbeFilter); greedy_split_aware = greedy, but a conflict only
    drops a passage whose split (default settings) differs from the first holder's."""
    wins_of = [(pid, text, windows(text)) for pid, text in candidates]
    total = (len(wins_of), sum(len(t.encode("utf-8")) for _, t, _ in wins_of))

    def uf_keep(key_of):
        parent = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x
        first = {}
        for pid, _, ws in wins_of:
            k = key_of(pid)
            find(k)
            for w in ws:
                if w in first:
                    a, b = find(first[w]), find(k)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                else:
                    first[w] = k
        # per cluster, the document (group) that comes first in candidate order
        chosen = {}
        for pid, _, _ in wins_of:
            chosen.setdefault(find(key_of(pid)), group_of(pid))
        return [(pid, t) for pid, t, _ in wins_of if chosen[find(key_of(pid))] == group_of(pid)]

    def greedy(split_aware):
        owner = {}
        kept = []
        for pid, t, ws in wins_of:
            g = group_of(pid)
            tag = split_of(pid) if split_aware else g
            if any(owner.get(w, tag) != tag for w in ws):
                continue
            for w in ws:
                owner.setdefault(w, tag)
            kept.append((pid, t))
        return kept

    res = {"candidates": {"passages": total[0], "bytes": total[1]}}
    for name, kept in [("doc_union_find", uf_keep(group_of)), ("passage_union_find", uf_keep(lambda p: p)),
                       ("greedy", greedy(False)), ("greedy_split_aware", greedy(True))]:
        res[name] = {"passages": len(kept), "bytes": sum(len(t.encode("utf-8")) for _, t in kept)}
    return res


# ---------------------------------------------------------------- build
def prepare(docs):
    """Normalised, non-empty, uncut documents; doc ids must be unique."""
    seen = set()
    items = []
    for doc_id, text in docs:
        if doc_id in seen:
            raise ValueError("duplicate doc id " + doc_id)
        seen.add(doc_id)
        text = normalise(text)
        if text:
            items.append((doc_id, text))
    return items


def select(items):
    """Cut, drop empties, take in salted-hash order up to DOMAIN_BYTES."""
    items = [(doc_id, cut(text)) for doc_id, text in items]
    items = [(doc_id, text) for doc_id, text in items if text]
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


def nbytes(ps) -> int:
    return sum(len(t.encode("utf-8")) for _, t in ps)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    a = ap.parse_args(argv)
    src = a.src
    jar = lambda name: os.path.join(src, name)  # noqa: E731
    sources = {
        "code": code_docs(jar(LANG3_JAR)),
        "legal": legal_docs(os.path.join(src, "spdx-license-list/package/licenses")),
        "speech": speech_docs(os.path.join(src, "datasets-sotu/package/data")),
        "scripture": scripture_docs(os.path.join(src, "kjv.txt")),
        "reference": reference_docs(a.wordnet),
    }
    for sub in ("model-train", "probe", "study"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    stats = {}
    pools = {}
    train_ids = set()
    probe_docs = {}
    train_windows = set()
    for domain in DOMAINS:
        pool = prepare(sources[domain])
        chosen, available = select(pool)
        train = [d for d in chosen if is_train(d[0])]
        probe = [d for d in chosen if not is_train(d[0])]
        # model-train: unchanged rules and bytes (the committed models were trained on it)
        write_jsonl(os.path.join(a.out, "model-train", domain + ".jsonl"), domain, train)
        for _, text in train:
            train_windows |= windows(text)
        train_ids |= {d for d, _ in train}
        probe_docs[domain] = probe
        pools[domain] = pool
        stats[domain] = {"available_docs": available, "docs": len(chosen), "bytes": nbytes(chosen),
                         "train_docs": len(train), "train_bytes": nbytes(train),
                         "probe_docs": len(probe), "probe_bytes": nbytes(probe)}

    # demo probe: the same passages (ids) as before, filtered
    filt = ProbeFilter(train_windows)
    cand_probe = {d: sorted(p for doc_id, text in probe_docs[d] for p in passages(doc_id, text))
                  for d in DOMAINS}
    kept_probe = {}
    for domain in DOMAINS:
        before = dict(filt.reasons)
        kept_probe[domain] = [p for p in cand_probe[domain] if filt.offer(*p)]
        write_jsonl(os.path.join(a.out, "probe", domain + ".jsonl"), domain, kept_probe[domain])
        stats[domain].update({
            "probe_candidate_passages": len(cand_probe[domain]),
            "probe_candidate_passage_bytes": nbytes(cand_probe[domain]),
            "probe_passages": len(kept_probe[domain]), "probe_passage_bytes": nbytes(kept_probe[domain]),
            "probe_dropped": {r: filt.reasons.get(r, 0) - before.get(r, 0) for r in DROP_REASONS}})

    filt_demo_reasons = dict(filt.reasons)
    # study: the demo probe passages first (same ids), then passages of every document the
    # models never saw, per domain in the order of sha256("study:" + doc_id), until the
    # domain holds STUDY_DOMAIN_BYTES; the same filter object, so no window is shared with
    # model-train text or between documents across demo-probe and study passages.
    extra = {"code": []}
    for name in EXTRA_CODE_JARS:
        extra["code"] += prepare(code_docs(jar(name)))
    kept_study = {d: list(kept_probe[d]) for d in DOMAINS}
    demo_ids = {pid for d in DOMAINS for pid, _ in cand_probe[d]}  # offered once, above
    for domain in DOMAINS:
        before = dict(filt.reasons)
        docs = [d for d in pools[domain] if d[0] not in train_ids] + extra.get(domain, [])
        ids = [d[0] for d in docs]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate doc id in the study pool of " + domain)
        docs.sort(key=lambda it: hashlib.sha256(("study:" + it[0]).encode("utf-8")).digest())
        total = nbytes(kept_study[domain])
        used_docs = 0
        for doc_id, text in docs:
            if total >= STUDY_DOMAIN_BYTES_BY_DOMAIN.get(domain, STUDY_DOMAIN_BYTES):
                break
            used_docs += 1
            for pid, piece in passages(doc_id, text, STUDY_MAX_PASSAGES_BY_DOMAIN.get(domain, STUDY_MAX_PASSAGES)):
                if pid in demo_ids:
                    continue
                if filt.offer(pid, piece):
                    kept_study[domain].append((pid, piece))
                    total += len(piece.encode("utf-8"))
        kept_study[domain].sort()
        write_jsonl(os.path.join(a.out, "study", domain + ".jsonl"), domain, kept_study[domain])
        stats[domain].update({
            "study_pool_docs": len(docs), "study_docs_read": used_docs,
            "study_docs": len({group_of(p) for p, _ in kept_study[domain]}),
            "study_passages": len(kept_study[domain]), "study_passage_bytes": nbytes(kept_study[domain]),
            "study_dropped": {r: filt.reasons.get(r, 0) - before.get(r, 0) for r in DROP_REASONS}})

    # overlap measures, before (candidates) and after the filter
    stats["overlap"] = {
        "window_chars": WINDOW,
        "probe_before_filter": overlap_stats(cand_probe, train_windows),
        "probe": overlap_stats(kept_probe, train_windows),
        "study": overlap_stats(kept_study, train_windows)}
    # what the other near-duplicate rules would keep, on the passages that passed the CJK,
    # length and model-train filters (in the order they were offered)
    n_demo = sum(len(cand_probe[d]) for d in DOMAINS) - sum(filt_demo_reasons.get(r, 0) for r in DROP_REASONS[:3])
    stats["dedup_options"] = {"probe": dedup_options(filt.offered_clean[:n_demo]),
                              "study": dedup_options(filt.offered_clean)}

    with open(os.path.join(a.out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    print("%-10s %9s %6s %9s %6s %9s %6s %9s %7s %9s %7s %9s" % (
        "domain", "available", "docs", "bytes", "train", "bytes", "probe", "bytes",
        "passg", "bytes", "study", "bytes"))
    for d in DOMAINS:
        s = stats[d]
        print("%-10s %9d %6d %9d %6d %9d %6d %9d %7d %9d %7d %9d" % (
            d, s["available_docs"], s["docs"], s["bytes"], s["train_docs"], s["train_bytes"],
            s["probe_docs"], s["probe_bytes"], s["probe_passages"], s["probe_passage_bytes"],
            s["study_passages"], s["study_passage_bytes"]))
    print(json.dumps(stats["overlap"], indent=1))
    print(json.dumps(stats["dedup_options"], indent=1))


if __name__ == "__main__":
    sys.exit(main())
