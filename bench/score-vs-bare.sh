#!/usr/bin/env bash
# Score stage vs bare loop, both engines, in one JVM, alternated (jobs test scope main
# dev.knowable.jobs.bench.ScoreBench), then Debian's torch on the same TorchScript and the
# same batches as a reference point. Prints Markdown; append it to
# bench/results/score-vs-bare.md by hand with the machine and date.
#
#   bench/score-vs-bare.sh [config] [reps] [engines] [roles]
#   bench/score-vs-bare.sh conf/demo.conf 3 pytorch,onnxruntime large,small
#
# Runs from a fresh clone: it compiles the test classes and writes their classpath first
# (mvn -pl jobs -am test-compile, Maven Central or a filled ~/.m2). Needs /usr/bin/python3
# with torch for the reference rows (Debian: apt-get install python3-torch).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-conf/demo.conf}"; reps="${2:-3}"; engines="${3:-pytorch,onnxruntime}"; roles="${4:-large,small}"
out="${BENCH_OUT:-/tmp/knowable-bench-bare}"
cd "$here"
cpfile="$out/classpath.txt"
mkdir -p "$out"
# The reactor (-am) resolves knowable-common to common/target, so nothing has to be installed.
if [ ! -s "$cpfile" ] || [ ! -d jobs/target/test-classes ]; then
  echo "bench: compiling the test classes and writing their classpath (mvn -pl jobs -am test-compile) ..." >&2
  if ! mvn -q -B -ntp -pl jobs -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$cpfile" >"$out/mvn.log" 2>&1; then
    rm -f "$cpfile"
    echo "bench: the build failed (last lines of $out/mvn.log below); run mvn -B -ntp -DskipTests package first" >&2
    tail -n 20 "$out/mvn.log" >&2
    exit 2
  fi
fi
# common/target/classes comes first; ORT is named explicitly in case ~/.m2 holds an older knowable-common.
ort="$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.21.1/onnxruntime-1.21.1.jar"
cp="jobs/target/test-classes:jobs/target/classes:common/target/classes:$ort:$(cat "$cpfile")"
flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
# shellcheck disable=SC2086
if ! java $flags ${BENCH_JAVA_OPTS:-} -Xmx4g -cp "$cp" dev.knowable.jobs.bench.ScoreBench "$conf" "$out" "$reps" \
    "$engines" "$roles" 2>"$out/bench.log" >"$out/bench.out"; then
  echo "bench: ScoreBench failed (last lines of $out/bench.log below)" >&2
  tail -n 20 "$out/bench.log" >&2
  exit 1
fi
grep '^BENCH' "$out/bench.out" | sed 's/^BENCH //'
for role in ${roles//,/ }; do
  model=$(grep -A3 "^ *$role\b\|$role.path" "$conf" | sed -n 's/.*path = "\(.*\)".*/\1/p' | head -1)
  if [ "$role" = small ]; then topk=1; layers=$(sed -n 's/.*layers = \[\(.*\)\].*/\1/p' "$conf" | tr -d ' ' | head -1); else topk=10; layers=; fi
  echo "torch (Python, Debian torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 1 thread), $role = $model:"
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_reference.py "$model" "$out/batches-$role.bin" "$topk" "$layers" "$reps"
done
