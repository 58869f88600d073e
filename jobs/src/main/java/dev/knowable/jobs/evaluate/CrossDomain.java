package dev.knowable.jobs.evaluate;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.stddev_samp;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The cross-domain rule, stated once: test AUC of every probe configuration (probe identity
 * without the seed, train domain x eval domain) summarised over its seeds. The probe stage's
 * cross_domain and the aggregate stage's agg_cross_domain (and the report) are this, each
 * keeping its documented columns.
 */
public final class CrossDomain {
  /** One probe configuration and evaluation domain: the probe identity without the seed. */
  public static final List<String> KEY = List.of("model_pair", "probe_kind", "layer", "band", "label_kind", "balance",
      "train_domain", "eval_domain");

  /** The columns naming a run where the rows of several runs are summarised (agg_cross_domain, the report). */
  public static final List<String> RUN_KEYS = List.of("source_run_id", "config_fingerprint");

  private CrossDomain() {}

  /**
   * The test rows of probe_metrics-shaped {@code metrics} grouped by {@code runKeys} (columns
   * naming the run, e.g. source_run_id; none within one run) and {@link #KEY}: n_seeds,
   * auc_mean, auc_std, auc_min, auc_max, auc_ci_low and auc_ci_high (means of the seeds'
   * bounds), accuracy_mean, n_class0 and n_class1 (the largest over seeds).
   */
  public static Dataset<Row> overSeeds(Dataset<Row> metrics, List<String> runKeys) {
    List<Column> keys = new ArrayList<>();
    runKeys.forEach(k -> keys.add(col(k)));
    KEY.forEach(k -> keys.add(col(k)));
    return metrics.filter(col("eval_split").equalTo("test"))
        .groupBy(keys.toArray(new Column[0]))
        .agg(count(lit(1)).as("n_seeds"), avg("auc").as("auc_mean"), stddev_samp("auc").as("auc_std"),
            min("auc").as("auc_min"), max("auc").as("auc_max"), avg("auc_ci_low").as("auc_ci_low"),
            avg("auc_ci_high").as("auc_ci_high"), avg("accuracy").as("accuracy_mean"),
            max("n_class0").as("n_class0"), max("n_class1").as("n_class1"));
  }
}
