package dev.knowable.jobs.iclt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.cli.RunSql;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ICLT without labels (positions = all-in-band): no large model, no label stage; every
 * in-band position of small_scores up to the cap, each under every separator. Also the
 * configuration errors the stage reports before any work.
 */
class IcltAllInBandTest extends SparkTestBase {

  @Test
  void scoresInBandPositionsOfARunWithoutALargeModel(@TempDir Path tmp) {
    String corpus = TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl").toString();
    KnowableConfig c = config(tmp, "ingest.inputs=[{path=\"" + corpus + "\", format=jsonl}]",
        "tokenize.max-tokens=100", "tokenize.shards=2",
        "models.small.path=\"" + TestModels.fixture("random-small") + "\"", "models.small.layers=[-1]",
        "iclt.positions=all-in-band", "iclt.bands=[\"5.4:inf\", \"0.0:5.4\"]", "iclt.max-per-cell=3",
        "iclt.splits=[train, val, test]", "iclt.candidates=4");
    Main.run(spark, "ingest,tokenize,score-small,iclt", c);
    RunSql.registerViews(spark, c);
    RunTables tables = new RunTables(spark, c);
    assertThat(tables.isCommitted("iclt_scores")).isTrue();
    assertThat(tables.isCommitted("iclt_metrics")).as("no labels: nothing to evaluate").isFalse();
    assertThat(SparkSchemas.mismatches("iclt_scores", tables.read("iclt_scores", "iclt").schema())).isEmpty();

    Row r = sql("SELECT count(*), count(label), count(label_kind), count(DISTINCT separator), "
        + "count(DISTINCT doc_id, position), min(n_candidates), max(n_candidates) FROM iclt_scores").get(0);
    assertThat(r.getLong(1)).as("no labels").isZero();
    assertThat(r.getLong(2)).isZero();
    assertThat(r.getLong(3)).isEqualTo(2);
    assertThat(r.getLong(0)).isEqualTo(r.getLong(4) * 2);
    assertThat(r.getInt(5)).isEqualTo(4);
    assertThat(r.getInt(6)).isEqualTo(4);
    // The cap: at most 3 positions per (domain, split, band); each band holds what small_scores has in it.
    assertThat(sql("SELECT domain, split, band FROM iclt_scores GROUP BY domain, split, band "
        + "HAVING count(DISTINCT doc_id, position) > 3")).isEmpty();
    assertThat(sql("SELECT count(*) FROM iclt_scores i JOIN small_scores s USING (doc_id, position) "
        + "WHERE i.small_entropy != s.entropy OR (i.band = '[5.4,inf)' AND s.entropy < 5.4) "
        + "OR (i.band = '[0.0,5.4)' AND s.entropy >= 5.4)").get(0).getLong(0)).isZero();
    long cells = sql("SELECT count(*) FROM (SELECT DISTINCT domain, split, band FROM small_scores s "
        + "JOIN (SELECT '[5.4,inf)' AS band, 5.4D AS lo, 1e9D AS hi UNION ALL SELECT '[0.0,5.4)', 0D, 5.4D) b "
        + "ON s.entropy >= b.lo AND s.entropy < b.hi)").get(0).getLong(0);
    long full = sql("SELECT count(*) FROM (SELECT domain, split, band FROM iclt_scores GROUP BY domain, split, "
        + "band HAVING count(DISTINCT doc_id, position) = 3)").get(0).getLong(0);
    assertThat(full).as("cells with at least 3 in-band positions are filled to the cap").isPositive();
    assertThat(sql("SELECT count(DISTINCT domain, split, band) FROM iclt_scores").get(0).getLong(0))
        .isEqualTo(cells);
  }

  @Test
  void badSettingsFailBeforeAnyWork(@TempDir Path tmp) {
    KnowableConfig noLargeModel = config(tmp, "iclt.model=large");
    assertThatThrownBy(() -> new IcltStage().run(spark, noLargeModel, new RunTables(spark, noLargeModel)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.models.large.path is not set");
    assertThatThrownBy(() -> dev.knowable.iclt.IcltSettings.from(
        config(tmp, "iclt.separators=[{name=\"Bad Name\"}]").raw()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("separator name must match");
    assertThatThrownBy(() -> dev.knowable.iclt.IcltSettings.from(config(tmp, "iclt.positions=some").raw()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("labelled or all-in-band");
  }
}
