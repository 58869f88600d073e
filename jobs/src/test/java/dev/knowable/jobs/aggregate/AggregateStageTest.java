package dev.knowable.jobs.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.tables.Table;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The aggregate stage on two committed runs with different probe configs (their metrics
 * tables written through RunTables from hand-made rows, so every expected number is known):
 * rows keyed by run and fingerprint, means and spreads over seeds equal to hand computation,
 * ICLT rows only for the run that has them, reruns replace, a run subset, and DuckDB reads
 * every aggregate table with the same numbers.
 */
class AggregateStageTest extends SparkTestBase {
  private static final String BAND = "[2.0,inf)";

  @Test
  void aggregatesTwoRunsKeyedByRunAndFingerprint(@TempDir Path tmp) throws Exception {
    KnowableConfig r1 = config(tmp, "run-id=r1", "probe.seeds=2");
    KnowableConfig r2 = config(tmp, "run-id=r2", "probe.seeds=1", "probe.mlp.hidden=64");
    RunTables t1 = new RunTables(spark, r1);
    RunTables t2 = new RunTables(spark, r2);
    t1.write("probe_metrics", rows("probe_metrics", List.of(
        metric("mlp", 2, "all", "all", "test", 0, 0.80, 0.70, 0.88),
        metric("mlp", 2, "all", "all", "test", 1, 0.90, 0.80, 0.96),
        metric("mlp", 2, "all", "all", "val", 0, 0.10, 0.05, 0.15),
        metric("bet", null, "all", "all", "test", 0, 0.60, 0.55, 0.65),
        metric("mlp", 2, "code", "legal", "test", 0, 0.65, 0.60, 0.70))), List.of(), Map.of());
    t2.write("probe_metrics", rows("probe_metrics", List.of(
        metric("mlp", 2, "all", "all", "test", 0, 0.70, 0.62, 0.78))), List.of(), Map.of());
    t1.write("iclt_metrics", rows("iclt_metrics", List.of(
        metric("bet", null, "all", "all", "test", 0, 0.64, 0.58, 0.70),
        metric("iclt_mi@none", null, "all", "all", "test", 0, 0.51, 0.44, 0.56),
        metric("iclt_mi@none", null, "code", "all", "test", 0, 0.99, 0.9, 1.0))), List.of(), Map.of());
    t1.write("iclt_comparisons", rows("iclt_comparisons", List.of(Map.ofEntries(Map.entry("model_pair", "s->l"),
        Map.entry("probe_kind", "iclt_mi@none"), Map.entry("seed", 0), Map.entry("baseline_kind", "bet"),
        Map.entry("band", BAND), Map.entry("label_kind", "gap"), Map.entry("balance", "token"),
        Map.entry("train_domain", "all"),
        Map.entry("eval_domain", "all"), Map.entry("eval_split", "test"), Map.entry("difference_ci_low", -0.2),
        Map.entry("difference_ci_high", 0.05)))),
        List.of(), Map.of());
    String fp1 = (String) t1.readManifest("probe_metrics").get("config_fingerprint");
    String fp2 = (String) t2.readManifest("probe_metrics").get("config_fingerprint");
    assertThat(fp1).as("different probe configs, different fingerprints").isNotEqualTo(fp2);

    KnowableConfig agg = config(tmp, "run-id=agg");
    Main.run(spark, "aggregate", agg);
    Main.run(spark, "aggregate", agg); // a rerun replaces the aggregate, it does not add to it
    RunTables ta = new RunTables(spark, agg);

    List<Row> runs = ta.read("runs", "aggregate").orderBy("source_run_id", "table_name").collectAsList();
    assertThat(runs).extracting(r -> r.getAs("source_run_id") + "/" + r.getAs("table_name") + "/" + r.getAs("stage"))
        .containsExactly("r1/iclt_comparisons/iclt", "r1/iclt_metrics/iclt", "r1/probe_metrics/probe",
            "r2/probe_metrics/probe");
    assertThat(runs.get(2).<String>getAs("config_fingerprint")).isEqualTo(fp1);
    assertThat(runs.get(3).<String>getAs("config_fingerprint")).isEqualTo(fp2);
    assertThat(runs.get(2).<Long>getAs("rows")).isEqualTo(5L);
    assertThat(runs.get(3).<Long>getAs("rows")).isEqualTo(1L);
    assertThat(runs.get(2).<String>getAs("spark_version")).isEqualTo(spark.version());
    // Spark timestamps keep microseconds.
    assertThat(runs.get(2).<java.sql.Timestamp>getAs("committed_at").toInstant()).isEqualTo(java.time.Instant.parse(
        (String) t1.readManifest("probe_metrics").get("committed_at")).truncatedTo(java.time.temporal.ChronoUnit.MICROS));

    List<Row> cross = ta.read("agg_cross_domain", "aggregate")
        .orderBy("source_run_id", "probe_kind", "train_domain").collectAsList();
    assertThat(cross).hasSize(4); // r1: bet all, mlp all, mlp code->legal; r2: mlp all (val rows excluded)
    Row pooled1 = find(cross, "r1", "mlp", "all");
    assertThat(pooled1.<String>getAs("config_fingerprint")).isEqualTo(fp1);
    assertThat(pooled1.<Long>getAs("n_seeds")).isEqualTo(2L);
    assertThat(pooled1.<Double>getAs("auc_mean")).isCloseTo(0.85, within(1e-12));
    assertThat(pooled1.<Double>getAs("auc_std")).isCloseTo(Math.sqrt(0.005), within(1e-12));
    assertThat(pooled1.<Double>getAs("auc_min")).isEqualTo(0.80);
    assertThat(pooled1.<Double>getAs("auc_max")).isEqualTo(0.90);
    assertThat(pooled1.<Double>getAs("auc_ci_low")).isCloseTo(0.75, within(1e-12));
    assertThat(pooled1.<Double>getAs("auc_ci_high")).isCloseTo(0.92, within(1e-12));
    assertThat(pooled1.<Long>getAs("n_class0")).isEqualTo(10L);
    Row pooled2 = find(cross, "r2", "mlp", "all");
    assertThat(pooled2.<String>getAs("config_fingerprint")).isEqualTo(fp2);
    assertThat(pooled2.<Long>getAs("n_seeds")).isEqualTo(1L);
    assertThat(pooled2.<Double>getAs("auc_mean")).isEqualTo(0.70);
    assertThat(pooled2.isNullAt(pooled2.fieldIndex("auc_std"))).as("one seed: no spread").isTrue();
    assertThat(find(cross, "r1", "mlp", "code").<String>getAs("eval_domain")).isEqualTo("legal");

    assertThat(ta.read("agg_auc_by_layer", "aggregate").orderBy("source_run_id").collectAsList())
        .extracting(r -> r.getAs("source_run_id") + ":" + r.getAs("probe_kind") + ":" + r.getAs("layer") + ":"
            + String.format(java.util.Locale.ROOT, "%.6f", r.<Double>getAs("auc_mean")))
        .containsExactly("r1:mlp:2:0.850000", "r2:mlp:2:0.700000");
    assertThat(ta.read("agg_auc_by_band", "aggregate").count()).as("pooled rows, bet included").isEqualTo(3);

    List<Row> iclt = ta.read("agg_iclt_vs_bet", "aggregate").collectAsList();
    assertThat(iclt).as("r2 has no ICLT; train domain code != eval all is not a per-domain row").hasSize(1);
    Row mi = iclt.get(0);
    assertThat(mi.<String>getAs("source_run_id")).isEqualTo("r1");
    assertThat(mi.<String>getAs("domain")).isEqualTo("all");
    assertThat(mi.<Double>getAs("auc")).isEqualTo(0.51);
    assertThat(mi.<Double>getAs("bet_auc")).isEqualTo(0.64);
    assertThat(mi.<Double>getAs("auc_difference")).isCloseTo(0.51 - 0.64, within(1e-12));
    assertThat(mi.<Double>getAs("difference_ci_low")).isEqualTo(-0.2);

    for (Table t : new AggregateStage().tables()) {
      assertThat(SparkSchemas.mismatches(t, ta.read(t).schema())).as(t.tableName()).isEmpty();
    }
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement st = db.createStatement()) {
      for (Table t : new AggregateStage().tables()) {
        ResultSet r = st.executeQuery("SELECT count(*) FROM read_parquet('" + tmp.resolve("out") + "/" + t
            + "/*/*.parquet', hive_partitioning = true) WHERE run_id = 'agg'");
        r.next();
        assertThat(r.getLong(1)).as("DuckDB rows of %s", t).isEqualTo(ta.read(t).count());
      }
      ResultSet r = st.executeQuery("SELECT auc_mean, auc_std, n_seeds FROM read_parquet('" + tmp.resolve("out")
          + "/agg_cross_domain/*/*.parquet') WHERE source_run_id = 'r1' AND probe_kind = 'mlp' "
          + "AND train_domain = 'all'");
      r.next();
      assertThat(r.getDouble(1)).isCloseTo(0.85, within(1e-12));
      assertThat(r.getDouble(2)).isCloseTo(Math.sqrt(0.005), within(1e-12));
      assertThat(r.getLong(3)).isEqualTo(2L);
    }

