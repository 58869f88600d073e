package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.ScoreFixtures.Position;
import dev.knowable.jobs.ScoreFixtures;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.label.LabelStage;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.tables.Table;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** label -> probe end to end in local[2] on synthetic score tables written through RunTables. */
class LabelProbeStagesTest extends SparkTestBase {
  private static final List<String> DOMAINS = List.of("code", "wiki");
  private static final int DIM = 8;

  /**
   * Per domain 60 documents x 40 positions. A latent z decides the class (aleatoric when
   * z > 0); hidden_l2 holds z plus noise, so the label is partly predictable from it; about
   * 10% of positions fall in the gap and 10% below the band.
   */
  static List<Position> synthetic(long seed) {
    Random random = new Random(seed);
    List<Position> out = new ArrayList<>();
    for (String domain : DOMAINS) {
      for (int doc = 0; doc < 60; doc++) {
        String split = doc % 5 < 3 ? "train" : doc % 5 == 3 ? "val" : "test";
        int prev = -1;
        for (int pos = 0; pos < 40; pos++) {
          int token = random.nextInt(20);
          double z = random.nextGaussian();
          float hs = (float) (random.nextDouble() < 0.1 ? random.nextDouble() * 2 : 2 + random.nextDouble() * 2);
          float hl;
          double u = random.nextDouble();
          if (u < 0.1) {
            hl = 1.0f;
          } else if (z > 0) {
            hl = hs + (float) ((random.nextDouble() * 2 - 1) * 0.09);
          } else {
            hl = (float) (random.nextDouble() * 0.19);
          }
          float[] hidden = new float[DIM];
          for (int j = 0; j < DIM; j++) {
            hidden[j] = (float) random.nextGaussian();
          }
          hidden[0] += (float) (1.5 * z);
          out.add(new Position(domain + "-" + doc, domain, split, pos, token, prev, hs, hl, hidden));
          prev = token;
        }
      }
    }
    return out;
  }

  /** What the score stages record: both entropies over the same ids. */
  static final Map<String, Object> VOCAB = Map.of("vocab_limit", 50254);

  @Test
  void labelThenProbeWritesEveryCombination(@TempDir Path tmp) {
    KnowableConfig config = config(tmp, "label.bands=[\"2.0:inf\"]", "label.kinds=[gap]",
        "probe.seeds=2", "probe.mlp.hidden=16", "probe.mlp.max-epochs=4", "probe.mlp.learning-rate=0.01",
        "probe.linear.max-iter=30", "probe.context.ks=[1, 2]", "probe.bootstrap-resamples=20",
        "label.balance=[token]", "probe.combined.k=2");
    RunTables tables = new RunTables(spark, config);
    List<Position> positions = synthetic(17);
    tables.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"), VOCAB);
    tables.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"), VOCAB);

    new LabelStage().run(spark, config, tables);
    Dataset<Row> examples = tables.read(ProbeExamplesTable.TABLE, "label");
    assertThat(SparkSchemas.mismatches(ProbeExamplesTable.TABLE, examples.schema())).isEmpty();
    for (Row r : examples.groupBy("split", "domain").pivot("label").count().collectAsList()) {
      assertThat(r.getLong(2)).as("balanced classes in %s", r).isEqualTo(r.getLong(3)).isGreaterThan(20);
    }
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> counts = (List<Map<String, Object>>) tables.readManifest(ProbeExamplesTable.TABLE)
        .get("counts");
    assertThat(counts).extracting(m -> m.get("step")).contains("in_band", "token_identity_balanced",
        "class_balanced");

    new ProbeStage().run(spark, config, tables);
    for (Table t : List.of(Table.PROBE_METRICS, Table.PROBE_MODELS, Table.CROSS_DOMAIN,
        Table.PROBE_COMPARISONS)) {
      assertThat(SparkSchemas.mismatches(t, tables.read(t).schema())).as(t.tableName()).isEmpty();
    }
    List<Row> metrics = tables.read(Table.PROBE_METRICS).collectAsList();
    Set<String> seen = new HashSet<>();
    for (Row r : metrics) {
      seen.add(r.getAs("probe_kind") + "/" + r.getAs("train_domain") + "/" + r.getAs("eval_domain") + "/"
          + r.getAs("eval_split") + "/" + r.getAs("seed"));
      assertThat((Double) r.getAs("auc_ci_low")).isLessThanOrEqualTo(r.getAs("auc"));
      assertThat((Double) r.getAs("auc_ci_high")).isGreaterThanOrEqualTo(r.getAs("auc"));
    }
    List<String> domains = List.of("code", "wiki", "all");
    for (String kind : List.of("linear", "mlp", "bet", "context_k1", "context_k2", "combined_k2")) {
      for (String train : domains) {
        for (String eval : domains) {
          for (String split : List.of("val", "test")) {
            for (int seed : kind.equals("mlp") ? List.of(0, 1) : List.of(0)) {
              assertThat(seen).contains(kind + "/" + train + "/" + eval + "/" + split + "/" + seed);
            }
          }
        }
      }
    }
    assertThat(metrics).hasSize(7 * 3 * 3 * 2);
    // hidden_l2 carries z: the linear probe must see it in every domain.
    for (Row r : metrics) {
      if ("test".equals(r.getAs("eval_split")) && "linear".equals(r.getAs("probe_kind"))) {
        assertThat((Double) r.getAs("auc")).as("linear %s", r).isGreaterThan(0.8);
      }
    }
    assertThat(tables.read(Table.PROBE_MODELS).count()).isEqualTo(3 + 3 * 2 + 3 * 2 + 3);
    Map<String, Object> models = tables.readManifest(Table.PROBE_MODELS);
    // 4 epochs with patience 5 cannot stop early: every MLP fit reaches the cap, and says so.
    assertThat(((Number) models.get("mlp_fits")).longValue()).isEqualTo(6);
    assertThat(((Number) models.get("mlp_stopped_at_cap")).longValue()).isEqualTo(6);
    assertThat(tables.read(Table.PROBE_MODELS).filter("probe_kind = 'mlp' AND converged").count())
        .isZero();
    recomputeFromExamples(tables);
    assertThat(tables.read(Table.CROSS_DOMAIN).filter("probe_kind = 'mlp'").first()
        .<Long>getAs("n_seeds")).isEqualTo(2L);
    checkComparisons(tables);
  }

