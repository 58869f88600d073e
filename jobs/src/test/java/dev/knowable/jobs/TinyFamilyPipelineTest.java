package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.cli.RunSql;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.metrics.RocAuc;
import dev.knowable.model.TestModels;
import dev.knowable.schema.TableSchema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every stage of {@code pipeline}, ingest through report, in local[2] on the trained tiny
 * family and a slice of the bundled probe corpus (the first passages of each domain), with
 * probe training shortened (1 seed, a narrow MLP, few epochs) so it fits CI. Checks that
 * label and probe produce a metric row for every configured (probe, layer, band, train
 * domain, eval domain) and that every table matches its data-schemas description; then
 * checks the ICLT stage's scores and metrics against the label stage and against a
 * recomputation, and apply's token_uncertainty against probe_metrics.
 */
class TinyFamilyPipelineTest extends SparkTestBase {
  static final List<String> DOMAINS = List.of("code", "legal", "reference", "scripture", "speech");

  @Test
  void thePipelineRunsEndToEndOnTheTinyFamily(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    for (String d : DOMAINS) {
      List<String> lines = Files.readAllLines(TestModels.repoRoot().resolve("demo/corpora/probe/" + d + ".jsonl"),
          StandardCharsets.UTF_8);
      Files.write(in.resolve(d + ".jsonl"), lines.subList(0, Math.min(120, lines.size())), StandardCharsets.UTF_8);
    }
    KnowableConfig c = config(tmp,
        "ingest.inputs=[{path=\"" + in + "\", format=jsonl}]", "ingest.split.group-separator=\"#\"",
        "tokenize.max-tokens=512", "tokenize.shards=2",
        "models.small.path=\"" + TestModels.demo("tiny-small") + "\"", "models.small.layers=[1, 2]",
        "models.large.path=\"" + TestModels.demo("tiny-large") + "\"",
        "label.bands=[\"2.0:inf\", \"1.0:2.0\"]", "label.kinds=[gap]", "label.balance=[token]",
        "probe.seeds=1", "probe.mlp.hidden=32", "probe.mlp.max-epochs=3", "probe.bet-ft.max-epochs=3",
        "probe.bootstrap-resamples=20",
        "iclt.bands=[\"2.0:inf\"]", "iclt.max-per-cell=6", "iclt.bootstrap-resamples=20");
    Main.run(spark, "pipeline", c);

    for (String t : List.of("documents", "tokens", "small_scores", "large_scores", "probe_examples", "probe_metrics",
        "cross_domain", "probe_comparisons", "token_uncertainty", "iclt_scores", "iclt_metrics", "iclt_comparisons")) {
      assertThat(SparkSchemas.mismatches(t, spark.read().parquet(tmp.resolve("out").resolve(t) + "/run_id=test")
          .schema())).as("schema of %s", t).isEmpty();
    }
    RunSql.registerViews(spark, c);
    assertThat(spark.sql("SELECT count(DISTINCT label) FROM probe_examples").first().getLong(0)).isEqualTo(2);
    // Balanced: per (split, domain, band) the two classes have equal counts.
    assertThat(spark.sql("SELECT split, domain, band FROM probe_examples GROUP BY split, domain, band "
        + "HAVING sum(label) * 2 != count(*)").count()).isZero();

    List<Row> test = spark.sql("SELECT DISTINCT probe_kind, layer, band, train_domain, eval_domain "
        + "FROM probe_metrics WHERE eval_split = 'test'").collectAsList();
    Set<String> kinds = new TreeSet<>();
    test.forEach(r -> kinds.add(r.getString(0)));
    assertThat(kinds).contains("linear", "mlp", "bet", "bet_ft", "context_k1", "context_k2", "context_k3", "context_k4",
        "combined_k4");
    Set<String> pairs = new TreeSet<>();
    spark.sql("SELECT DISTINCT train_domain, eval_domain FROM probe_metrics WHERE probe_kind = 'linear' "
        + "AND eval_split = 'test' AND band = '[2.0,inf)' AND layer = 2").collectAsList()
        .forEach(r -> pairs.add(r.getString(0) + "->" + r.getString(1)));
    Set<String> trainDomains = new TreeSet<>();
    spark.sql("SELECT DISTINCT domain FROM probe_examples WHERE split = 'train' AND band = '[2.0,inf)'")
        .collectAsList().forEach(r -> trainDomains.add(r.getString(0)));
    assertThat(trainDomains).as("the slice yields train examples in most domains").hasSizeGreaterThanOrEqualTo(3);
    for (String tr : trainDomains) {
      assertThat(pairs).as("linear probe trained on %s is evaluated on every domain", tr)
          .contains(tr + "->all");
    }
    assertThat(spark.sql("SELECT count(*) FROM probe_metrics WHERE auc IS NOT NULL AND (auc < 0 OR auc > 1)")
        .first().getLong(0)).isZero();
    assertThat(spark.sql("SELECT count(*) FROM cross_domain").first().getLong(0)).isPositive();
    checkIclt(tmp.resolve("out"));
    checkApply(tmp, c);
    checkAggregateAndReport(tmp.resolve("out"), c);
    checkEveryTableAgainstItsSchema(tmp.resolve("out"));
  }

