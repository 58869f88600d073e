package dev.knowable.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.report.ReportData.Density;
import dev.knowable.jobs.report.ReportData.Difference;
import dev.knowable.jobs.report.ReportData.Iclt;
import dev.knowable.jobs.report.ReportData.IcltHistogram;
import dev.knowable.jobs.report.ReportData.ProbeAuc;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.label.Band;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each report query on tiny hand-made tables: the aggregates it collects, computed by hand. */
class ReportQueriesTest extends SparkTestBase {
  private static final String BAND = "[2.0,inf)";
  private static final String ALL = ReportData.POOLED;

  /** A row of {@code table}'s schema: the given columns, every other one a neutral value of its type. */
  private static Row row(StructType schema, Map<String, Object> values) {
    Object[] out = new Object[schema.size()];
    int i = 0;
    for (StructField f : schema.fields()) {
      out[i++] = values.containsKey(f.name()) ? values.get(f.name()) : neutral(f);
    }
    return RowFactory.create(out);
  }

  private static Object neutral(StructField f) {
    if (f.dataType() instanceof ArrayType) {
      return List.of();
    }
    return switch (f.dataType().typeName()) {
      case "integer" -> 0;
      case "long" -> 0L;
      case "double" -> 0.0;
      case "float" -> 0f;
      default -> "x";
    };
  }

  private static void write(RunTables tables, String table, List<Map<String, Object>> rows) {
    StructType schema = SparkSchemas.of(table);
    List<Row> out = new ArrayList<>();
    rows.forEach(r -> out.add(row(schema, r)));
    tables.write(table, spark.createDataFrame(out, schema), List.of(), Map.of());
  }

  private static Map<String, Object> metric(String kind, Integer layer, String split, int seed, double auc,
      double low, double high, long n0) {
    java.util.HashMap<String, Object> m = new java.util.HashMap<>(Map.of("probe_kind", kind, "band", BAND,
        "label_kind", "gap", "balance", "token", "train_domain", ALL, "eval_domain", ALL, "eval_split", split,
        "seed", seed, "auc", auc, "n_class0", n0));
    m.put("layer", layer);
    m.put("auc_ci_low", low);
    m.put("auc_ci_high", high);
    m.put("n_class1", 5L);
    return m;
  }

  @Test
  void probeAucsSummariseEachConfigurationOverItsTestSeeds(@TempDir Path tmp) {
    RunTables tables = new RunTables(spark, config(tmp));
    write(tables, "probe_metrics", List.of(metric("mlp", 2, "test", 1, 0.7, 0.6, 0.8, 10),
        metric("mlp", 2, "test", 2, 0.8, 0.7, 0.9, 12), metric("mlp", 2, "val", 1, 0.1, 0.0, 0.2, 99),
        metric("bet", null, "test", 1, 0.6, 0.55, 0.65, 10)));
    List<ProbeAuc> aucs = new ReportQueries(spark, tables, "test").probeAucs().stream()
        .sorted(Comparator.comparing(ProbeAuc::probeKind)).toList();
    assertThat(aucs).hasSize(2);
    ProbeAuc bet = aucs.get(0);
    assertThat(bet.layer()).isNull();
    assertThat(bet.seeds()).isEqualTo(1);
    assertThat(bet.aucStd()).isNull(); // one seed: no standard deviation
    assertThat(bet.std()).isZero();
    ProbeAuc mlp = aucs.get(1);
    assertThat(mlp.layer()).isEqualTo(2);
    assertThat(mlp.seeds()).isEqualTo(2); // the val row is not a seed
    assertThat(mlp.auc()).isCloseTo(0.75, within(1e-12));
    assertThat(mlp.aucStd()).isCloseTo(Math.sqrt(0.005), within(1e-12));
    assertThat(mlp.ciLow()).isCloseTo(0.65, within(1e-12));
    assertThat(mlp.ciHigh()).isCloseTo(0.85, within(1e-12));
    assertThat(mlp.nClass0()).isEqualTo(12); // the largest over seeds
    assertThat(mlp.pooled(BAND, "gap")).isTrue();
  }

  private static Map<String, Object> comparison(String train, String split, String balance, int seed,
      String baseline, double difference) {
    return Map.ofEntries(Map.entry("probe_kind", "mlp"), Map.entry("layer", 2), Map.entry("seed", seed),
        Map.entry("baseline_kind", baseline), Map.entry("band", BAND), Map.entry("label_kind", "gap"),
        Map.entry("balance", balance), Map.entry("train_domain", train), Map.entry("eval_domain", ALL),
        Map.entry("eval_split", split), Map.entry("auc_difference", difference),
        Map.entry("difference_ci_low", difference - 0.1), Map.entry("difference_ci_high", difference + 0.1));
  }

