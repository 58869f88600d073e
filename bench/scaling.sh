#!/usr/bin/env bash
# Scaling of the embedded default: the pipeline on 1x, 4x, 16x ... the demo corpus (each
# probe passage repeated under new doc ids, so every copy is a new document with its own
# split), with wall time per stage and the peak resident memory of the JVM (local mode:
# driver and executor are one process, so this is both).
#
#   bench/scaling.sh [stages] [factors...]
#   bench/scaling.sh pipeline 1 4 16
#   bench/scaling.sh ingest,tokenize,score-small,score-large,label 1 4 16
#
# Appends a Markdown table to bench/results/scaling.md. Run it on a quiet machine: the
# numbers are wall-clock times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stages="${1:-pipeline}"; shift || true
factors=("${@:-1 4 16}")
[ ${#factors[@]} -gt 0 ] || factors=(1 4 16)
work="${KNOWABLE_BENCH_DIR:-/tmp/knowable-scaling}"
out="$here/bench/results/scaling.md"
master="${KNOWABLE_MASTER:-local[2]}"
cd "$here"
# shellcheck source=bench/scaling-lib.sh
. bench/scaling-lib.sh
[ -f "$out" ] || printf '# Scaling of the embedded default\n\nProduced by `bench/scaling.sh STAGES FACTORS...`.\n' > "$out"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - stages $stages, master $master, $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Command: \`bench/scaling.sh $stages ${factors[*]}\`"
  echo
  echo "| corpus | documents | wall s | s per 1x | peak RSS MiB | per stage (s) |"
  echo "|---|---|---|---|---|---|"
} >> "$out"
base=""
for f in "${factors[@]}"; do
  corpus="$work/x$f/corpus"
  rm -rf "$work/x$f"
  make_corpus "$f" "$corpus"
  docs=$(cat "$corpus"/*.jsonl | wc -l)
  log="$work/x$f/run.log"
  /usr/bin/time -v -o "$work/x$f/time.txt" env KNOWABLE_MASTER="$master" deploy/knowable-local "$stages" \
    --config conf/demo.conf --set run-id="x$f" --set output=\"$work/x$f/out\" \
    --set 'ingest.inputs=[{path="'"$corpus"'", format=jsonl}]' > "$log" 2>&1
  wall=$(wall_seconds "$work/x$f/time.txt")
  rss=$(peak_rss_mib "$work/x$f/time.txt")
  per=$(stage_times "$log")
  [ -n "$base" ] || base=$(awk -v w="$wall" -v f="$f" 'BEGIN { print w / f }')
  ratio=$(per_1x "$wall" "$f" "$base")
  echo "| ${f}x | $docs | $wall | $ratio | $rss | $per |" >> "$out"
  echo "scaling: ${f}x: $docs documents, $wall s, peak RSS $rss MiB"
done