  /**
   * Schema drift: every table described in data-schemas/ was written by this run (the
   * pipeline's, token_uncertainty last rewritten by the by-name apply) with exactly the
   * described columns and types.
   */
  private static void checkEveryTableAgainstItsSchema(Path out) throws Exception {
    List<String> documented;
    try (var files = Files.list(TestModels.repoRoot().resolve("data-schemas"))) {
      documented = files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json"))
          .map(f -> f.substring(0, f.length() - 5)).sorted().toList();
    }
    assertThat(documented).hasSizeGreaterThanOrEqualTo(19);
    for (String t : documented) {
      Path dir = out.resolve(t).resolve("run_id=test");
      assertThat(dir.resolve("_manifest.json")).as("the pipeline wrote %s", t).exists();
      assertThat(SparkSchemas.mismatches(t, spark.read().parquet(dir.toString()).schema()))
          .as("columns and types of %s against data-schemas/%s.json", t, t).isEmpty();
    }
  }

  /**
   * aggregate: this run's rows equal cross_domain (same seeds, AUC means and counts).
   * report: a self-contained file with every chart, and the headline AUCs of probe_metrics.
   */
  private static void checkAggregateAndReport(Path out, KnowableConfig c) throws Exception {
    RunSql.registerViews(spark, c);
    assertThat(spark.sql("SELECT DISTINCT source_run_id FROM agg_cross_domain").as(Encoders.STRING())
        .collectAsList()).containsExactly("test");
    long cross = spark.sql("SELECT count(*) FROM cross_domain").first().getLong(0);
    assertThat(spark.sql("SELECT count(*) FROM agg_cross_domain").first().getLong(0)).isEqualTo(cross);
    assertThat(spark.sql("SELECT count(*) FROM cross_domain c JOIN agg_cross_domain a USING (probe_kind, band, "
        + "label_kind, train_domain, eval_domain) WHERE c.layer <=> a.layer AND c.n_seeds = a.n_seeds "
        + "AND c.n_class0 = a.n_class0 AND c.n_class1 = a.n_class1 AND (c.auc_mean = a.auc_mean "
        + "OR (isnan(c.auc_mean) AND isnan(a.auc_mean)))").first().getLong(0)).isEqualTo(cross);
    assertThat(spark.sql("SELECT DISTINCT config_fingerprint FROM agg_cross_domain").as(Encoders.STRING())
        .collectAsList()).containsExactly(c.fingerprint("probe_metrics"));
    assertThat(spark.sql("SELECT count(*) FROM runs WHERE table_name = 'probe_metrics' AND rows = "
        + "(SELECT count(*) FROM probe_metrics)").first().getLong(0)).isEqualTo(1);

    String html = Files.readString(out.resolve("report").resolve("test.html"), StandardCharsets.UTF_8);
    assertThat(html).doesNotContain("http://", "https://", "<script");
    List<String> domains = spark.sql("SELECT DISTINCT domain FROM probe_examples WHERE split = 'test' AND band = "
        + "'[2.0,inf)'").as(Encoders.STRING()).collectAsList();
    assertThat(domains).isNotEmpty();
    List<String> charts = new java.util.ArrayList<>(List.of("heatmap-mlp", "heatmap-linear", "roc-all",
        "auc-by-layer", "auc-by-band", "density", "iclt-mi", "iclt-mi_ratio", "iclt-min_entropy",
        "iclt-hint_repeat"));
    domains.forEach(d -> charts.add("roc-" + d));
    for (String id : charts) {
      assertThat(java.util.regex.Pattern.compile("<figure id=\"" + java.util.regex.Pattern.quote(id)
          + "\" class=\"chart[^\"]*\"><img alt=\"[^\"]*\" src=\"data:image/png;base64,[A-Za-z0-9+/=]{2000,}\">")
          .matcher(html).find()).as("chart %s embedded as a PNG", id).isTrue();
    }
    assertThat(html.split("<figure id=", -1).length - 1).as("no other charts").isEqualTo(charts.size());
    for (String section : List.of("headline", "cross-domain", "roc", "layers", "bands", "density", "iclt", "tokens",
        "config")) {
      assertThat(html).contains("<a href=\"#" + section + "\">").contains("<h2 id=\"" + section + "\">");
    }
    assertThat(html).contains("class=\"pass\" data-doc=");
    // Headline: the pooled test AUC of each probe, mean over seeds, as probe_metrics gives it.
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("<tr class=\"headline\" data-balance=\"token\" "
        + "data-probe=\"([^\"]+)\" data-layer=\"([0-9]*)\"><td class=\"l\">[^<]*</td><td class=\"l\">[^<]*</td>"
        + "<td class=\"auc\">([0-9.]+)</td>").matcher(html);
    int rows = 0;
    while (m.find()) {
      double expected = spark.sql("SELECT avg(auc) FROM probe_metrics WHERE probe_kind = '" + m.group(1) + "' AND "
          + (m.group(2).isEmpty() ? "layer IS NULL" : "layer = " + m.group(2)) + " AND band = '[2.0,inf)' AND "
          + "label_kind = 'gap' AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'")
          .first().getDouble(0);
      assertThat(m.group(3)).as("headline AUC of %s layer %s", m.group(1), m.group(2))
          .isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", expected));
      rows++;
    }
    assertThat(rows).as("one headline row per probe (kind, layer) of the pooled test set").isEqualTo(
        spark.sql("SELECT count(DISTINCT probe_kind, coalesce(layer, -1)) FROM probe_metrics WHERE band = "
            + "'[2.0,inf)' AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'")
            .first().getLong(0));
  }

