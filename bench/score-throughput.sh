#!/usr/bin/env bash
# Score-stage throughput: runs ingest + tokenize once, then score-small and score-large
# for several token budgets, and appends a Markdown table to bench/results/score-throughput.md.
#
#   bench/score-throughput.sh [config] [budgets...]
#   bench/score-throughput.sh conf/demo.conf 1024 4096 16384
#
# Reports two rates per run: the stage's end-to-end positions/s (read tokens, forward
# passes, Parquet write, manifest; all tasks together) and the median over tasks of one
# task's tokens/s as its partition logs it (forward, entropy/top-k, copy-back and the
# Parquet encoding of its rows, on one core).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-conf/demo.conf}"; shift || true
budgets=("${@:-4096}")
[ ${#budgets[@]} -gt 0 ] || budgets=(4096)
run="bench-$(date +%Y%m%d-%H%M%S)"
out="$here/bench/results/score-throughput.md"
logdir="$(mktemp -d)"
cd "$here"
master="${KNOWABLE_MASTER:-local[2]}"
KNOWABLE_MASTER="$master" deploy/knowable-local ingest --config "$conf" --set run-id="$run" --set output=\"/tmp/knowable-bench\" >"$logdir/ingest.log" 2>&1
KNOWABLE_MASTER="$master" deploy/knowable-local tokenize --config "$conf" --set run-id="$run" --set output=\"/tmp/knowable-bench\" >"$logdir/tokenize.log" 2>&1
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - $conf, master $master, $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Command: \`bench/score-throughput.sh $conf ${budgets[*]}\`"
  echo
  echo "| stage | token budget | positions | stage s | stage positions/s | median task tokens/s |"
  echo "|---|---|---|---|---|---|"
} >> "$out"
for b in "${budgets[@]}"; do
  for stage in score-small score-large; do
    log="$logdir/$stage-$b.log"
    KNOWABLE_MASTER="$master" deploy/knowable-local "$stage" --config "$conf" --set run-id="$run" \
      --set output=\"/tmp/knowable-bench\" --set if-exists=overwrite --set score.token-budget="$b" >"$log" 2>&1
    line=$(grep -E "$stage: [0-9]+ positions scored" "$log" | tail -1)
    positions=$(sed -E 's/.*: ([0-9]+) positions.*/\1/' <<<"$line")
    secs=$(sed -E 's/.* in ([0-9.]+) s .*/\1/' <<<"$line")
    rate=$(sed -E 's/.*\(([0-9]+) tokens\/s.*/\1/' <<<"$line")
    model=$(grep -E "partition [0-9]+: .* tokens/s" "$log" | sed -E 's/.* ([0-9]+) tokens\/s$/\1/' | sort -n \
      | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}')
    echo "| $stage | $b | $positions | $secs | $rate | $model |" >> "$out"
  done
done
echo "results appended to $out (logs in $logdir)"
