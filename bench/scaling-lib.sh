# Shared by bench/scaling.sh and bench/scaling-cluster.sh (sourced, from the repository root).

# make_corpus F DIR: the demo corpus F times over in DIR; each copy after the first gets new
# document ids (prefix r<k>~), so it is a new document with its own split.
make_corpus() {
  local f="$1" dir="$2" src k
  mkdir -p "$dir"
  for src in demo/corpora/probe/*.jsonl; do
    for ((k = 0; k < f; k++)); do
      if [ "$k" -eq 0 ]; then cat "$src"; else sed "s/^{\"doc_id\": \"/{\"doc_id\": \"r$k~/" "$src"; fi
    done > "$dir/$(basename "$src")"
  done
}

# wall_seconds FILE / peak_rss_mib FILE: from the output of /usr/bin/time -v -o FILE.
wall_seconds() {
  grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' \
    | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}
peak_rss_mib() {
  grep "Maximum resident set size" "$1" | awk '{print int($NF / 1024)}'
}

# stage_times LOG: "stage seconds,stage seconds,..." from the driver's "Main: stage X done in" lines.
stage_times() {
  grep -E "Main: stage [a-z-]+ done in" "$1" | sed -E 's/.*stage ([a-z-]+) done in ([0-9.]+) s.*/\1 \2/' | paste -sd ',' -
}

# per_1x WALL FACTOR BASE: wall seconds per 1x of the corpus, relative to BASE (a 1x wall time).
per_1x() {
  awk -v w="$1" -v f="$2" -v b="$3" 'BEGIN { printf "%.2f", w / f / b }'
}
