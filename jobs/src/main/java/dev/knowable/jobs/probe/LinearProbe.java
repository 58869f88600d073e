package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.col;

import dev.knowable.probe.ProbeSettings;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * Logistic-regression probes with Spark MLlib (L-BFGS, distributed over rows): the linear
 * probe on a hidden-state column, and the context baseline on one-hot token features.
 * No regularisation by default, as the reference has no weight decay. MLlib standardises
 * features internally while optimising, which changes the conditioning but not the
 * unregularised optimum; the returned coefficients are in the original feature space.
 */
public final class LinearProbe {
  /** Feature vector column of the rows given to {@link #fit} and {@link #score}. */
  public static final String FEATURES = "features";
  /** P(class 1) column added by {@link #score}. */
  public static final String SCORE = "score";

  private LinearProbe() {}

  /** An array&lt;float&gt; hidden state as an MLlib vector. */
  public static Column hiddenVector(String hiddenColumn) {
    return org.apache.spark.ml.functions.array_to_vector(
        col(hiddenColumn).cast(DataTypes.createArrayType(DataTypes.DoubleType)));
  }

  /**
   * @param rows a {@link #FEATURES} vector column and an int label column (0/1)
   */
  public static LogisticRegressionModel fit(Dataset<Row> rows, ProbeSettings.Linear settings) {
    return new LogisticRegression()
        .setFamily("binomial")
        .setMaxIter(settings.maxIter())
        .setRegParam(settings.regParam())
        .setElasticNetParam(0.0)
        .setFeaturesCol(FEATURES)
        .setLabelCol("label_value")
        .fit(rows.withColumn("label_value", col("label").cast(DataTypes.DoubleType)));
  }

  /** Adds {@link #SCORE} = P(class 1 | features) and drops MLlib's helper columns. */
  public static Dataset<Row> score(LogisticRegressionModel model, Dataset<Row> rows) {
    return model.setProbabilityCol("probe_probability").setRawPredictionCol("probe_raw")
        .setPredictionCol("probe_prediction").transform(rows)
        .withColumn(SCORE, org.apache.spark.ml.functions.vector_to_array(col("probe_probability"), "float64")
            .getItem(1))
        .drop("probe_probability", "probe_raw", "probe_prediction");
  }
}