  @Test
  void differencesArePooledTestRowsOfTheReportedBalancings(@TempDir Path tmp) {
    RunTables tables = new RunTables(spark, config(tmp));
    ReportQueries queries = new ReportQueries(spark, tables, "test");
    assertThat(queries.differences(BAND, "gap", List.of("token"))).isEmpty(); // no probe_comparisons yet
    write(tables, "probe_comparisons", List.of(comparison(ALL, "test", "token", 2, "bet", 0.3),
        comparison(ALL, "test", "token", 1, "bet", 0.2), comparison(ALL, "test", "token", 1, "combined_k4", -0.05),
        comparison("news", "test", "token", 1, "bet", 0.9), comparison(ALL, "val", "token", 1, "bet", 0.8),
        comparison(ALL, "test", "none", 1, "bet", 0.7)));
    List<Difference> rows = queries.differences(BAND, "gap", List.of("token"));
    // Ordered by probe, baseline and seed: the query keeps every seed, ReportData the lowest.
    assertThat(rows).extracting(d -> d.baseline() + " " + d.seed() + " " + d.difference())
        .containsExactly("bet 1 0.2", "bet 2 0.3", "combined_k4 1 -0.05");
    assertThat(ReportData.differences(rows, List.of("token"))).extracting(d -> d.baseline() + " " + d.seed())
        .containsExactly("combined_k4 1", "bet 1");
    assertThat(rows.get(0).low()).isCloseTo(0.1, within(1e-12));
  }

  /** A pooled gap-label test row of probe_comparisons against combined_k4, with {@code change} applied. */
  private static Map<String, Object> paired(String kind, int layer, int seed, String balance, double difference,
      double low, double high, long n, Map<String, Object> change) {
    Map<String, Object> m = new java.util.HashMap<>(comparison(ALL, "test", balance, seed, "combined_k4",
        difference));
    m.putAll(Map.of("probe_kind", kind, "layer", layer, "difference_ci_low", low, "difference_ci_high", high,
        "n_class0", n, "n_class1", n + 1));
    m.putAll(change);
    return m;
  }

  /** A RunTables whose output root is {@code root}, labelled with the given thresholds. */
  private static RunTables cell(Path tmp, Path root, String runId, double cut, double gap) {
    return new RunTables(spark, config(tmp, "run-id=" + runId, "output=\"" + root + "\"",
        "label.epistemic-max-large-entropy=" + cut, "label.aleatoric-max-gap=" + gap));
  }

