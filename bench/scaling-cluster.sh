#!/usr/bin/env bash
# Scaling of the embedded default on a Spark standalone cluster on this machine, so that the
# driver and the executors are separate JVMs and their peak memory can be told apart (in
# local mode they are one process: bench/scaling.sh). A Master and one Worker (all cores)
# are started from Spark's jars (the Maven classpath of the build, as the integration test
# does); each factor runs deploy/knowable-submit in client mode with 1-core executors.
# Driver peak RSS: /usr/bin/time -v of the submit (the driver is that JVM). Executor peak
# RSS: VmHWM of each executor JVM, read from /proc every second while it runs.
#
#   bench/scaling-cluster.sh [stages] [factors...]
#   bench/scaling-cluster.sh pipeline 1 4 16
#
# Settings (environment): DRIVER_MEMORY (default 2g), EXECUTOR_MEMORY (default 3g per
# 1-core executor), SHUFFLE_PARTITIONS (default 4 per core, as local mode uses; Spark's own
# default of 200 is what a cluster gets when it sets nothing), KNOWABLE_BENCH_DIR (default
# /tmp/knowable-scaling-cluster).
# Appends a Markdown table to bench/results/scaling.md. Needs the built jar and
# jobs/target/spark-classpath.txt (mvn -B -DskipTests package). Run it on a quiet machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stages="${1:-pipeline}"; shift || true
factors=("$@")
[ ${#factors[@]} -gt 0 ] || factors=(1 4 16)
work="${KNOWABLE_BENCH_DIR:-/tmp/knowable-scaling-cluster}"
dmem="${DRIVER_MEMORY:-2g}"; emem="${EXECUTOR_MEMORY:-3g}"
cores="$(nproc)"
shuffle="${SHUFFLE_PARTITIONS:-$((4 * cores))}"
out="$here/bench/results/scaling.md"
cd "$here"
# shellcheck source=bench/scaling-lib.sh
. bench/scaling-lib.sh
[ -f jobs/target/knowable-app.jar ] && [ -f jobs/target/spark-classpath.txt ] \
  || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)

# A "Spark installation": jars/ links to the build's Spark jars; bin/spark-submit runs
# SparkSubmit in this JVM (client mode: the driver is this process, so its heap is set here).
home="$work/spark-home"
mkdir -p "$home/jars" "$home/bin"
echo "Spark for knowable benchmarks" > "$home/RELEASE"
tr ':' '\n' < jobs/target/spark-classpath.txt | while read -r jar; do
  [ -n "$jar" ] && ln -sf "$jar" "$home/jars/"
done
cat > "$home/bin/spark-submit" <<EOF
#!/usr/bin/env bash
exec "$java_bin" $flags -Xmx$dmem -cp "$home/jars/*" org.apache.spark.deploy.SparkSubmit "\$@"
EOF
chmod +x "$home/bin/spark-submit"
export SPARK_HOME="$home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 OMP_NUM_THREADS=1

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pids=()
cleanup() { for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
mkdir -p "$work/logs"
# shellcheck disable=SC2086
"$java_bin" $flags -Xmx512m -cp "$home/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
  --port "$port" --webui-port 0 > "$work/logs/master.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do grep -q "I have been elected leader" "$work/logs/master.log" && break; sleep 0.5; done
# shellcheck disable=SC2086
"$java_bin" $flags -Xmx512m -cp "$home/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 \
  --cores "$cores" --memory 20g --webui-port 0 --work-dir "$work/worker" "spark://127.0.0.1:$port" \
  > "$work/logs/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do grep -q "Successfully registered with master" "$work/logs/worker.log" && break; sleep 0.5; done
grep -q "Successfully registered with master" "$work/logs/worker.log" || { echo "the Worker did not register" >&2; exit 1; }

{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) - stages $stages, standalone cluster ($cores x 1-core executors of $emem, driver $dmem, $shuffle shuffle partitions), $cores cores, $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Command: \`bench/scaling-cluster.sh $stages ${factors[*]}\`"
  echo
  echo "| corpus | documents | wall s | s per 1x | driver peak RSS MiB | executor peak RSS MiB (largest) | per stage (s) |"
  echo "|---|---|---|---|---|---|---|"
} >> "$out"
# "s per 1x" divides by the first factor's wall time unless BASE_1X_WALL gives the 1x run's
# (to add a larger factor to an earlier table).
base="${BASE_1X_WALL:-}"
for f in "${factors[@]}"; do
  corpus="$work/x$f/corpus"
  rm -rf "$work/x$f"
  make_corpus "$f" "$corpus"
  docs=$(cat "$corpus"/*.jsonl | wc -l)
  log="$work/x$f/run.log"
  hwm="$work/x$f/executor-hwm.txt"
  : > "$hwm"
  # Executor peak RSS: VmHWM (the kernel's high-water mark) of every executor JVM, each second.
  ( while true; do
      for p in $(pgrep -f CoarseGrainedExecutorBackend || true); do
        awk -v p="$p" '/^VmHWM/ { print p, $2 }' "/proc/$p/status" 2>/dev/null || true
      done >> "$hwm"
      sleep 1
    done ) &
  poller=$!
  /usr/bin/time -v -o "$work/x$f/time.txt" deploy/knowable-submit --master "spark://127.0.0.1:$port" \
    --deploy-mode client --executor-cores 1 --executor-memory "$emem" --driver-memory "$dmem" \
    --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 --conf spark.sql.shuffle.partitions="$shuffle" \
    -- "$stages" --config conf/demo.conf \
    --set run-id="x$f" --set output=\"$work/x$f/out\" \
    --set 'ingest.inputs=[{path="'"$corpus"'", format=jsonl}]' \
    --set models.small.path=\""$here/demo/models/tiny-small"\" \
    --set models.large.path=\""$here/demo/models/tiny-large"\" > "$log" 2>&1 || { kill "$poller"; echo "failed: $log" >&2; exit 1; }
  kill "$poller" 2>/dev/null || true
  wall=$(wall_seconds "$work/x$f/time.txt")
  drss=$(peak_rss_mib "$work/x$f/time.txt")
  erss=$(awk '{ if ($2 > m) m = $2 } END { print int(m / 1024) }' "$hwm")
  per=$(stage_times "$log")
  [ -n "$base" ] || base=$(awk -v w="$wall" -v f="$f" 'BEGIN { print w / f }')
  ratio=$(per_1x "$wall" "$f" "$base")
  echo "| ${f}x | $docs | $wall | $ratio | $drss | $erss | $per |" >> "$out"
  echo "scaling-cluster: ${f}x: $docs documents, $wall s, driver peak RSS $drss MiB, executors $erss MiB"
done
