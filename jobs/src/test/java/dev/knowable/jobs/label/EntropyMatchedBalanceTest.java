package dev.knowable.jobs.label;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.label.BalanceKey;
import dev.knowable.label.Balancing;
import dev.knowable.metrics.RocAuc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Entropy-matched balancing (docs/METHOD.md 5.3) on hand-built rows. */
class EntropyMatchedBalanceTest extends SparkTestBase {
  private static final StructType LABELLED = new StructType().add("doc_id", DataTypes.StringType)
      .add("position", DataTypes.IntegerType).add("split", DataTypes.StringType)
      .add("domain", DataTypes.StringType).add("band", DataTypes.StringType)
      .add("label_kind", DataTypes.StringType).add("token_id", DataTypes.IntegerType)
      .add("prev_token_id", DataTypes.IntegerType).add("small_entropy", DataTypes.FloatType)
      .add("label", DataTypes.IntegerType);

  private int next;

  private void add(List<Row> rows, String split, int token, float smallEntropy, int label) {
    rows.add(RowFactory.create("doc" + (next % 7), next++, split, "wiki", "[2.0,inf)", "gap", token, 1,
        smallEntropy, label));
  }

  /** Rows per "split t<token> b<bin> c<label>", bins computed in Java by {@link Balancing#entropyBin}. */
  private static Map<String, Long> cells(Dataset<Row> rows, double width) {
    Map<String, Long> out = new TreeMap<>();
    for (Row r : rows.select("split", "token_id", "small_entropy", "label").collectAsList()) {
      String key = r.getString(0) + " t" + r.getInt(1) + " b" + Balancing.entropyBin(r.getFloat(2), width) + " c"
          + r.getInt(3);
      out.merge(key, 1L, Long::sum);
    }
    return out;
  }

  @Test
  void handComputedCellsAreEqualisedJointlyInTokenAndEntropyBin() {
    List<Row> rows = new ArrayList<>();
    // Token 7, bins of 0.25 nats: bin 8 = [2.0, 2.25), bin 9 = [2.25, 2.5), bin 10 = [2.5, 2.75).
    add(rows, "train", 7, 2.05f, 0);
    add(rows, "train", 7, 2.10f, 0);
    add(rows, "train", 7, 2.20f, 1);   // (t7, b8): 2 vs 1 -> 1 and 1
    add(rows, "train", 7, 2.30f, 0);
    add(rows, "train", 7, 2.40f, 1);
    add(rows, "train", 7, 2.45f, 1);   // (t7, b9): 1 vs 2 -> 1 and 1
    add(rows, "train", 7, 2.60f, 1);   // (t7, b10): class 1 only -> dropped
    // Token 8: one row per class, as token balancing would keep, but in different bins -> dropped.
    add(rows, "train", 8, 3.00f, 0);
    add(rows, "train", 8, 3.30f, 1);
    // Token 11 on a bin edge: 2.25 is bin 9, the float just below it bin 8 -> dropped.
    add(rows, "train", 11, 2.25f, 0);
    add(rows, "train", 11, Math.nextDown(2.25f), 1);
    // Token 9: same bin -> kept.
    add(rows, "train", 9, 2.00f, 0);
    add(rows, "train", 9, 2.01f, 1);
    // Val is balanced apart: (t7, b8) holds one of each class there.
    add(rows, "val", 7, 2.05f, 0);
    add(rows, "val", 7, 2.10f, 1);
    Dataset<Row> labelled = spark.createDataFrame(rows, LABELLED);

    Dataset<Row> matched = ProbeExamples.balance(labelled, Balancing.ENTROPY_MATCHED, BalanceKey.CURRENT, 0.25, 4);
    Map<String, Long> expected = new TreeMap<>(Map.of(
        "train t7 b8 c0", 1L, "train t7 b8 c1", 1L,
        "train t7 b9 c0", 1L, "train t7 b9 c1", 1L,
        "train t9 b8 c0", 1L, "train t9 b8 c1", 1L,
        "val t7 b8 c0", 1L, "val t7 b8 c1", 1L));
    assertThat(cells(matched, 0.25)).isEqualTo(expected);
    assertThat(matched.select(ProbeExamplesTable.BALANCE).distinct().collectAsList())
        .extracting(r -> r.getString(0)).containsExactly("entropy_matched");
    assertThat(ProbeExamples.balance(labelled, Balancing.ENTROPY_MATCHED, BalanceKey.CURRENT, 0.25, 4)
        .orderBy("position").collectAsList()).as("seeded: the same rows again")
        .isEqualTo(matched.orderBy("position").collectAsList());
    // Within (t7, b8) of train the class-0 row kept is one of positions 0 and 1, chosen by the seed.
    assertThat(matched.filter("split = 'train' AND token_id = 7 AND label = 0 AND small_entropy < 2.25")
        .select("position").collectAsList()).extracting(r -> r.getInt(0)).hasSize(1).containsAnyOf(0, 1);
  }

  @Test
  void onMatchedRowsEntropyAndTokenNoLongerTellTheLabel() {
    // Labels driven by H_S and the token: before matching both separate the classes; after
    // it, any score that is a function of the token has AUC exactly 0.5 (every token holds
    // as many rows of each class) and H_S is at chance up to the bin width.
    Random random = new Random(21);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 6000; i++) {
      int token = random.nextInt(12);
      float h = (float) (2 + 3 * random.nextDouble());
      double m = 2.0 * (h - 3.5) + (token % 3 - 1) * 1.5;
      int label = random.nextDouble() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
      add(rows, "test", token, h, label);
    }
    Dataset<Row> labelled = spark.createDataFrame(rows, LABELLED);
    Dataset<Row> token = ProbeExamples.balance(labelled, Balancing.TOKEN, BalanceKey.CURRENT, 0.25, 1);
    Dataset<Row> matched = ProbeExamples.balance(labelled, Balancing.ENTROPY_MATCHED, BalanceKey.CURRENT, 0.25, 1);

    double betToken = aucOf(token, "small_entropy");
    double betMatched = aucOf(matched, "small_entropy");
    assertThat(betToken).as("H_S separates token-balanced rows").isGreaterThan(0.75);
    // Within a 0.25-nat bin the class-1 rows sit slightly higher: a small residual, not 0.5 exactly.
    assertThat(betMatched).as("BET on matched rows").isBetween(0.45, 0.55);
    assertThat(aucOf(matched, "token_id")).as("a function of the token on matched rows").isEqualTo(0.5);
    assertThat(matched.filter("label = 0").count()).isEqualTo(matched.filter("label = 1").count());
    Map<String, Long> cells = cells(matched, 0.25);
    cells.forEach((k, n) -> {
      String other = k.endsWith("c0") ? k.replace(" c0", " c1") : k.replace(" c1", " c0");
      assertThat(cells.get(other)).as("cell %s", k).isEqualTo(n);
    });
  }

  private static double aucOf(Dataset<Row> rows, String column) {
    List<Row> r = rows.select(column, "label").collectAsList();
    double[] s = new double[r.size()];
    int[] y = new int[r.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = ((Number) r.get(i).get(0)).doubleValue();
      y[i] = r.get(i).getInt(1);
    }
    return RocAuc.exact(s, y);
  }
}
