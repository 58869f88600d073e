#!/usr/bin/env bash
# Are two runs' tables equal? Per table of data-schemas/ present in both output roots: row
# counts and EXCEPT ALL both ways (rows of one run missing from the other, duplicates counted),
# on every column; one Spark SQL query through the project's SQL console. Used to show that a
# refactoring changed no output (same config, code before vs after).
#
#   bench/compare-runs.sh CONFIG BEFORE_ROOT AFTER_ROOT [RUN_ID]
#   EXCLUDE="documents.source" bench/compare-runs.sh conf/demo.conf /tmp/before/out/demo /tmp/after/out/demo
#
# EXCLUDE: table.column pairs left out (e.g. documents.source holds the absolute input path,
# which differs between two clones). SKIP: tables left out (default: runs, whose rows are
# timings and commit times). Prints one row per table: rows before / after, before-not-after,
# after-not-before; exits 1 if any table differs or is missing from one side.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="$1"; before="$2"; after="$3"; run_id="${4:-}"
[ -n "$run_id" ] || run_id="$(ls "$before/tokens" | sed -n 's/^run_id=//p' | head -1)"
[ -n "$run_id" ] || { echo "compare-runs: no run_id=... folder under $before/tokens; give RUN_ID" >&2; exit 2; }
sql="$(python3 - "$here/data-schemas" "$before" "$after" "$run_id" "${EXCLUDE:-}" "${SKIP:-runs}" <<'PY'
import glob, json, os, sys
schemas, before, after, run_id, exclude, skip = sys.argv[1:]
exclude = set(exclude.split()); skip = set(skip.split())
parts, missing = [], []
for f in sorted(glob.glob(os.path.join(schemas, '*.json'))):
    s = json.load(open(f)); t = s['table']
    if t in skip:
        continue
    b, a = (os.path.join(r, t, 'run_id=' + run_id) for r in (before, after))
    if not os.path.isdir(b) and not os.path.isdir(a):
        continue
    if not (os.path.isdir(b) and os.path.isdir(a)):
        missing.append(t); continue
    dropped = {c.split('.', 1)[1] for c in exclude if c.startswith(t + '.')}
    if dropped:
        cols = ', '.join('`%s`' % c['name'] for c in s['columns'] if c['name'] not in dropped)
    else:
        cols = '*'
    sel = lambda p: "SELECT %s FROM parquet.`%s`" % (cols, p)
    parts.append(("SELECT '%s' AS tbl, (SELECT count(*) FROM (%s)) AS rows_before, (SELECT count(*) FROM (%s)) AS rows_after, "
                  "(SELECT count(*) FROM (%s EXCEPT ALL %s)) AS before_not_after, (SELECT count(*) FROM (%s EXCEPT ALL %s)) AS after_not_before")
                 % (t, sel(b), sel(a), sel(b), sel(a), sel(a), sel(b)))
for t in missing:
    parts.append("SELECT '%s (only in one run)' AS tbl, -1 AS rows_before, -1 AS rows_after, -1 AS before_not_after, -1 AS after_not_before" % t)
print(' UNION ALL '.join(parts))
PY
)"
out="$("$here/deploy/knowable-local" sql --config "$conf" --set "output=\"$after\"" "$sql" 2>/dev/null | grep -v '^views of run')"
echo "$out"
# Every table row must show 0 / 0 differences and no missing side.
if echo "$out" | awk -F'|' 'NF > 5 && $2 !~ /tbl/ { if ($5 + 0 != 0 || $6 + 0 != 0 || $3 + 0 < 0) bad = 1 } END { exit bad ? 0 : 1 }'; then
  echo "compare-runs: the runs differ" >&2
  exit 1
fi
echo "compare-runs: every compared table equal (EXCEPT ALL both ways)"
