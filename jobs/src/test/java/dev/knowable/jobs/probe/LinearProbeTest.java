package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.SparkTestBase;
import dev.knowable.metrics.RocAuc;
import dev.knowable.probe.ProbeFeatureFixtures;
import dev.knowable.probe.ProbeSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class LinearProbeTest extends SparkTestBase {
  private static final StructType ROWS = new StructType()
      .add("hidden_l1", DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType);

  private static Dataset<Row> rows(int n, boolean separable, Random random) {
    int[] labels = new int[n];
    float[][] x = ProbeFeatureFixtures.features(n, labels, separable, random);
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Float> v = new ArrayList<>();
      for (float f : x[i]) {
        v.add(f);
      }
      out.add(RowFactory.create(v, labels[i]));
    }
    return spark.createDataFrame(out, ROWS);
  }

  private static double heldOutAuc(boolean separable, long seed) {
    Random random = new Random(seed);
    Dataset<Row> train = rows(1000, separable, random).select(
        LinearProbe.hiddenVector("hidden_l1").as(LinearProbe.FEATURES), org.apache.spark.sql.functions.col("label"));
    LogisticRegressionModel model = LinearProbe.fit(train, new ProbeSettings.Linear(50, 0.0));
    List<Row> scored = LinearProbe.score(model, rows(800, separable, random)
            .select(LinearProbe.hiddenVector("hidden_l1").as(LinearProbe.FEATURES),
                org.apache.spark.sql.functions.col("label")))
        .select("score", "label").collectAsList();
    double[] s = scored.stream().mapToDouble(r -> r.getDouble(0)).toArray();
    int[] y = scored.stream().mapToInt(r -> r.getInt(1)).toArray();
    return RocAuc.exact(s, y);
  }

  @Test
  void separableSetIsLearned() {
    assertThat(heldOutAuc(true, 1)).isGreaterThan(0.95);
  }

  @Test
  void shuffledLabelsStayAtChance() {
    assertThat(heldOutAuc(false, 2)).isBetween(0.4, 0.6);
  }
}