  /**
   * Independent recomputation from probe_examples on the driver (small test data): BET's
   * AUC is the AUC of H_S; the linear probe's AUC is that of its stored weights applied to
   * the test rows; the chosen penalty is one of the grid.
   */
  private static void recomputeFromExamples(RunTables tables) {
    List<Row> test = tables.read(ProbeExamplesTable.TABLE, "label").filter("split = 'test'")
        .select("small_entropy", "label", "hidden_l2").collectAsList();
    double[] hs = test.stream().mapToDouble(r -> r.getFloat(0)).toArray();
    int[] y = test.stream().mapToInt(r -> r.getInt(1)).toArray();
    Row bet = tables.read(Table.PROBE_METRICS).filter("probe_kind = 'bet' AND train_domain = 'all' "
        + "AND eval_domain = 'all' AND eval_split = 'test'").first();
    assertThat(bet.<Double>getAs("auc")).isCloseTo(dev.knowable.metrics.RocAuc.exact(hs, y),
        org.assertj.core.data.Offset.offset(1e-12));
    Row model = tables.read(Table.PROBE_MODELS).filter("probe_kind = 'linear' AND layer = 2 "
        + "AND train_domain = 'all'").first();
    List<Float> w = model.getList(model.fieldIndex("w1"));
    float b = model.<Float>getList(model.fieldIndex("b1")).get(0);
    double[] p = new double[test.size()];
    for (int i = 0; i < p.length; i++) {
      List<Float> x = test.get(i).getList(2);
      double m = b;
      for (int j = 0; j < x.size(); j++) {
        m += w.get(j) * x.get(j);
      }
      p[i] = 1 / (1 + Math.exp(-m));
    }
    Row linear = tables.read(Table.PROBE_METRICS).filter("probe_kind = 'linear' AND layer = 2 "
        + "AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'").first();
    // Weights are stored as floats: the ranking may move by a hair.
    assertThat(linear.<Double>getAs("auc")).isCloseTo(dev.knowable.metrics.RocAuc.exact(p, y),
        org.assertj.core.data.Offset.offset(2e-3));
    assertThat(model.<Double>getAs("reg_param")).isIn(1.0, 0.1, 0.01, 0.001, 0.0001);
    assertThat(model.<Long>getAs("n_val")).isPositive();
  }

  /**
   * Order independence: the same probe_examples delivered in another partitioning (other
   * file split, other shuffle partition count) give identical probe_metrics and
   * probe_models, bit for bit.
   */
  @Test
  void anotherPartitioningGivesIdenticalMetricsAndModels(@TempDir Path tmp) {
    // Both balancings (the default) and the combined control: order independence covers them too.
    String[] sets = {"label.bands=[\"2.0:inf\"]", "label.kinds=[gap]", "probe.seeds=1", "probe.mlp.hidden=8",
        "probe.mlp.max-epochs=2", "probe.mlp.learning-rate=0.01", "probe.linear.max-iter=30",
        "probe.context.ks=[1]", "probe.bootstrap-resamples=20", "probe.combined.k=1"};
    KnowableConfig a = config(tmp.resolve("a"), sets);
    RunTables ta = new RunTables(spark, a);
    List<Position> positions = synthetic(23);
    ta.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"), VOCAB);
    ta.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"), VOCAB);
    new LabelStage().run(spark, a, ta);
    new ProbeStage().run(spark, a, ta);

    KnowableConfig b = config(tmp.resolve("b"), sets);
    RunTables tb = new RunTables(spark, b);
    // The same rows, shuffled into 5 files in another order.
    tb.write(ProbeExamplesTable.TABLE, ta.read(ProbeExamplesTable.TABLE, "label").repartition(5,
        org.apache.spark.sql.functions.rand(99)), List.of(), Map.of());
    String before = spark.conf().get("spark.sql.shuffle.partitions");
    spark.conf().set("spark.sql.shuffle.partitions", "7");
    try {
      new ProbeStage().run(spark, b, tb);
    } finally {
      spark.conf().set("spark.sql.shuffle.partitions", before);
    }
    for (Table t : List.of(Table.PROBE_METRICS, Table.PROBE_MODELS, Table.PROBE_COMPARISONS)) {
      Dataset<Row> x = ta.read(t);
      Dataset<Row> y = tb.read(t).select(x.columns()[0],
          java.util.Arrays.copyOfRange(x.columns(), 1, x.columns().length));
      assertThat(x.count()).as(t.tableName()).isPositive();
      assertThat(x.exceptAll(y).count()).as("%s rows of run a missing from run b", t).isZero();
      assertThat(y.exceptAll(x).count()).as("%s rows of run b missing from run a", t).isZero();
    }
  }