    // A subset of runs, and a run that does not exist.
    Main.run(spark, "aggregate", config(tmp, "run-id=agg2", "aggregate.runs=[r2]"));
    assertThat(new RunTables(spark, config(tmp, "run-id=agg2")).read("agg_cross_domain", "aggregate")
        .select("source_run_id").distinct().collectAsList()).extracting(r -> r.getString(0)).containsExactly("r2");
    assertThatThrownBy(() -> Main.run(spark, "aggregate", config(tmp, "run-id=agg3", "aggregate.runs=[r9]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("r9").hasMessageContaining("[r1, r2");
  }

  private static Row find(List<Row> rows, String run, String kind, String train) {
    return rows.stream().filter(r -> r.getAs("source_run_id").equals(run) && r.getAs("probe_kind").equals(kind)
        && r.getAs("train_domain").equals(train)).findFirst().orElseThrow();
  }

  private static Map<String, Object> metric(String kind, Integer layer, String train, String eval, String split,
      int seed, double auc, double low, double high) {
    Map<String, Object> m = new java.util.HashMap<>();
    m.put("model_pair", "s->l");
    m.put("probe_kind", kind);
    m.put("layer", layer);
    m.put("band", BAND);
    m.put("label_kind", "gap");
    m.put("balance", "token");
    m.put("train_domain", train);
    m.put("eval_domain", eval);
    m.put("eval_split", split);
    m.put("seed", seed);
    m.put("n_class0", 10L);
    m.put("n_class1", 12L);
    m.put("auc", auc);
    m.put("auc_ci_low", low);
    m.put("auc_ci_high", high);
    m.put("accuracy", auc - 0.1);
    return m;
  }

  /** Rows of a table's documented layout from name -> value maps (absent columns null). */
  private static org.apache.spark.sql.Dataset<Row> rows(String table, List<Map<String, Object>> values) {
    StructType schema = SparkSchemas.of(table);
    List<Row> out = new ArrayList<>();
    for (Map<String, Object> v : values) {
      Object[] cells = new Object[schema.size()];
      for (int i = 0; i < cells.length; i++) {
        cells[i] = v.get(schema.fields()[i].name());
      }
      out.add(RowFactory.create(cells));
    }
    return spark.createDataFrame(out, schema);
  }
}