  @Test
  void theSweepAggregatesEachCellAsTheSweepScriptDoesWithThresholdsFromItsManifest(@TempDir Path tmp)
      throws java.io.IOException {
    Path out = tmp.resolve("out");
    RunTables base = cell(tmp, out, "test", 0.3, 0.15);
    ReportQueries queries = new ReportQueries(spark, base, "test");
    assertThat(queries.sweep(BAND)).isEmpty(); // neither the run's own comparisons nor a sweep folder
    write(base, "probe_comparisons", List.of(paired("mlp", 2, 1, "token", 0.3, 0.2, 0.4, 10, Map.of())));
    // The folder name says cut 9, gap 9: the recorded config (0.7, 0.25) decides.
    RunTables a = cell(tmp, out.resolve("sweep/cut9-gap9"), "test", 0.7, 0.25);
    write(a, "probe_comparisons", List.of(
        paired("mlp", 2, 1, "token", 0.10, 0.00, 0.20, 100, Map.of()),
        paired("mlp", 2, 2, "token", 0.20, 0.10, 0.30, 100, Map.of()),
        paired("linear", 2, 1, "token", -0.10, -0.20, 0.00, 100, Map.of()),
        paired("mlp", 2, 1, "entropy_matched", 0.05, -0.01, 0.11, 50, Map.of()),
        // Left out: a lower layer, another baseline, split, train domain, label kind; another band's
        // layer 3 does not raise the highest layer of this band.
        paired("mlp", 1, 1, "token", 0.9, 0.9, 0.9, 999, Map.of()),
        paired("mlp", 2, 1, "token", 0.9, 0.9, 0.9, 999, Map.of("baseline_kind", "bet")),
        paired("mlp", 2, 1, "token", 0.9, 0.9, 0.9, 999, Map.of("eval_split", "val")),
        paired("mlp", 2, 1, "token", 0.9, 0.9, 0.9, 999, Map.of("train_domain", "news")),
        paired("mlp", 2, 1, "token", 0.9, 0.9, 0.9, 999, Map.of("label_kind", "no-gap")),
        paired("mlp", 3, 1, "token", 0.9, 0.9, 0.9, 999, Map.of("band", "[4.0,inf)"))));
    // Thresholds from probe_examples' manifest when the cell has one.
    RunTables b = cell(tmp, out.resolve("sweep/b"), "test", 1.0, 0.2);
    write(b, "probe_examples", List.of(Map.of("doc_id", "d")));
    write(b, "probe_comparisons", List.of(paired("linear", 1, 1, "token", -0.2, -0.3, -0.1, 7, Map.of())));
    // Not cells of this run: another run id, a folder without committed comparisons, a file.
    write(cell(tmp, out.resolve("sweep/other"), "other", 0.5, 0.5), "probe_comparisons",
        List.of(paired("mlp", 2, 1, "token", 0.9, 0.9, 0.9, 999, Map.of())));
    java.nio.file.Files.createDirectories(out.resolve("sweep/empty/probe_comparisons/run_id=test"));
    java.nio.file.Files.writeString(out.resolve("sweep/sweep.md"), "| table |");

    List<ReportData.SweepRow> rows = ReportData.sweepOrder(queries.sweep(BAND), List.of("token",
        "entropy_matched"));
    assertThat(rows).extracting(r -> r.balance() + " " + r.class0Cut() + " " + r.class1Gap() + " " + r.source()
        + " L" + r.layer() + " " + r.nClass0() + "/" + r.nClass1() + " seeds " + r.seeds())
        .containsExactly("token 0.3 0.15 null L2 10/11 seeds 1", "token 0.7 0.25 sweep/cut9-gap9 L2 100/101 seeds 2",
            "token 1.0 0.2 sweep/b L1 7/8 seeds 1", "entropy_matched 0.7 0.25 sweep/cut9-gap9 L2 50/51 seeds 1");
    assertThat(rows.get(0).own()).isTrue();
    ReportData.SweepRow token = rows.get(1);
    // MLP: the mean over its two seeds of the difference and of each bound.
    assertThat(token.mlp().difference()).isCloseTo(0.15, within(1e-12));
    assertThat(token.mlp().low()).isCloseTo(0.05, within(1e-12));
    assertThat(token.mlp().high()).isCloseTo(0.25, within(1e-12));
    assertThat(token.linear().difference()).isCloseTo(-0.10, within(1e-12));
    assertThat(token.linear().low()).isCloseTo(-0.20, within(1e-12));
    assertThat(rows.get(3).linear()).isNull(); // entropy_matched has no linear row
    assertThat(rows.get(2).mlp()).isNull();
    assertThat(rows).allMatch(r -> r.band().equals(BAND));
  }

  private static Map<String, Object> score(String doc, int position, float entropy) {
    return Map.of("doc_id", doc, "split", "test", "position", position, "entropy", entropy, "domain", "web");
  }

  @Test
  void theDensityCountsEachPositionScoredByBothModels(@TempDir Path tmp) {
    RunTables tables = new RunTables(spark, config(tmp));
    ReportQueries queries = new ReportQueries(spark, tables, "test");
    write(tables, "small_scores", List.of(score("d1", 0, 0.5f), score("d1", 1, 3.9f), score("d1", 2, 3.0f),
        score("d2", 0, 1.9f), score("d2", 1, Float.NaN), score("d3", 0, 1.0f)));
    assertThat(queries.density(4, Band.Spec.parse("2.0:inf"))).isNull(); // no large_scores
    write(tables, "large_scores", List.of(score("d1", 0, 0.2f), score("d1", 1, 3.95f), score("d1", 2, 0.1f),
        score("d2", 0, 1.1f), score("d2", 1, 1.0f)));
    Density d = queries.density(4, Band.Spec.parse("2.0:inf"));
    // Four positions scored by both (d2/1's H_S is NaN, d3 has no H_L); the largest entropy 3.95
    // rounds up to 4.0 nats: 4 x 4 cells of 1.0.
    assertThat(d.positions()).isEqualTo(4);
    assertThat(d.maxH()).isEqualTo(4.0);
    assertThat(d.width()).isEqualTo(1.0);
    assertThat(d.bandMin()).isEqualTo(2.0);
    List<String> cells = new ArrayList<>();
    for (int i = 0; i < d.n().length; i++) {
      cells.add(d.bx()[i] + "," + d.by()[i] + "=" + d.n()[i]);
    }
    // (0.5, 0.2) and (1.9, 1.1) -> (0,0) and (1,1); (3.9, 3.95) -> (3,3); (3.0, 0.1) -> (3,0).
    assertThat(cells).containsExactlyInAnyOrder("0,0=1", "1,1=1", "3,3=1", "3,0=1");
  }

