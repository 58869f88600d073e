package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.probe.BetFtSettings;
import dev.knowable.probe.ProbeSettings;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many fits ended without converging, for the probe manifest (one aggregate query over
 * the fitted probes): MLP fits that reached max-epochs before early stopping ended them,
 * logistic fits (linear, context, combined) whose L-BFGS did not converge, and BET-FT fits
 * that reached their max-epochs or kept the model's own head.
 */
final class ProbeConvergence {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeConvergence.class);

  private ProbeConvergence() {}

  static Map<String, Object> counts(Dataset<Row> fits, ProbeSettings settings, BetFtSettings betFtSettings) {
    var isMlp = col("probe_kind").equalTo(ProbeTables.MLP);
    var isBetFt = col("probe_kind").equalTo(ProbeTables.BET_FT);
    var isLogistic = not(isMlp).and(not(isBetFt));
    Row r = fits.agg(sum(when(isMlp, 1L).otherwise(0L)),
            sum(when(isMlp.and(not(col("converged"))), 1L).otherwise(0L)),
            sum(when(isMlp.and(col("best_epoch").equalTo(col("epochs_run"))), 1L).otherwise(0L)),
            sum(when(isLogistic, 1L).otherwise(0L)),
            sum(when(isLogistic.and(not(col("converged"))), 1L).otherwise(0L)),
            count(lit(1)),
            sum(when(isBetFt, 1L).otherwise(0L)),
            sum(when(isBetFt.and(not(col("converged"))), 1L).otherwise(0L)),
            sum(when(isBetFt.and(col("best_epoch").equalTo(0)), 1L).otherwise(0L)),
            max(when(isBetFt, col("epochs_run"))))
        .first();
    Map<String, Object> out = new LinkedHashMap<>();
    long mlp = r.isNullAt(0) ? 0 : r.getLong(0);
    long mlpAtCap = r.isNullAt(1) ? 0 : r.getLong(1);
    if (settings.mlp() != null) {
      out.put("mlp_fits", mlp);
      // Reached max-epochs while the validation loss was still improving: a lower bound.
      out.put("mlp_stopped_at_cap", mlpAtCap);
      out.put("mlp_best_epoch_is_last", r.isNullAt(2) ? 0L : r.getLong(2));
      out.put("mlp_max_epochs", settings.mlp().maxEpochs());
      out.put("mlp_patience", settings.mlp().patience());
      out.put("mlp_min_delta", settings.mlp().minDelta());
      LOG.info("MLP probes: {} of {} reached max-epochs = {} before early stopping (patience {}, min-delta {})",
          mlpAtCap, mlp, settings.mlp().maxEpochs(), settings.mlp().patience(), settings.mlp().minDelta());
    }
    long betFt = r.isNullAt(6) ? 0 : r.getLong(6);
    if (betFt > 0) {
      BetFtSettings s = betFtSettings;
      long atCap = r.isNullAt(7) ? 0 : r.getLong(7);
      out.put("bet_ft_fits", betFt);
      // Reached max-epochs while the val loss was still improving.
      out.put("bet_ft_stopped_at_cap", atCap);
      // Kept the model's own head: no epoch beat it on val by more than min-delta.
      out.put("bet_ft_kept_own_head", r.isNullAt(8) ? 0L : r.getLong(8));
      out.put("bet_ft_most_epochs", r.isNullAt(9) ? 0 : r.getInt(9));
      out.put("bet_ft_max_epochs", s.maxEpochs());
      out.put("bet_ft_patience", s.patience());
      out.put("bet_ft_min_delta", s.minDelta());
      out.put("bet_ft_learning_rate", s.learningRate());
      out.put("bet_ft_batch_size", s.batchSize());
      LOG.info("BET-FT: {} fits, {} reached max-epochs = {} before early stopping, {} kept the model's own head",
          betFt, atCap, s.maxEpochs(), out.get("bet_ft_kept_own_head"));
    }
    long logistic = r.isNullAt(3) ? 0 : r.getLong(3);
    long notConverged = r.isNullAt(4) ? 0 : r.getLong(4);
    out.put("logistic_fits", logistic);
    out.put("logistic_not_converged", notConverged);
    out.put("logistic_max_iter", settings.linear().maxIter());
    LOG.info("Logistic probes (linear, context, combined): {} of {} did not converge within max-iter = {}",
        notConverged, logistic, settings.linear().maxIter());
    return out;
  }
}
