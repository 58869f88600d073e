#!/usr/bin/env bash
# The score stage against the bare loop on a model whose forward pass costs what a real
# small model's does on a CPU (bench/make_wide_model.py: random init, Pythia-70M's shape),
# so the stage's fixed per-position and per-shard costs can be seen against a realistic
# forward pass. Corpus: the first DOCS documents of each demo domain (default 12, about
# 27,000 tokens; one thread runs about 400 tokens/s on this model). Prints Markdown like
# bench/score-vs-bare.sh.
#
#   bench/score-vs-bare-wide.sh [reps] [docs per domain] [roles]
#   bench/score-vs-bare-wide.sh 1 48 large
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${1:-1}"; docs="${2:-12}"; roles="${3:-large,small}"
work="${BENCH_WIDE_DIR:-/tmp/knowable-bench-wide}"
cd "$here"
mkdir -p "$work/corpus"
[ -f "$work/model/model.pt" ] || /usr/bin/python3 bench/make_wide_model.py "$work/model" >&2
for f in demo/corpora/probe/*.jsonl; do head -n "$docs" "$f" > "$work/corpus/$(basename "$f")"; done
cat > "$work/wide.conf" <<CONF
include "$here/conf/demo.conf"
knowable {
  ingest.inputs = [ { path = "$work/corpus", format = jsonl } ]
  tokenize.shards = 4
  models {
    small {
      path = "$work/model"
      layers = [3, 6]
    }
    large.path = "$work/model"
  }
}
CONF
BENCH_OUT="$work/out" bench/score-vs-bare.sh "$work/wide.conf" "$reps" pytorch "$roles"