  private static Map<String, Object> iclt(String doc, String split, String separator, int label, double mi) {
    return Map.of("doc_id", doc, "split", split, "separator", separator, "label", label, "mi", mi, "domain", "web");
  }

  @Test
  void icltHistogramsShareEachClassOverTwentyBins(@TempDir Path tmp) {
    RunTables tables = new RunTables(spark, config(tmp));
    ReportQueries queries = new ReportQueries(spark, tables, "test");
    assertThat(queries.iclt(List.of("mi"))).isNull();
    write(tables, "iclt_scores", List.of(iclt("a", "test", "eos", 0, 0.0), iclt("b", "test", "eos", 0, 5.0),
        iclt("c", "test", "eos", 1, 20.0), iclt("d", "test", "nl", 1, 10.0), iclt("e", "test", "nl", 0, Double.NaN),
        iclt("f", "val", "eos", 1, 7.0), iclt("g", "test", "sp", 1, Double.NaN)));
    Iclt i = queries.iclt(List.of("mi"));
    assertThat(i.separators()).containsExactly("eos", "nl", "sp"); // every test row's separator
    assertThat(i.metrics()).isNull(); // no iclt_metrics
    IcltHistogram h = i.histograms().get(0);
    // The finite test values run 0..20: 20 bins of 1 from 0; 20 is clipped into the last bin.
    assertThat(h.low()).isEqualTo(0.0);
    assertThat(h.width()).isEqualTo(1.0);
    assertThat(h.bySeparator()).containsOnlyKeys("eos", "nl");
    long[][] eos = h.bySeparator().get("eos");
    assertThat(eos[0][0]).isEqualTo(1);
    assertThat(eos[0][5]).isEqualTo(1);
    assertThat(eos[1][19]).isEqualTo(1);
    assertThat(java.util.Arrays.stream(eos[0]).sum() + java.util.Arrays.stream(eos[1]).sum()).isEqualTo(3);
    assertThat(h.bySeparator().get("nl")[1][10]).isEqualTo(1);
  }

  @Test
  void rocCountsBinEachScoreBetweenItsMinAndMaxPerDomainAndPooled() {
    StructType schema = new StructType().add("domain", DataTypes.StringType).add("label", DataTypes.IntegerType)
        .add("s", DataTypes.DoubleType);
    Dataset<Row> examples = spark.createDataFrame(List.of(RowFactory.create("a", 0, 0.0),
        RowFactory.create("a", 1, 1.0), RowFactory.create("b", 1, 0.4), RowFactory.create("b", 0, 0.6)), schema);
    Map<String, List<long[][]>> counts = ReportQueries.rocCounts(examples, List.of(col("s"),
        col("s").multiply(-1)), 2);
    assertThat(counts.keySet()).containsExactly(ALL, "a", "b"); // pooled first
    // Score s over [0, 1] in 2 bins: 0.0 and 0.4 in bin 0, 0.6 and 1.0 (the max) in bin 1; {n0, n1} per bin.
    assertThat(counts.get(ALL).get(0)).isDeepEqualTo(new long[][] {{1, 1}, {1, 1}});
    assertThat(counts.get("a").get(0)).isDeepEqualTo(new long[][] {{1, 0}, {0, 1}});
    assertThat(counts.get("b").get(0)).isDeepEqualTo(new long[][] {{0, 1}, {1, 0}});
    // -s over [-1, 0]: the bins reverse.
    assertThat(counts.get("a").get(1)).isDeepEqualTo(new long[][] {{0, 1}, {1, 0}});
  }

  @Test
  void sectionsOfMissingTablesAreNull(@TempDir Path tmp) {
    KnowableConfig config = config(tmp);
    RunTables tables = new RunTables(spark, config);
    ReportQueries queries = new ReportQueries(spark, tables, "test");
    assertThat(queries.rocCounts(BAND, "gap", "token", "mlp", 2, null, 10)).isNull();
    assertThat(queries.tokenView(BAND, "gap", "token", "mlp", 2, 1, 10)).isNull();
    assertThat(queries.probeModelsManifest()).isEmpty();
    write(tables, "probe_metrics", List.of(metric("bet", null, "test", 1, 0.6, 0.55, 0.65, 10)));
    ReportData.RunFacts facts = queries.runFacts();
    assertThat(facts.facts()).containsEntry("run id", "test")
        .containsKey("probe_metrics config fingerprint").doesNotContainKey("tokens config fingerprint");
  }
}
