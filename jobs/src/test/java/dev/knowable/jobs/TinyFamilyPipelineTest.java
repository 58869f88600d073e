package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.config.KnowableConfig;
import dev.knowable.model.TestModels;
import dev.knowable.schema.TableSchema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every stage, ingest through probe, in local[2] on the trained tiny family and a slice
 * of the bundled probe corpus (the first passages of each domain), with probe training
 * shortened (1 seed, a narrow MLP, few epochs) so it fits CI. Checks that label and probe
 * produce a metric row for every configured (probe, layer, band, train domain, eval domain)
 * and that every table matches its data-schemas description.
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
        "label.bands=[\"2.0:inf\", \"1.0:2.0\"]", "label.kinds=[gap]",
        "probe.seeds=1", "probe.mlp.hidden=32", "probe.mlp.max-epochs=3", "probe.bootstrap-resamples=20");
    Main.run(spark, "pipeline", c);

    for (String t : List.of("documents", "tokens", "small_scores", "large_scores", "probe_examples", "probe_metrics",
        "cross_domain")) {
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
    assertThat(kinds).contains("linear", "mlp", "bet", "context_k1", "context_k2", "context_k3", "context_k4");
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
  }
}
