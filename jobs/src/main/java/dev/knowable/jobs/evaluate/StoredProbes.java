package dev.knowable.jobs.evaluate;

import static org.apache.spark.sql.functions.col;

import dev.knowable.hidden.Half;
import dev.knowable.hidden.HiddenDtype;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.probe.ContextFeatures;
import dev.knowable.probe.MlpWeights;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * Scoring with a stored probe (a probe_models row) exactly as the probe stage scored it when it
 * evaluated the probe: linear and MLP probes on a hidden state, context and combined controls on
 * the last token ids. The probe stage (linear), the apply stage and the report use these, so a
 * stored probe gives the same numbers wherever it is applied.
 */
public final class StoredProbes {
  private StoredProbes() {}

  /** P(class 1) of a linear probe from its stored float weights, summed in double in input order. */
  public static double storedLinear(float[] w, float intercept, float[] x) {
    double margin = intercept;
    for (int i = 0; i < w.length; i++) {
      margin += (double) w[i] * x[i];
    }
    return 1.0 / (1.0 + Math.exp(-margin));
  }

  /** P(class 0) of the probe on an array&lt;float&gt; hidden state (probe_examples, fp32 small_scores). */
  public static UserDefinedFunction epistemicProbability(Row probe, String kind) {
    return epistemicProbability(probe, kind, HiddenDtype.FLOAT32);
  }

  /**
   * P(class 0) of the probe, from its stored weights (computed in double, like the probe
   * stage), on a hidden state stored as {@code dtype} (array&lt;float&gt;, or binary 16-bit
   * patterns); null where the hidden state is null.
   */
  public static UserDefinedFunction epistemicProbability(Row probe, String kind, HiddenDtype dtype) {
    float[] w1 = floats(probe.getList(probe.fieldIndex("w1")));
    float[] b1 = floats(probe.getList(probe.fieldIndex("b1")));
    if (kind.equals(ProbeTables.MLP)) {
      MlpWeights weights = new MlpWeights(probe.getAs("input_dim"), probe.getAs("hidden_dim"), w1, b1,
          floats(probe.getList(probe.fieldIndex("w2"))), floats(probe.getList(probe.fieldIndex("b2"))));
      // The probe stage's scorer: the same numbers, bit for bit.
      dev.knowable.probe.MlpScorer scorer = new dev.knowable.probe.MlpScorer(weights);
      return org.apache.spark.sql.functions.udf(
          (UDF1<Object, Double>) h -> h == null ? null
              : 1.0 - scorer.probabilityOfClass1(HiddenStates.floats(h, dtype)),
          DataTypes.DoubleType);
    }
    float intercept = b1[0];
    return org.apache.spark.sql.functions.udf(
        (UDF1<Object, Double>) h -> h == null ? null
            : 1.0 - storedLinear(w1, intercept, HiddenStates.floats(h, dtype)),
        DataTypes.DoubleType);
  }

  /** P(class 1) of a stored context-control logistic regression on the last k ids. */
  public static Column contextScore(Row model, int k) {
    float[] weights = floats(model.getList(model.fieldIndex("w1")));
    float intercept = model.<Float>getList(model.fieldIndex("b1")).get(0);
    // input_dim = k slots of (max token id + 2) features: the probe stage's exact one-hot layout.
    ContextFeatures encoder = new ContextFeatures(k, model.<Integer>getAs("input_dim") / k - 2);
    if (k > 2) {
      return org.apache.spark.sql.functions.udf((UDF1<scala.collection.Seq<Integer>, Double>) ids ->
          logistic(encoder.active(ints(ids)), weights, intercept), DataTypes.DoubleType)
          .apply(col(TokensTable.CONTEXT_IDS));
    }
    return org.apache.spark.sql.functions.udf((UDF2<Integer, Integer, Double>) (current, previous) ->
        logistic(encoder.active(current, previous == null ? -1 : previous), weights, intercept), DataTypes.DoubleType)
        .apply(col("token_id"), col("prev_token_id"));
  }

  /**
   * P(class 1) of a stored combined control: one-hot last k ids plus H_S, H_S^2 and
   * ln(1 + position), the dense features rounded to fp16 as the probe stage's rows hold them;
   * weights in the original feature space (the trainer undoes its standardisation).
   */
  public static Column combinedScore(Row model, int k) {
    float[] weights = floats(model.getList(model.fieldIndex("w1")));
    float intercept = model.<Float>getList(model.fieldIndex("b1")).get(0);
    int dense = 3;
    ContextFeatures encoder = new ContextFeatures(k, (weights.length - dense) / k - 2);
    int oneHotDim = encoder.size();
    return org.apache.spark.sql.functions.udf((UDF3<scala.collection.Seq<Integer>, Float, Integer, Double>)
        (ids, entropy, position) -> {
          double h = entropy;
          double[] x = {h, h * h, Math.log1p(position)};
          double margin = intercept;
          for (int j = 0; j < dense; j++) {
            margin += (double) weights[oneHotDim + j] * Half.fromFloat16(Half.toFloat16((float) x[j]));
          }
          return logistic(encoder.active(ints(ids)), weights, margin);
        }, DataTypes.DoubleType)
        .apply(col(TokensTable.CONTEXT_IDS), col("small_entropy"), col("position"));
  }

  /** The sigmoid of b plus the weights of the active one-hot features. */
  private static double logistic(int[] active, float[] w, double b) {
    double margin = b;
    for (int j : active) {
      margin += w[j];
    }
    return 1.0 / (1.0 + Math.exp(-margin));
  }

  private static int[] ints(scala.collection.Seq<Integer> ids) {
    int[] out = new int[ids.size()];
    for (int j = 0; j < out.length; j++) {
      out[j] = ids.apply(j);
    }
    return out;
  }

  private static float[] floats(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
