#!/usr/bin/env bash
# Threshold sweep of the gap labels (docs/METHOD.md 4): class-0 cut (H_L < cut) x class-1 gap
# (|H_L - H_S| <= gap) x balancing, one label + probe run per (cut, gap) cell on the scores of
# one finished run, then one compact table: n per class and the paired MLP - combined control
# and linear - combined control test AUC differences (pooled train and test, first band,
# highest layer, documents resampled), per balancing.
#
#   bench/threshold-sweep.sh conf/demo.conf /tmp/demo-out            # the default grid
#   CUTS="0.2 0.5 1.0" GAPS="0.1 0.2" bench/threshold-sweep.sh conf/study-bpe.conf /abs/out
#
# The second argument is the output root of a run of CONFIG whose ingest, tokenize,
# score-small and score-large tables are committed (e.g. `deploy/knowable-local pipeline
# --config CONFIG --set 'output="/abs/out"'`; give it as an absolute path). Each cell gets its
# own output root under <root>/sweep/cut<cut>-gap<gap>/ that links the base run's score
# tables (same run id) and writes its own probe_examples, probe_* tables; reruns skip cells
# that have probe_comparisons. The table goes to <root>/sweep/sweep.md (and stdout); the
# report stage of the base run shows it too ("Threshold sweep" section), cells found by this layout.
# BAND: the band of the table ('[2.0,inf)'). EXTRA_SETS: further --set values for every cell,
# separated by spaces (e.g. 'probe.seeds=1 label.bands=["2.0:inf"]' for a quick sweep).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$2"
case "$root" in /*) ;; *) echo "threshold-sweep: give the output root as an absolute path" >&2; exit 2 ;; esac
CUTS="${CUTS:-0.2 0.5 1.0}"
GAPS="${GAPS:-0.1 0.2}"
BAND="${BAND:-[2.0,inf)}"
EXTRA_SETS="${EXTRA_SETS:-}"
local_run="$here/deploy/knowable-local"

# The run id of CONFIG (conf files set knowable.run-id): read it from the output root.
run_id="$(ls "$root/small_scores" | sed -n 's/^run_id=//p' | head -1)"
[ -n "$run_id" ] || { echo "threshold-sweep: $root/small_scores holds no run" >&2; exit 2; }
for t in documents tokens small_scores large_scores small_rejects large_rejects; do
  [ -d "$root/$t/run_id=$run_id" ] || [[ "$t" == *rejects ]] || {
    echo "threshold-sweep: $root/$t/run_id=$run_id is missing: run the score stages of $config first" >&2; exit 2; }
done

out_md="$root/sweep/sweep.md"
rows="$root/sweep/rows.tsv"
mkdir -p "$root/sweep"
: > "$rows"
for cut in $CUTS; do
  for gap in $GAPS; do
    cell="$root/sweep/cut$cut-gap$gap"
    mkdir -p "$cell"
    for t in documents tokens small_scores large_scores small_rejects large_rejects; do
      if [ -d "$root/$t/run_id=$run_id" ] && [ ! -e "$cell/$t" ]; then
        mkdir -p "$cell/$t"
        ln -s "$root/$t/run_id=$run_id" "$cell/$t/run_id=$run_id"
      fi
    done
    sets=(--set "output=\"$cell\"" --set "label.epistemic-max-large-entropy=$cut"
          --set "label.aleatoric-max-gap=$gap" --set "label.kinds=[gap]")
    for s in $EXTRA_SETS; do sets+=(--set "$s"); done
    if [ ! -f "$cell/probe_comparisons/run_id=$run_id/_manifest.json" ]; then
      echo "threshold-sweep: cell cut=$cut gap=$gap" >&2
      "$local_run" label,probe --config "$config" "${sets[@]}" >"$cell/log.txt" 2>&1 || {
        echo "threshold-sweep: cell cut=$cut gap=$gap failed, see $cell/log.txt" >&2; continue; }
    fi
    # One line per (balancing, probe kind): mean over seeds of the difference and its bounds.
    "$local_run" sql --config "$config" "${sets[@]}" "
      WITH c AS (SELECT * FROM probe_comparisons WHERE label_kind = 'gap' AND train_domain = 'all'
                   AND eval_domain = 'all' AND eval_split = 'test' AND baseline_kind LIKE 'combined_k%'
                   AND band = '$BAND'
                   AND probe_kind IN ('mlp', 'linear')),
           top AS (SELECT max(layer) AS layer FROM c)
      SELECT concat_ws('\t', 'ROW', '$cut', '$gap', balance, probe_kind, band, cast(layer AS string),
               cast(max(n_class0) AS string), cast(max(n_class1) AS string),
               format_number(avg(auc_difference), 3), format_number(avg(difference_ci_low), 3),
               format_number(avg(difference_ci_high), 3), cast(count(*) AS string)) AS r
      FROM c JOIN top USING (layer) GROUP BY balance, probe_kind, band, layer ORDER BY balance, probe_kind" \
      2>/dev/null | grep -o 'ROW.*' | sed 's/[[:space:]]*|[[:space:]]*$//' >> "$rows" || true
  done
done

python3 - "$rows" "$out_md" <<'PY'
import collections, re, sys
# The SQL console prints the tab separator as the two characters \\t: accept both.
rows = [re.split(r'\t|\\t', l.rstrip('\n')) for l in open(sys.argv[1]) if l.startswith('ROW')]
cells = collections.OrderedDict()
for _, cut, gap, bal, kind, band, layer, n0, n1, d, lo, hi, seeds in rows:
    c = cells.setdefault((bal, cut, gap), {'n': (n0, n1), 'band': band, 'layer': layer})
    c[kind] = f"{float(d):+.3f} [{float(lo):+.3f}, {float(hi):+.3f}]"
lines = ["| balancing | class 0: H_L < | class 1: \\|H_L - H_S\\| <= | n test (0 / 1) | MLP - combined | linear - combined |",
         "|---|---|---|---|---|---|"]
for (bal, cut, gap), c in sorted(cells.items(), key=lambda kv: (kv[0][0] != 'entropy_matched', kv[0])):
    lines.append(f"| {bal} | {cut} | {gap} | {c['n'][0]} / {c['n'][1]} | {c.get('mlp', '-')} | {c.get('linear', '-')} |")
if cells:
    any_c = next(iter(cells.values()))
    lines.append("")
    lines.append(f"Band {any_c['band']}, layer {any_c['layer']}, train all -> test all; paired test AUC "
                 "differences (mean over seeds of the difference and of its 95% interval, documents resampled).")
open(sys.argv[2], 'w').write('\n'.join(lines) + '\n')
print('\n'.join(lines))
PY