  /**
   * apply: the pipeline itself applied the default probe (pooled MLP of the highest layer
   * probed, 2, band [2, inf), gap labels); then the pooled linear probe, applied by name over
   * it. Each, on the labelled test positions, gives the test AUC probe_metrics reports for it.
   */
  private static void checkApply(Path tmp, KnowableConfig c) {
    Path manifest = tmp.resolve("out").resolve("token_uncertainty").resolve("run_id=test")
        .resolve(RunTables.MANIFEST);
    assertThat(manifest).as("the pipeline wrote token_uncertainty").exists();
    RunSql.registerViews(spark, c);
    assertThat(spark.sql("SELECT DISTINCT probe_run, probe_kind, layer, band, label_kind, train_domain, seed "
        + "FROM token_uncertainty").collectAsList()).as("the default probe")
        .containsExactly(org.apache.spark.sql.RowFactory.create("test", "mlp", 2, "[2.0,inf)", "gap", "all", 0));
    checkTokenUncertainty(c, "mlp");

    String[] byName = {"run-id=test", "if-exists=overwrite", "models.small.path=\"" + TestModels.demo("tiny-small")
        + "\"", "models.small.layers=[1, 2]", "tokenize.max-tokens=512"};
    // A probe probe_models does not hold: refused before any work, naming the bands it does hold.
    assertThatThrownBy(() -> Main.run(spark, "apply", config(tmp, concat(byName, "apply.band=\"4.0:inf\""))))
        .isInstanceOf(dev.knowable.config.ConfigException.class)
        .hasMessageContaining("knowable.apply.band selects 4.0:inf").hasMessageContaining("[1.0:2.0, 2.0:inf]");
    assertThat(spark.sql("SELECT DISTINCT probe_kind FROM token_uncertainty").as(Encoders.STRING()).collectAsList())
        .as("token_uncertainty is left as it was").containsExactly("mlp");
    Main.run(spark, "apply", config(tmp, concat(byName, "apply.probe-kind=linear", "apply.layer=2",
        "apply.band=\"2.0:inf\"")));
    checkTokenUncertainty(c, "linear");
  }

