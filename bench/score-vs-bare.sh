#!/usr/bin/env bash
# Score stage vs bare loop, both engines, in one JVM, alternated (jobs test scope main
# dev.knowable.jobs.bench.ScoreBench), then Debian's torch on the same TorchScript and the
# same batches as a reference point. Prints Markdown; append it to
# bench/results/score-vs-bare.md by hand with the machine and date.
#
#   bench/score-vs-bare.sh [config] [reps] [engines] [roles]
#   bench/score-vs-bare.sh conf/demo.conf 3 pytorch,onnxruntime large,small
#
# Needs test classes: mvn -o -q -pl jobs -am test-compile
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-conf/demo.conf}"; reps="${2:-3}"; engines="${3:-pytorch,onnxruntime}"; roles="${4:-large,small}"
out="${BENCH_OUT:-/tmp/knowable-bench-bare}"
cd "$here"
cpfile="$out/classpath.txt"
mkdir -p "$out"
[ -s "$cpfile" ] || mvn -o -q -B -pl jobs dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null
# common/target/classes comes first; ORT is named explicitly in case ~/.m2 holds an older knowable-common.
ort="$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.21.1/onnxruntime-1.21.1.jar"
cp="jobs/target/test-classes:jobs/target/classes:common/target/classes:$ort:$(cat "$cpfile")"
flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
# shellcheck disable=SC2086
java $flags ${BENCH_JAVA_OPTS:-} -Xmx4g -cp "$cp" dev.knowable.jobs.bench.ScoreBench "$conf" "$out" "$reps" "$engines" "$roles" \
  2>"$out/bench.log" | grep '^BENCH' | sed 's/^BENCH //'
for role in ${roles//,/ }; do
  model=$(grep -A3 "^ *$role\b\|$role.path" "$conf" | sed -n 's/.*path = "\(.*\)".*/\1/p' | head -1)
  if [ "$role" = small ]; then topk=1; layers=$(sed -n 's/.*layers = \[\(.*\)\].*/\1/p' "$conf" | tr -d ' ' | head -1); else topk=10; layers=; fi
  echo "torch (Python, Debian torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 1 thread), $role = $model:"
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_reference.py "$model" "$out/batches-$role.bin" "$topk" "$layers" "$reps"
done
