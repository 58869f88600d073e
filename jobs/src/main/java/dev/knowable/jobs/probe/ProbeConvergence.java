package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

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
 * and logistic fits (linear, context, combined) whose L-BFGS did not converge.
 */
final class ProbeConvergence {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeConvergence.class);

  private ProbeConvergence() {}

  static Map<String, Object> counts(Dataset<Row> fits, ProbeSettings settings) {
    var isMlp = col("probe_kind").equalTo(ProbeTables.MLP);
    Row r = fits.agg(sum(when(isMlp, 1L).otherwise(0L)),
            sum(when(isMlp.and(not(col("converged"))), 1L).otherwise(0L)),
            sum(when(isMlp.and(col("best_epoch").equalTo(col("epochs_run"))), 1L).otherwise(0L)),
            sum(when(not(isMlp), 1L).otherwise(0L)),
            sum(when(not(isMlp).and(not(col("converged"))), 1L).otherwise(0L)),
            count(lit(1)))
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
