#!/usr/bin/env bash
# The tables of docs/RESULTS.md, from one run's Parquet output, printed by Spark SQL.
#
#   bench/results-tables.sh CONFIG OUTPUT [BAND] [LAYER] [BALANCE]
#   bench/results-tables.sh conf/study.conf out/study '[2.0,inf)' 2 entropy_matched
#
# Every number in RESULTS.md comes from one of these queries (test split, gap labels, one
# balancing: entropy_matched by default, or token; runs from before the balance column: token).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="$1"; output="$2"; band="${3:-[2.0,inf)}"; layer="${4:-2}"; balance="${5:-entropy_matched}"
q() {
  echo
  echo "-- $1"
  "$here/deploy/knowable-local" sql --config "$conf" --set output=\""$output"\" "$2" 2>/dev/null \
    | grep -v '^views of run'
}
q "pooled test AUC per probe (train all, eval all; MLP: mean over seeds; interval: mean of the seeds' document-level intervals)" "
SELECT probe_kind, layer, count(*) AS seeds, max(n_class0) AS n_per_class, round(avg(auc), 3) AS auc,
       round(avg(auc_ci_low), 3) AS ci_low, round(avg(auc_ci_high), 3) AS ci_high
FROM probe_metrics WHERE eval_split = 'test' AND label_kind = 'gap' AND balance = '$balance' AND band = '$band'
  AND train_domain = 'all' AND eval_domain = 'all'
GROUP BY probe_kind, layer ORDER BY probe_kind, layer"
q "in-domain test AUC per domain (train = eval domain), layer $layer for probes" "
SELECT eval_domain, max(n_class0) AS n_per_class,
  round(avg(CASE WHEN probe_kind = 'bet' THEN auc END), 3) AS bet,
  round(avg(CASE WHEN probe_kind = 'bet_ft' THEN auc END), 3) AS bet_ft,
  round(avg(CASE WHEN probe_kind = 'linear' AND layer = $layer THEN auc END), 3) AS linear,
  round(avg(CASE WHEN probe_kind = 'mlp' AND layer = $layer THEN auc END), 3) AS mlp,
  round(max(CASE WHEN probe_kind LIKE 'context_k%' THEN auc END), 3) AS best_context,
  round(max(CASE WHEN probe_kind LIKE 'combined_k%' THEN auc END), 3) AS combined
FROM probe_metrics WHERE eval_split = 'test' AND label_kind = 'gap' AND balance = '$balance' AND band = '$band'
  AND train_domain = eval_domain GROUP BY eval_domain ORDER BY eval_domain"
q "paired differences on the same test rows (probe_comparisons; documents resampled), in-domain and pooled, layer $layer" "
SELECT eval_domain, probe_kind, baseline_kind, count(*) AS seeds, max(n_docs) AS docs,
  round(avg(auc_difference), 3) AS difference, round(avg(difference_ci_low), 3) AS ci_low,
  round(avg(difference_ci_high), 3) AS ci_high,
  sum(CASE WHEN difference_ci_low > 0 THEN 1 ELSE 0 END) AS seeds_above_0,
  sum(CASE WHEN difference_ci_high < 0 THEN 1 ELSE 0 END) AS seeds_below_0
FROM probe_comparisons WHERE eval_split = 'test' AND label_kind = 'gap' AND balance = '$balance' AND band = '$band' AND layer = $layer
  AND train_domain = eval_domain
GROUP BY eval_domain, probe_kind, baseline_kind ORDER BY eval_domain, probe_kind, baseline_kind"
q "cross-domain test AUC of the MLP probe (mean over seeds), layer $layer: rows train domain, columns eval domain" "
SELECT * FROM (SELECT train_domain, eval_domain, round(auc_mean, 3) AS auc FROM cross_domain
  WHERE probe_kind = 'mlp' AND layer = $layer AND band = '$band' AND label_kind = 'gap' AND balance = '$balance')
PIVOT (first(auc) FOR eval_domain IN ('all', 'code', 'legal', 'reference', 'scripture', 'speech'))
ORDER BY train_domain"
q "cross-domain test AUC of the linear probe, layer $layer" "
SELECT * FROM (SELECT train_domain, eval_domain, round(auc_mean, 3) AS auc FROM cross_domain
  WHERE probe_kind = 'linear' AND layer = $layer AND band = '$band' AND label_kind = 'gap' AND balance = '$balance')
PIVOT (first(auc) FOR eval_domain IN ('all', 'code', 'legal', 'reference', 'scripture', 'speech'))
ORDER BY train_domain"
q "ICLT: test AUC and paired difference to BET on the same positions (in-domain and pooled)" "
SELECT eval_domain, probe_kind, max(n_docs) AS docs, max(n_class0) AS n_per_class, round(avg(auc), 3) AS auc,
  round(avg(baseline_auc), 3) AS bet, round(avg(auc_difference), 3) AS difference,
  round(avg(difference_ci_low), 3) AS ci_low, round(avg(difference_ci_high), 3) AS ci_high
FROM iclt_comparisons WHERE eval_split = 'test' AND train_domain = eval_domain AND balance = '$balance'
GROUP BY eval_domain, probe_kind ORDER BY eval_domain, probe_kind"
q "fits that did not converge: MLPs that reached max-epochs before early stopping, logistic fits whose L-BFGS did not converge" "
SELECT CASE WHEN probe_kind = 'mlp' THEN 'mlp' ELSE 'logistic' END AS fit, balance, count(*) AS fits,
  sum(CASE WHEN NOT converged THEN 1 ELSE 0 END) AS not_converged, max(epochs_run) AS max_epochs_or_iterations
FROM probe_models GROUP BY 1, balance ORDER BY 1, balance"
