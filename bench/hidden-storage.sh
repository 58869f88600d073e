#!/usr/bin/env bash
# Bytes per position of small_scores for each hidden-state storage
# (knowable.score.hidden-dtype x knowable.score.hidden-positions): runs ingest + tokenize
# once, then score-small per setting (if-exists=overwrite), and appends a Markdown table to
# bench/results/hidden-storage.md. Bytes = the Parquet files' total size (Spark's default
# snappy compression) / rows. The floor: 2 x hidden size bytes per stored layer of each
# kept position, plus the scalar columns' bytes as written (from the Parquet footers).
#
#   bench/hidden-storage.sh [config]          # default conf/demo.conf
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-conf/demo.conf}"
out_dir="${KNOWABLE_BENCH_OUTPUT:-/tmp/knowable-bench-storage}"
results="$here/bench/results/hidden-storage.md"
master="${KNOWABLE_MASTER:-local[2]}"
cd "$here"
run() { KNOWABLE_MASTER="$master" deploy/knowable-local "$@" --config "$conf" --set output=\"$out_dir\"; }
logdir="$(mktemp -d)"
if [ ! -f "$out_dir/tokens/run_id=demo/_manifest.json" ] && [ ! -d "$out_dir/tokens/run_id=demo" ]; then
  run ingest >"$logdir/ingest.log" 2>&1
  run tokenize >"$logdir/tokenize.log" 2>&1
fi
table="$out_dir/small_scores/run_id=demo"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - $conf, master $master, $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Command: \`bench/hidden-storage.sh $conf\`"
  echo
  echo "| hidden-dtype | hidden-positions | rows | kept | kept % | file bytes | bytes/position | hidden bytes/kept position | floor bytes/position | ratio to floor | clamped values |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >>"$results"
for dtype in ${DTYPES:-float32 float16 bfloat16}; do
  for positions in ${POSITIONS:-all in-band}; do
    run score-small --set if-exists=overwrite --set score.hidden-dtype=$dtype \
      --set score.hidden-positions=$positions >"$logdir/score-$dtype-$positions.log" 2>&1
    java -cp "$(cat jobs/target/spark-classpath.txt)" bench/ParquetColumnBytes.java "$table" >"$logdir/bytes.txt"
    python3 - "$table/_manifest.json" "$logdir/bytes.txt" "$dtype" "$positions" >>"$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
files, rows = map(int, lines[0].split())
cols = {l.split()[0]: int(l.split()[1]) for l in lines[1:] if l.strip()}
hidden = sum(v for k, v in cols.items() if k.startswith("hidden_l"))
scalars = sum(v for k, v in cols.items() if not k.startswith("hidden_l"))
kept = m.get("hidden_positions_kept", rows)
d, layers = m["hidden_size"], len(m["layers"])
floor = scalars + kept * 2 * d * layers
print(f"| {sys.argv[3]} | {sys.argv[4]} | {rows} | {kept} | {100.0 * kept / rows:.1f} | {files} | {files / rows:.1f} "
      f"| {hidden / max(kept, 1):.1f} | {floor / rows:.1f} | {files / floor:.3f} | {m.get('hidden_clamped_values', 0)} |")
PY
  done
done
echo "appended to $results (logs in $logdir)"
