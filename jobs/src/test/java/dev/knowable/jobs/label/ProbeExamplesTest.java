package dev.knowable.jobs.label;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.ScoreFixtures;
import dev.knowable.jobs.ScoreFixtures.Position;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.label.BalanceKey;
import dev.knowable.label.Band;
import dev.knowable.label.GapLabeler;
import dev.knowable.label.LabelKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ProbeExamplesTest extends SparkTestBase {
  private static final GapLabeler PAPER = new GapLabeler(0.2, 0.1, 0.5);

  private static Position at(int position, float smallEntropy, float largeEntropy) {
    return new Position("d1", "wiki", "train", position, 5, 4, smallEntropy, largeEntropy, null);
  }

  @Test
  void labelsPerBandWithTiesAndAnEmptyBand() {
    List<Position> positions = List.of(
        at(0, 2.0f, 0.1f),                  // H_S on the band's lower bound: in [2,inf), class 0
        at(1, 2.5f, 0.2f),                  // H_L = 0.2 is not < 0.2: gap
        at(2, 2.25f, 2.25f + 0.1f),         // |H_L - H_S| = 0.1 (fp32): class 1
        at(3, Math.nextDown(2.0f), 0.0f),   // just below 2: band [1,2) only
        at(4, 0.5f, 0.0f),                  // below every band
        at(5, 3.0f, 1.0f));                 // gap, but no-gap label 1
    List<Band> bands = List.of(Band.Spec.parse("2:inf", Band.Unit.NATS).toBand(),
        Band.Spec.parse("5:6", Band.Unit.NATS).toBand(), Band.Spec.parse("1:2", Band.Unit.NATS).toBand());
    Dataset<Row> labelled = ProbeExamples.label(ProbeExamples.joinScores(ScoreFixtures.small(spark, positions),
        ScoreFixtures.large(spark, positions), bands), bands, List.of(LabelKind.GAP, LabelKind.NO_GAP), PAPER);
    Map<String, Integer> got = new TreeMap<>();
    for (Row r : labelled.collectAsList()) {
      got.put(r.getAs("position") + " " + r.getAs("band") + " " + r.getAs("label_kind"), r.getAs("label"));
    }
    Map<String, Integer> expected = new TreeMap<>(Map.of(
        "0 [2.0,inf) gap", 0, "0 [2.0,inf) no_gap", 0,
        "1 [2.0,inf) gap", -1, "1 [2.0,inf) no_gap", 0,
        "2 [2.0,inf) gap", 1, "2 [2.0,inf) no_gap", 1,
        "3 [1.0,2.0) gap", 0, "3 [1.0,2.0) no_gap", 0,
        "5 [2.0,inf) gap", -1, "5 [2.0,inf) no_gap", 1));
    assertThat(got).as("one row per (position, band containing H_S, kind); the band [5,6) is empty")
        .isEqualTo(expected);
    assertThat(ProbeExamples.dropGap(labelled).count()).isEqualTo(8);
  }

  private static final StructType LABELLED = new StructType().add("doc_id", DataTypes.StringType)
      .add("position", DataTypes.IntegerType).add("split", DataTypes.StringType)
      .add("domain", DataTypes.StringType).add("band", DataTypes.StringType)
      .add("label_kind", DataTypes.StringType).add("token_id", DataTypes.IntegerType)
      .add("prev_token_id", DataTypes.IntegerType).add("label", DataTypes.IntegerType);

  private static int nextPosition;

  private static void add(List<Row> rows, String split, int prev, int token, int label, int times) {
    for (int i = 0; i < times; i++) {
      rows.add(RowFactory.create("doc", nextPosition++, split, "wiki", "[2.0,inf)", "gap", token, prev, label));
    }
  }

  private static Map<String, Long> countsByTokenAndLabel(Dataset<Row> rows) {
    Map<String, Long> out = new TreeMap<>();
    for (Row r : rows.groupBy("split", "token_id", "label").count().collectAsList()) {
      out.put(r.getString(0) + " t" + r.getInt(1) + " c" + r.getInt(2), r.getLong(3));
    }
    return out;
  }

  @Test
  void tokenIdentityBalancingThenClassBalancing() {
    List<Row> rows = new ArrayList<>();
    add(rows, "train", 1, 7, 0, 2);
    add(rows, "train", 2, 7, 1, 2);   // t7: 2 vs 2 -> every occurrence kept
    add(rows, "train", 1, 8, 0, 3);   // t8: class 0 only -> dropped
    add(rows, "train", 1, 9, 0, 1);
    add(rows, "train", 1, 9, 1, 1);   // t9: 1 vs 1 -> kept
    add(rows, "train", 1, 10, 1, 1);
    add(rows, "train", 1, 10, 0, 4);  // t10: class 1 kept, class 0 kept with probability 1/4
    add(rows, "val", 1, 8, 1, 2);     // t8 in val, class 1 only: balanced separately per split -> dropped
    Dataset<Row> labelled = spark.createDataFrame(rows, LABELLED);

    Dataset<Row> balanced = ProbeExamples.tokenIdentityBalance(labelled, BalanceKey.CURRENT, 3);
    Map<String, Long> counts = countsByTokenAndLabel(balanced);
    assertThat(counts).containsEntry("train t7 c0", 2L).containsEntry("train t7 c1", 2L)
        .containsEntry("train t9 c0", 1L).containsEntry("train t9 c1", 1L).containsEntry("train t10 c1", 1L)
        .doesNotContainKeys("train t8 c0", "val t8 c1");
    long t10Class0 = counts.getOrDefault("train t10 c0", 0L);
    assertThat(countsByTokenAndLabel(ProbeExamples.tokenIdentityBalance(labelled, BalanceKey.CURRENT, 3)))
        .as("seeded: the same rows again").isEqualTo(counts);

    // Class balancing: class 1 has 4 rows (t7 x2, t9, t10), class 0 has 3 + t10Class0.
    Dataset<Row> classBalanced = ProbeExamples.classBalance(balanced, 3);
    long n0 = classBalanced.filter("label = 0").count();
    long n1 = classBalanced.filter("label = 1").count();
    assertThat(n0).isEqualTo(n1).isEqualTo(Math.min(4, 3 + t10Class0));
    assertThat(ProbeExamples.classBalance(balanced, 3).orderBy("position").collectAsList())
        .isEqualTo(classBalanced.orderBy("position").collectAsList());

    List<Map<String, Object>> manifestCounts = ProbeExamples.classCounts(classBalanced, "class_balanced");
    assertThat(manifestCounts).hasSize(1);
    assertThat(manifestCounts.get(0)).containsEntry("split", "train").containsEntry("n_class0", n0)
        .containsEntry("n_class1", n1);
  }

  @Test
  void keepProbabilityIsTheClassRatioAndDoesNotDependOnPartitioning() {
    // t11: 1,000 class-1 and 4,000 class-0 rows: every class-1 row is kept, each class-0 row
    // with probability 1/4. Binomial(4000, 1/4): mean 1,000, sd 27.4; 4 sd either side
    // fails a wrong rate (1/3 would give 1,333, 1/5 would give 800).
    List<Row> rows = new ArrayList<>();
    add(rows, "train", 1, 11, 1, 1000);
    add(rows, "train", 1, 11, 0, 4000);
    Dataset<Row> labelled = spark.createDataFrame(rows, LABELLED);
    Dataset<Row> balanced = ProbeExamples.tokenIdentityBalance(labelled, BalanceKey.CURRENT, 5);
    Map<String, Long> counts = countsByTokenAndLabel(balanced);
    assertThat(counts).containsEntry("train t11 c1", 1000L);
    assertThat(counts.get("train t11 c0")).isBetween(1000L - 110, 1000L + 110);
    // The same rows in another partitioning: the same rows kept (the keep draw hashes the
    // row's identity, not its place in a partition).
    Dataset<Row> shuffled = ProbeExamples.tokenIdentityBalance(
        labelled.repartition(7, org.apache.spark.sql.functions.rand(1)), BalanceKey.CURRENT, 5);
    assertThat(balanced.exceptAll(shuffled).count()).isZero();
    assertThat(shuffled.exceptAll(balanced).count()).isZero();
    Dataset<Row> classA = ProbeExamples.classBalance(balanced, 5);
    Dataset<Row> classB = ProbeExamples.classBalance(shuffled.repartition(3), 5);
    assertThat(classA.count()).isPositive();
    assertThat(classA.exceptAll(classB).count()).isZero();
    assertThat(classB.exceptAll(classA).count()).isZero();
  }

  @Test
  void previousCurrentPairKey() {
    List<Row> rows = new ArrayList<>();
    add(rows, "train", 1, 7, 0, 1);
    add(rows, "train", 2, 7, 1, 1);   // current id 7 balanced, but each (prev, current) pair is in one class only
    add(rows, "train", 3, 9, 0, 1);
    add(rows, "train", 3, 9, 1, 1);
    Dataset<Row> labelled = spark.createDataFrame(rows, LABELLED);
    assertThat(ProbeExamples.tokenIdentityBalance(labelled, BalanceKey.CURRENT, 0).count()).isEqualTo(4);
    assertThat(countsByTokenAndLabel(ProbeExamples.tokenIdentityBalance(labelled, BalanceKey.PREV_CURRENT, 0)))
        .containsOnlyKeys("train t9 c0", "train t9 c1");
  }

  @Test
  void quantileBandsUseTheTrainSplitsEntropyDistribution() {
    List<Position> positions = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      positions.add(at(i, i / 10f, 0f));
      // Held-out positions with very different entropies must not move the edges.
      positions.add(new Position("d2", "wiki", i % 2 == 0 ? "val" : "test", i, 5, 4, 50f + i, 0f, null));
    }
    List<Band> bands = ProbeExamples.resolveBands(List.of(Band.Spec.parse("0.5:1", Band.Unit.QUANTILE),
        Band.Spec.parse("2:3", Band.Unit.NATS)), ScoreFixtures.small(spark, positions));
    assertThat(bands.get(0).minNats()).isEqualTo(4.9f, org.assertj.core.api.Assertions.within(0.11));
    assertThat(bands.get(0).maxNats()).isInfinite();
    assertThat(bands.get(1)).isEqualTo(new Band("[2.0,3.0)", 2.0, 3.0));
  }
}