  /**
   * probe_comparisons: every probe (linear, each MLP seed) against BET and against the
   * context control with the highest AUC on the same evaluation set; both AUCs equal the
   * metrics of the two on that set (the same rows), the difference is theirs.
   */
  private static void checkComparisons(RunTables tables) {
    tables.read(Table.PROBE_METRICS).createOrReplaceTempView("m");
    tables.read(Table.PROBE_COMPARISONS).createOrReplaceTempView("c");
    // 3 probes (linear, mlp x 2 seeds) x 3 baselines (bet, combined, best single context) x 3 train x 3 eval
    // domains x 2 splits.
    assertThat(sql("SELECT count(*) FROM c").get(0).getLong(0)).isEqualTo(3 * 3 * 3 * 3 * 2);
    assertThat(sql("SELECT count(*) FROM c JOIN m p ON p.probe_kind = c.probe_kind AND p.layer = c.layer "
        + "AND p.seed = c.seed AND p.band = c.band AND p.label_kind = c.label_kind "
        + "AND p.train_domain = c.train_domain AND p.eval_domain = c.eval_domain AND p.eval_split = c.eval_split "
        + "JOIN m b ON b.probe_kind = c.baseline_kind AND b.band = c.band AND b.label_kind = c.label_kind "
        + "AND b.train_domain = c.train_domain AND b.eval_domain = c.eval_domain AND b.eval_split = c.eval_split "
        + "WHERE c.auc = p.auc AND c.baseline_auc = b.auc AND abs(c.auc_difference - (p.auc - b.auc)) < 1e-12 "
        + "AND c.n_class0 = p.n_class0 AND c.n_class1 = p.n_class1").get(0).getLong(0))
        .as("every comparison matches the metrics of its probe and baseline").isEqualTo(3 * 3 * 3 * 3 * 2);
    assertThat(sql("SELECT count(*) FROM c WHERE c.baseline_kind LIKE 'context_k%' AND c.baseline_auc < "
        + "(SELECT max(auc) FROM m WHERE m.probe_kind LIKE 'context_k%' AND m.band = c.band "
        + "AND m.train_domain = c.train_domain AND m.eval_domain = c.eval_domain "
        + "AND m.eval_split = c.eval_split)").get(0).getLong(0)).as("the strongest context control").isZero();
    // hidden_l2 carries the label's signal; BET does not: the linear probe beats BET on the pooled test set.
    Row linear = sql("SELECT difference_ci_low, n_docs FROM c WHERE probe_kind = 'linear' AND baseline_kind = 'bet' "
        + "AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'").get(0);
    assertThat(linear.getDouble(0)).isPositive();
    assertThat(linear.getInt(1)).isGreaterThan(1);
  }

  @Test
  void refusesScoresOverDifferentVocabularies(@TempDir Path tmp) {
    KnowableConfig config = config(tmp, "label.bands=[\"2.0:inf\"]");
    RunTables tables = new RunTables(spark, config);
    List<Position> positions = synthetic(5).subList(0, 200);
    tables.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"), VOCAB);
    tables.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"),
        Map.of("vocab_limit", 50277));
    assertThatThrownBy(() -> new LabelStage().run(spark, config, tables))
        .hasMessageContaining("vocab_limit 50254 ids but large_scores over 50277");
    assertThat(tables.isCommitted(ProbeExamplesTable.TABLE)).isFalse();
    assertThat(tables.isCommitted("small_scores")).as("committed inputs are kept").isTrue();
  }

  @Test
  void refusesToPublishAnEmptyTable(@TempDir Path tmp) {
    KnowableConfig config = config(tmp, "label.bands=[\"4.5:inf\"]");
    RunTables tables = new RunTables(spark, config);
    List<Position> positions = synthetic(3).subList(0, 400);
    tables.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"), VOCAB);
    tables.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"), VOCAB);
    assertThatThrownBy(() -> new LabelStage().run(spark, config, tables))
        .hasMessageContaining("No probe examples survive").hasMessageContaining("[4.5,inf)");
    assertThat(tables.isCommitted(ProbeExamplesTable.TABLE)).isFalse();
  }
}
