package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.knowable.jobs.SparkTestBase;
import dev.knowable.probe.LogisticProbeTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The project's logistic regression against an independent implementation of the same
 * objective: Spark MLlib's LogisticRegression with standardization on minimises the mean
 * log-loss plus regParam/2 times the squared norm of the standardised coefficients.
 */
class LogisticVsMllibTest extends SparkTestBase {

  @Test
  void sameCoefficientsAsMllibForEachPenalty() {
    Random random = new Random(12);
    int n = 600;
    int d = 5;
    float[][] x = new float[n][d];
    int[] y = new int[n];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double m = -0.5;
      double[] v = new double[d];
      for (int j = 0; j < d; j++) {
        x[i][j] = (float) (random.nextGaussian() * (1 + j) + 2 * j);
        v[j] = x[i][j];
        m += (j == 0 ? 1.2 : j == 3 ? -0.4 : 0.05) * (x[i][j] - 2 * j) / (1 + j);
      }
      y[i] = random.nextDouble() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
      rows.add(RowFactory.create(Vectors.dense(v), (double) y[i]));
    }
    Dataset<Row> data = spark.createDataFrame(rows,
        new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType));
    for (double lambda : new double[] {0.1, 0.01, 0.0001}) {
      LogisticRegressionModel mllib = new LogisticRegression().setFamily("binomial").setRegParam(lambda)
          .setElasticNetParam(0).setStandardization(true).setMaxIter(1000).setTol(1e-12).fit(data);
      LogisticProbeTrainer.Fit ours = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0],
          new double[] {lambda}, 1000, 1e-10);
      double[] c = mllib.coefficients().toArray();
      for (int j = 0; j < d; j++) {
        assertThat(ours.weights()[j]).as("lambda %s w_%d", lambda, j).isCloseTo(c[j], offset(1e-4));
      }
      assertThat(ours.intercept()).as("lambda %s intercept", lambda).isCloseTo(mllib.intercept(), offset(1e-4));
    }
  }

  /**
   * The combined control (one-hot ids plus standardised dense features) against MLlib with
   * standardization off on the same design built here: one-hot columns as they are, the
   * dense columns standardised with the train mean and sample standard deviation. The
   * objectives are then identical, so probabilities and (rescaled) weights must agree.
   */
  @Test
  void combinedControlMatchesMllibOnTheSameDesign() {
    Random random = new Random(33);
    int n = 800;
    int oneHotDim = 10;
    int[][] active = new int[n][];
    float[][] dense = new float[n][];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      int a = random.nextInt(5);
      int b = 5 + random.nextInt(5);
      float h = (float) (2 + 3 * random.nextDouble());
      int position = random.nextInt(500);
      active[i] = new int[] {a, b};
      dense[i] = new float[] {h, h * h, (float) Math.log1p(position)};
      double m = 0.8 * (h - 3.5) + (a == 2 ? 1.0 : 0) - (b == 7 ? 0.7 : 0) + 0.1 * Math.log1p(position) - 0.5;
      y[i] = random.nextDouble() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
    }
    double[] mean = new double[3];
    double[] sd = new double[3];
    for (float[] d : dense) {
      for (int j = 0; j < 3; j++) {
        mean[j] += d[j] / n;
      }
    }
    for (float[] d : dense) {
      for (int j = 0; j < 3; j++) {
        sd[j] += (d[j] - mean[j]) * (d[j] - mean[j]) / (n - 1);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] v = new double[oneHotDim + 3];
      for (int j : active[i]) {
        v[j] = 1;
      }
      for (int j = 0; j < 3; j++) {
        v[oneHotDim + j] = (dense[i][j] - mean[j]) / Math.sqrt(sd[j]);
      }
      rows.add(RowFactory.create(Vectors.dense(v), (double) y[i]));
    }
    Dataset<Row> data = spark.createDataFrame(rows,
        new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType));
    for (double lambda : new double[] {0.1, 0.001}) {
      LogisticRegressionModel mllib = new LogisticRegression().setFamily("binomial").setRegParam(lambda)
          .setElasticNetParam(0).setStandardization(false).setMaxIter(1000).setTol(1e-12).fit(data);
      LogisticProbeTrainer.Fit ours = LogisticProbeTrainer.trainMixed(active, dense, y, new int[0][],
          new float[0][], new int[0], oneHotDim, new double[] {lambda}, 1000, 1e-10);
      double[] c = mllib.coefficients().toArray();
      for (int j = 0; j < oneHotDim; j++) {
        assertThat(ours.weights()[j]).as("lambda %s one-hot w_%d", lambda, j).isCloseTo(c[j], offset(1e-4));
      }
      for (int j = 0; j < 3; j++) {
        assertThat(ours.weights()[oneHotDim + j] * Math.sqrt(sd[j])).as("lambda %s dense w_%d", lambda, j)
            .isCloseTo(c[oneHotDim + j], offset(1e-4));
      }
      for (int i = 0; i < 20; i++) {
        double[] v = ((org.apache.spark.ml.linalg.Vector) rows.get(i).get(0)).toArray();
        double m = mllib.intercept();
        for (int j = 0; j < v.length; j++) {
          m += v[j] * c[j];
        }
        double theirs = 1 / (1 + Math.exp(-m));
        assertThat(LogisticProbeTrainer.mixedProbability(ours, oneHotDim, active[i], dense[i]))
            .as("lambda %s row %d", lambda, i).isCloseTo(theirs, offset(1e-5));
      }
    }
  }

  @Test
  void noProbeTrainsOnTestRows() {
    // Two domains, every split; the rows handed to the probe tasks as "fit" must be train
    // or val rows of the probe's train domain (or of any domain for "all"), never test rows.
    List<Row> rows = new ArrayList<>();
    String[] splits = {"train", "val", "test"};
    for (String domain : List.of("a", "b")) {
      for (int i = 0; i < 30; i++) {
        rows.add(RowFactory.create("[2.0,inf)", "gap", domain, splits[i % 3], i % 2, new float[] {i, 1},
            i % 7, i % 5 == 0 ? null : i % 3, domain + i, i, 2f + i % 4, "token"));
      }
    }
    StructType schema = new StructType().add("band", DataTypes.StringType).add("label_kind", DataTypes.StringType)
        .add("domain", DataTypes.StringType).add("split", DataTypes.StringType).add("label", DataTypes.IntegerType)
        .add("hidden_l2", DataTypes.createArrayType(DataTypes.FloatType)).add("token_id", DataTypes.IntegerType)
        .add("prev_token_id", DataTypes.IntegerType).add("doc_id", DataTypes.StringType)
        .add("position", DataTypes.IntegerType).add("small_entropy", DataTypes.FloatType)
        .add("balance", DataTypes.StringType);
    Dataset<Row> examples = spark.createDataFrame(rows, schema);
    dev.knowable.probe.ProbeSettings settings = dev.knowable.probe.ProbeSettings.from(
        config("probe.seeds=2", "probe.context.ks=[1, 2]", "probe.combined.k=2").raw());
    Dataset<Row> fit = ProbeStage.fitRows(spark, examples, List.of("hidden_l2"), List.of("a", "b", "all"), settings);
    fit.createOrReplaceTempView("fit_rows");
    assertThat(sql("SELECT count(*) FROM fit_rows WHERE role = 'fit' AND split = 'test'").get(0).getLong(0))
        .isZero();
    assertThat(sql("SELECT count(*) FROM fit_rows WHERE role = 'fit' AND train_domain <> 'all' "
        + "AND train_domain <> domain").get(0).getLong(0)).isZero();
    // Per probe (linear, mlp x 2 seeds, context_k1, context_k2, combined_k2 = 6) and train domain (3):
    // fit rows = train + val rows of the domain (20 each; 40 for all); eval rows = all 20 val/test... x2 domains.
    assertThat(sql("SELECT count(*) FROM fit_rows WHERE role = 'fit'").get(0).getLong(0))
        .isEqualTo(6L * (20 + 20 + 40));
    assertThat(sql("SELECT count(*) FROM fit_rows WHERE role = 'eval'").get(0).getLong(0))
        .isEqualTo(6L * 3 * 40);
    assertThat(sql("SELECT count(DISTINCT probe_kind, seed) FROM fit_rows").get(0).getLong(0)).isEqualTo(6);
    // The combined control's dense features: H_S, H_S^2, ln(1 + position).
    // Position 7 has H_S = 2 + 7 % 4 = 5.
    Row combined = sql("SELECT features FROM fit_rows WHERE probe_kind = 'combined_k2' AND position = 7 LIMIT 1")
        .get(0);
    // They cross the shuffle as fp16 bytes like the hidden states: 5 and 25 exactly, ln 8 rounded to fp16.
    float ln8 = dev.knowable.hidden.Half.fromFloat16(dev.knowable.hidden.Half.toFloat16((float) Math.log(8)));
    assertThat(dev.knowable.hidden.HiddenDtype.FLOAT16.decodeBytes((byte[]) combined.get(0)))
        .containsExactly(5f, 25f, ln8);
    assertThat((double) ln8).isCloseTo(Math.log(8), org.assertj.core.data.Offset.offset(1e-3));
  }
}