  private static String[] concat(String[] a, String... b) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b))
        .toArray(String[]::new);
  }

  /** token_uncertainty holds the {@code kind} probe's scores, which reproduce its test AUC in probe_metrics. */
  private static void checkTokenUncertainty(KnowableConfig c, String kind) {
    RunSql.registerViews(spark, c);
    assertThat(SparkSchemas.mismatches("token_uncertainty", spark.table("token_uncertainty").schema())).isEmpty();
    assertThat(spark.sql("SELECT DISTINCT probe_kind FROM token_uncertainty").as(Encoders.STRING())
        .collectAsList()).containsExactly(kind);
    assertThat(spark.sql("SELECT count(*) FROM token_uncertainty WHERE small_entropy < 2.0 "
        + "OR epistemic_probability < 0 OR epistemic_probability > 1").first().getLong(0)).isZero();
    assertThat(spark.sql("SELECT count(*) FROM token_uncertainty").first().getLong(0))
        .isEqualTo(spark.sql("SELECT count(*) FROM small_scores WHERE entropy >= 2.0").first().getLong(0));
    List<Row> test = spark.sql("SELECT 1 - t.epistemic_probability, e.label FROM probe_examples e "
        + "JOIN token_uncertainty t USING (doc_id, position) WHERE e.split = 'test' AND e.band = '[2.0,inf)' "
        + "AND e.label_kind = 'gap'").collectAsList();
    double auc = RocAuc.exact(test.stream().mapToDouble(r -> r.getDouble(0)).toArray(),
        test.stream().mapToInt(r -> r.getInt(1)).toArray());
    Row m = spark.sql("SELECT auc, n_class0 + n_class1 FROM probe_metrics WHERE probe_kind = '" + kind + "' "
        + "AND layer = 2 AND band = '[2.0,inf)' AND label_kind = 'gap' AND train_domain = 'all' "
        + "AND eval_domain = 'all' AND eval_split = 'test' AND seed = 0").first();
    assertThat((long) test.size()).isEqualTo(m.getLong(1));
    // The same stored float weights and the same scoring code as the probe stage.
    assertThat(auc).as("%s test AUC from token_uncertainty", kind).isCloseTo(m.getDouble(0), within(1e-12));
  }

  /**
   * ICLT: the capped labelled positions of probe_examples, each scored under both
   * separators with the labels and H_S it came with; metrics recomputed here from the
   * scores (exact AUC, direction from val) and re-read by DuckDB.
   */
  private static void checkIclt(Path out) throws Exception {
    assertThat(spark.sql("SELECT count(*) FROM (SELECT domain, split, label, count(DISTINCT doc_id, position) AS n "
        + "FROM iclt_scores GROUP BY domain, split, label) WHERE n > 6").first().getLong(0))
        .as("at most max-per-cell positions per (domain, split, band, label)").isZero();
    assertThat(spark.sql("SELECT DISTINCT split FROM iclt_scores").as(Encoders.STRING()).collectAsList())
        .containsExactlyInAnyOrder("val", "test");
    Row counts = spark.sql("SELECT count(*), count(DISTINCT doc_id, position), count(DISTINCT separator) "
        + "FROM iclt_scores").first();
    assertThat(counts.getLong(1)).isPositive();
    assertThat(counts.getLong(0)).as("one row per position and separator").isEqualTo(counts.getLong(1) * 2);
    assertThat(spark.sql("SELECT count(*) FROM iclt_scores i JOIN probe_examples e USING (doc_id, position, band) "
        + "WHERE e.label_kind = 'gap' AND (e.label != i.label OR e.small_entropy != i.small_entropy "
        + "OR e.large_entropy != i.large_entropy OR e.split != i.split)").first().getLong(0))
        .as("labels and entropies are those of probe_examples").isZero();
    assertThat(spark.sql("SELECT count(*) FROM iclt_scores i LEFT ANTI JOIN probe_examples e "
        + "USING (doc_id, position, band, label_kind)").first().getLong(0)).as("only labelled positions").isZero();
    // MI lies in [0, H(Y)] and H(Y) <= ln k; min-entropy and hint-repeat are an entropy and a probability.
    // The prompt is tokens[0..i], capped so that prompt + hint + "." + eos + prompt fits 512 tokens:
    // floor((512 - 2 - 1) / 2) = 254.
    assertThat(spark.sql("SELECT count(*) FROM iclt_scores WHERE NOT (mi >= 0 AND mi <= ln(n_candidates) + 1e-9 "
        + "AND mi_ratio >= 0 AND mi_ratio <= 1 + 1e-9 AND min_entropy >= 0 AND hint_repeat >= 0 "
        + "AND hint_repeat <= 1 + 1e-9 AND prompt_length = least(position + 1, 254))").first().getLong(0)).isZero();
    assertThat(spark.sql("SELECT count(*) FROM iclt_scores WHERE position + 1 > 254").first().getLong(0))
        .as("the slice has prompts longer than the cap").isPositive();

    // The pooled test AUC of MI under each separator, recomputed from iclt_scores.
    for (String sep : List.of("dot-eos", "none")) {
      Row m = spark.sql("SELECT auc, score_sign, n_class0, n_class1 FROM iclt_metrics WHERE probe_kind = 'iclt_mi@"
          + sep + "' AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'").first();
      int sign = signOnVal("mi", sep);
      assertThat(m.getInt(1)).as("direction of mi@%s chosen on val", sep).isEqualTo(sign);
      List<Row> test = spark.sql("SELECT mi, label FROM iclt_scores WHERE split = 'test' AND separator = '" + sep
          + "'").collectAsList();
      // MI below the resolution (1e-6 nats, reference.conf) is a tie at 0.
      double[] scores = test.stream().mapToDouble(r -> sign * tied(r.getDouble(0))).toArray();
      int[] labels = test.stream().mapToInt(r -> r.getInt(1)).toArray();
      assertThat(m.getDouble(0)).isCloseTo(RocAuc.exact(scores, labels), within(1e-12));
      assertThat(m.getLong(2) + m.getLong(3)).isEqualTo(test.size());
      double share = test.stream().filter(r -> r.getDouble(0) < 1e-6).count() / (double) test.size();
      assertThat(spark.sql("SELECT tied_share FROM iclt_metrics WHERE probe_kind = 'iclt_mi@" + sep + "' AND "
          + "train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'").first().getDouble(0))
          .as("tied share of mi@%s", sep).isCloseTo(share, within(1e-12));
    }
    // BET on exactly the same positions.
    Row bet = spark.sql("SELECT n_class0 + n_class1 FROM iclt_metrics WHERE probe_kind = 'bet' AND train_domain = "
        + "'all' AND eval_domain = 'all' AND eval_split = 'test'").first();
    assertThat(bet.getLong(0)).isEqualTo(spark.sql("SELECT count(DISTINCT doc_id, position) FROM iclt_scores "
        + "WHERE split = 'test'").first().getLong(0));

    // Paired comparisons: the same AUCs as iclt_metrics (same positions, same orientation), and
    // the documents of the evaluation set as the bootstrap's units.
    for (String kind : List.of("iclt_hint_repeat@dot-eos", "iclt_mi@none")) {
      Row cmp = spark.sql("SELECT c.auc, c.baseline_auc, c.auc_difference, c.n_docs, m.auc, b.auc, "
          + "c.difference_ci_low, c.difference_ci_high FROM iclt_comparisons c "
          + "JOIN iclt_metrics m USING (probe_kind, band, label_kind, train_domain, eval_domain, eval_split) "
          + "JOIN (SELECT * FROM iclt_metrics WHERE probe_kind = 'bet') b "
          + "USING (band, label_kind, train_domain, eval_domain, eval_split) "
          + "WHERE c.probe_kind = '" + kind + "' AND train_domain = 'all' AND eval_domain = 'all' "
          + "AND eval_split = 'test'").first();
      assertThat(cmp.getDouble(0)).as("%s AUC", kind).isEqualTo(cmp.getDouble(4));
      assertThat(cmp.getDouble(1)).as("BET AUC on the same positions").isEqualTo(cmp.getDouble(5));
      assertThat(cmp.getDouble(2)).isCloseTo(cmp.getDouble(4) - cmp.getDouble(5), within(1e-12));
      assertThat((long) cmp.getInt(3)).isEqualTo(spark.sql("SELECT count(DISTINCT doc_id) FROM iclt_scores "
          + "WHERE split = 'test'").first().getLong(0));
      assertThat(cmp.getDouble(6)).isLessThanOrEqualTo(cmp.getDouble(7));
    }

    Row sparkMetrics = spark.sql("SELECT count(*), sum(auc) FROM iclt_metrics WHERE auc = auc").first();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement st = db.createStatement()) {
      ResultSet r = st.executeQuery("SELECT count(*), sum(auc) FROM read_parquet('" + out
          + "/iclt_metrics/*/*.parquet') WHERE NOT isnan(auc)");
      r.next();
      assertThat(r.getLong(1)).isEqualTo(sparkMetrics.getLong(0));
      assertThat(r.getDouble(2)).isCloseTo(sparkMetrics.getDouble(1), within(1e-9));
      r = st.executeQuery("SELECT count(*), count(DISTINCT separator) FROM read_parquet('" + out
          + "/iclt_scores/*/*/*.parquet', hive_partitioning = true)");
      r.next();
      assertThat(r.getLong(1)).isEqualTo(counts.getLong(0));
      assertThat(r.getLong(2)).isEqualTo(2);
    }
  }

  /** +1 when the score's pooled val AUC is at least 0.5, else -1 (the stage's rule). */
  private static double tied(double mi) {
    return mi < 1e-6 ? 0 : mi;
  }

  private static int signOnVal(String score, String sep) {
    List<Row> val = spark.sql("SELECT " + score + ", label FROM iclt_scores WHERE split = 'val' AND separator = '"
        + sep + "'").collectAsList();
    double auc = RocAuc.exact(val.stream().mapToDouble(r -> tied(r.getDouble(0))).toArray(),
        val.stream().mapToInt(r -> r.getInt(1)).toArray());
    return auc < 0.5 ? -1 : 1;
  }
}
