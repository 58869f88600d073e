package dev.knowable.jobs.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.tables.ProbeTables;

import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** probe_metrics rows of one probe, from hand-made scored rows (no Spark session needed). */
class ProbeMetricsFunctionTest {
  private static final StructType SCORED = new StructType().add("probe_kind", DataTypes.StringType)
      .add("layer", DataTypes.IntegerType).add("band", DataTypes.StringType).add("label_kind", DataTypes.StringType)
      .add("balance", DataTypes.StringType).add("train_domain", DataTypes.StringType).add("seed", DataTypes.IntegerType)
      .add("eval_domain", DataTypes.StringType).add("eval_split", DataTypes.StringType)
      .add("score", DataTypes.DoubleType).add("label", DataTypes.IntegerType).add("doc_id", DataTypes.StringType)
      .add("position", DataTypes.IntegerType);

  private static Row row(String kind, String split, double score, int label, String doc, int position) {
    return new GenericRowWithSchema(new Object[] {kind, null, "[2.0,inf)", "gap", "token", "code", 0, "code", split, score,
        label, doc, position}, SCORED);
  }

  private static final StructType METRICS = ProbeTables.schema(Table.PROBE_METRICS);

  /** The function's rows with the probe_metrics schema attached, so columns read by name. */
  private static List<Row> metrics(List<Row> rows) {
    Iterator<Row> it = new ProbeMetricsFunction("p", 50).call("k", rows.iterator());
    List<Row> out = new ArrayList<>();
    it.forEachRemaining(r -> {
      Object[] values = new Object[r.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = r.get(i);
      }
      out.add(new GenericRowWithSchema(values, METRICS));
    });
    return out;
  }

  @Test
  void betTakesItsThresholdFromValEvenWhenTestRunsTheOtherWay() {
    // Val: high entropy = class 1. Test: the opposite. BET's rule (threshold and direction)
    // comes from val, so on test it gets every row wrong; the oracle (best rule on test
    // itself) gets every row right; the AUC of test is 0 (scores ranked against the labels).
    List<Row> rows = new ArrayList<>();
    double[] val = {2.1, 2.2, 2.3, 3.1, 3.2, 3.3};
    int[] valY = {0, 0, 0, 1, 1, 1};
    for (int i = 0; i < val.length; i++) {
      rows.add(row("bet", "val", val[i], valY[i], "v" + i, 0));
    }
    for (int i = 0; i < val.length; i++) {
      rows.add(row("bet", "test", val[i], 1 - valY[i], "t" + i, 0));
    }
    List<Row> out = metrics(rows);
    Row test = out.stream().filter(r -> "test".equals(r.getAs("eval_split"))).findFirst().orElseThrow();
    Row v = out.stream().filter(r -> "val".equals(r.getAs("eval_split"))).findFirst().orElseThrow();
    assertThat(v.<Double>getAs("accuracy")).isEqualTo(1.0);
    assertThat(test.<Double>getAs("accuracy")).isEqualTo(0.0);
    assertThat(test.<Double>getAs("oracle_accuracy")).isEqualTo(1.0);
    assertThat(test.<Double>getAs("auc")).isEqualTo(0.0);
    assertThat(test.<Double>getAs("threshold")).isEqualTo(v.<Double>getAs("threshold"));
  }

  @Test
  void probesUseTheFixedHalfThresholdAndRowOrderDoesNotMatter() {
    List<Row> rows = new ArrayList<>();
    double[] p = {0.1, 0.4, 0.6, 0.9, 0.55, 0.45, 0.7, 0.2};
    int[] y = {0, 1, 1, 1, 0, 0, 1, 0};
    for (int i = 0; i < p.length; i++) {
      rows.add(row("linear", "test", p[i], y[i], "d" + (i / 2), i % 2));
    }
    Row m = metrics(rows).get(0);
    // Predicted 1 when p >= 0.5: rows 2, 3, 4, 6 -> correct 2, 3, 6 and 0, 5, 7 -> 6 of 8.
    assertThat(m.<Double>getAs("accuracy")).isEqualTo(6.0 / 8);
    // AUC by hand: positives {0.4, 0.6, 0.9, 0.7}, negatives {0.1, 0.55, 0.45, 0.2}: pairs won
    // 2 + 4 + 4 + 4 = 14 of 16.
    assertThat(m.<Double>getAs("auc")).isEqualTo(14.0 / 16);
    List<Row> reversed = new ArrayList<>(rows);
    java.util.Collections.reverse(reversed);
    assertThat(metrics(reversed).get(0)).isEqualTo(m);
  }
}
