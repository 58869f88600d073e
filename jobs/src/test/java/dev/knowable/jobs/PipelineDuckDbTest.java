package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.cli.RunSql;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole extraction pipeline through {@link Main#run}, read back by DuckDB as an
 * independent Parquet reader: counts and entropy sums must agree with Spark's.
 */
class PipelineDuckDbTest extends SparkTestBase {

  @Test
  void duckDbReadsWhatThePipelineWrote(@TempDir Path tmp) throws Exception {
    String corpus = TestModels.repoRoot().resolve("common/src/test/resources/corpus").toString();
    KnowableConfig c = config(tmp,
        "ingest.inputs=[{path=\"" + corpus + "/jsonl\", format=jsonl}, {path=\"" + corpus + "/text\", format=text}]",
        "tokenize.max-tokens=100", "tokenize.shards=2",
        "models.small.path=\"" + TestModels.fixture("random-small") + "\"", "models.small.layers=[1, 2]",
        "models.large.path=\"" + TestModels.fixture("random-large") + "\"");
    Main.run(spark, "ingest,tokenize,score-small,score-large", c);

    Path out = tmp.resolve("out");
    assertThat(RunSql.registerViews(spark, c)).contains("documents", "rejects", "tokens", "small_scores",
        "large_scores");
    assertThat(spark.sql("SELECT count(*) FROM rejects").first().getLong(0)).isEqualTo(9);
    Row sparkSmall = spark.read().parquet(out.resolve("small_scores").toString())
        .selectExpr("count(*)", "sum(entropy)", "count(DISTINCT doc_id)", "sum(octet_length(hidden_l1) div 2)").first();
    Row sparkLarge = spark.read().parquet(out.resolve("large_scores").toString())
        .selectExpr("count(*)", "sum(entropy)").first();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement st = db.createStatement()) {
      ResultSet r = st.executeQuery("SELECT count(*), sum(entropy), count(DISTINCT doc_id), sum(octet_length(hidden_l1) // 2), "
          + "min(run_id), count(DISTINCT domain) FROM read_parquet('" + out + "/small_scores/*/*/*.parquet', "
          + "hive_partitioning = true)");
      r.next();
      assertThat(r.getLong(1)).isEqualTo(sparkSmall.getLong(0));
      assertThat(r.getDouble(2)).isCloseTo(sparkSmall.getDouble(1), within(1e-3));
      assertThat(r.getLong(3)).isEqualTo(sparkSmall.getLong(2)).isEqualTo(12);
      assertThat(r.getLong(4)).isEqualTo(sparkSmall.getLong(3)).isEqualTo(sparkSmall.getLong(0) * 32);
      assertThat(r.getString(5)).isEqualTo("test");
      assertThat(r.getLong(6)).as("news, code, poetry, prose").isEqualTo(4);

      r = st.executeQuery("SELECT count(*), sum(entropy), sum(len(topk_ids)) FROM read_parquet('" + out
          + "/large_scores/*/*/*.parquet', hive_partitioning = true)");
      r.next();
      assertThat(r.getLong(1)).isEqualTo(sparkLarge.getLong(0));
      assertThat(r.getDouble(2)).isCloseTo(sparkLarge.getDouble(1), within(1e-3));
      assertThat(r.getLong(3)).isEqualTo(sparkLarge.getLong(0) * 10);

      // Per-document position counts equal the tokens table's n_tokens.
      r = st.executeQuery("SELECT count(*) FROM (SELECT doc_id, count(*) AS n FROM read_parquet('" + out
          + "/small_scores/*/*/*.parquet') GROUP BY doc_id) s JOIN read_parquet('" + out
          + "/tokens/*/*/*.parquet') t USING (doc_id) WHERE s.n != t.n_tokens");
      r.next();
      assertThat(r.getLong(1)).as("documents whose position count differs from n_tokens").isZero();

      r = st.executeQuery("SELECT count(*) FROM read_parquet('" + out + "/rejects/*/*.parquet')");
      r.next();
      assertThat(r.getLong(1)).isEqualTo(9);
    }
  }
}
