#!/usr/bin/env bash
# Probe fits at paper scale on this machine's CPU (BENCHMARKS.md section 8): one JVM per
# (d, rows) so each peak RSS belongs to one size. Appends to bench/results/probe-fit.md.
#
#   bench/probe-fit.sh                     # the four sizes below
#   SIZES="1024:100000" bench/probe-fit.sh # d:rows pairs
#
# Per size: LINEAR_ITERS L-BFGS iterations of one penalty; MLP_EPOCHS epochs of the MLP
# (h = 2048) on the first MLP_ROWS train rows (its time is per row-epoch; a full epoch of
# 1M rows at d = 4096 would take hours on one core). Heap: HEAP (default: rows x (2d + 20)
# bytes + 2 GiB).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
results="$here/bench/results/probe-fit.md"
cp_file="${CP_FILE:-/tmp/common-cp.txt}"
if [ ! -s "$cp_file" ]; then
  mvn -o -B -ntp -q -pl common dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime
fi
[ -d common/target/classes/dev ] || mvn -o -B -ntp -q -pl common compile
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
} >>"$results"
for size in ${SIZES:-1024:100000 4096:100000 1024:1000000 4096:1000000}; do
  d=${size%%:*}
  n=${size##*:}
  heap_mb=${HEAP_MB:-$(( (n + n / 10) * (2 * d + 200) / 1048576 + 2048 ))}
  echo "### d = $d, $n train rows (-Xmx${heap_mb}m)" >>"$results"
  echo '```' >>"$results"
  set +e
  java -Xmx${heap_mb}m -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 \
    -cp "common/target/classes:$(cat "$cp_file")" bench/ProbeFitBench.java "$d" "$n" "${LINEAR_ITERS:-3}" \
    "${MLP_EPOCHS:-1}" "${MLP_ROWS:-10000}" 2>&1 | grep -v '^WARN\|SLF4J' >>"$results"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 0 ] || echo "exit status $rc" >>"$results"
  echo '```' >>"$results"
done
echo "appended to $results"
