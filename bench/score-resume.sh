#!/usr/bin/env bash
# Cost of resuming a killed score stage: a clean run of the stage, then (in another run id
# with the same inputs) the same stage killed with SIGKILL once about half of its shards are
# committed, then rerun. Appends a Markdown table to bench/results/score-resume.md.
#
#   bench/score-resume.sh [config] [stage]
#   bench/score-resume.sh bench/score-resume.conf score-small   (the default)
#   bench/score-resume.sh conf/demo.conf score-large
#
# "stage s" is the stage's own time as the driver logs it ("stage ... done in"); "process s"
# adds the JVM and Spark session start of the launcher. The ratio that matters is the
# rerun's over the clean run's; the killed attempt's time is reported as the work lost.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-bench/score-resume.conf}"
stage="${2:-score-small}"
table="${stage#score-}_scores"
stamp="$(date +%Y%m%d-%H%M%S)"
outdir="${KNOWABLE_BENCH_OUT:-/tmp/knowable-bench-resume}"
out="$here/bench/results/score-resume.md"
logdir="$(mktemp -d)"
master="${KNOWABLE_MASTER:-local[2]}"
cd "$here"

run() { # run-id log stage-list [--set ...]
  local id="$1" log="$2" stages="$3"; shift 3
  KNOWABLE_MASTER="$master" deploy/knowable-local "$stages" --config "$conf" --set run-id="$id" \
    --set output=\"$outdir\" "$@" >"$log" 2>&1
}
stage_secs() { grep -E "stage $stage done in" "$1" | sed -E 's/.* done in ([0-9.]+) s.*/\1/' | tail -1; }
now() { date +%s.%N; }

clean="resume-clean-$stamp"
resumed="resume-killed-$stamp"
# Upstream tables for both runs (not timed). score-large needs nothing from score-small.
run "$clean" "$logdir/prep-clean.log" ingest,tokenize
run "$resumed" "$logdir/prep-resumed.log" ingest,tokenize
shards=$(grep -o '"shards" *: *[0-9]*' "$outdir/tokens/run_id=$clean/_manifest.json" | head -1 | grep -o '[0-9]*$' || true)
[ -n "$shards" ] || shards=$(grep -oE 'shards *= *[0-9]+' "$conf" | grep -oE '[0-9]+$' | tail -1)
half=$(( (shards + 1) / 2 ))

t=$(now); run "$clean" "$logdir/clean.log" "$stage"; clean_proc=$(echo "$(now) - $t" | bc)
clean_stage=$(stage_secs "$logdir/clean.log")

# The killed attempt: SIGKILL the driver once half of the shards have their commit marker.
markers="$outdir/$table/_staging/run_id=$resumed.shards/_shards"
t=$(now)
KNOWABLE_MASTER="$master" deploy/knowable-local "$stage" --config "$conf" --set run-id="$resumed" \
  --set output=\"$outdir\" >"$logdir/killed.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  n=$(ls "$markers" 2>/dev/null | grep -cE '^shard-[0-9]+\.json$' || true)
  if [ "${n:-0}" -ge "$half" ]; then kill -9 "$pid"; break; fi
  sleep 0.2
done
wait "$pid" 2>/dev/null || true
killed_proc=$(echo "$(now) - $t" | bc)
committed=$(ls "$markers" 2>/dev/null | grep -cE '^shard-[0-9]+\.json$' || true)
if [ -e "$outdir/$table/run_id=$resumed" ]; then
  echo "score-resume: the killed run left $outdir/$table/run_id=$resumed (it should not)" >&2; exit 1
fi

t=$(now); run "$resumed" "$logdir/rerun.log" "$stage"; rerun_proc=$(echo "$(now) - $t" | bc)
rerun_stage=$(stage_secs "$logdir/rerun.log")
reused=$(grep -o '"shards_reused" *: *[0-9]*' "$outdir/$table/run_id=$resumed/_manifest.json" | grep -o '[0-9]*$')
rows_clean=$(grep -o '"rows" *: *[0-9]*' "$outdir/$table/run_id=$clean/_manifest.json" | head -1 | grep -o '[0-9]*$')
rows_rerun=$(grep -o '"rows" *: *[0-9]*' "$outdir/$table/run_id=$resumed/_manifest.json" | head -1 | grep -o '[0-9]*$')

{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - $stage, $conf, master $master, $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Command: \`bench/score-resume.sh $conf $stage\` (killed with SIGKILL once $half of $shards shards were committed)"
  echo
  echo "| run | shards computed | rows | stage s | process s |"
  echo "|---|---|---|---|---|"
  echo "| clean | $shards | $rows_clean | $clean_stage | $(printf %.1f "$clean_proc") |"
  echo "| killed attempt | $committed committed, then SIGKILL | - | - | $(printf %.1f "$killed_proc") |"
  echo "| rerun (resume) | $((shards - reused)) ($reused reused) | $rows_rerun | $rerun_stage | $(printf %.1f "$rerun_proc") |"
  echo
  echo "Rerun / clean: stage $(echo "scale=2; $rerun_stage / $clean_stage" | bc), process $(echo "scale=2; $rerun_proc / $clean_proc" | bc)."
} >> "$out"
tail -12 "$out"
echo "results appended to $out (logs in $logdir)"
