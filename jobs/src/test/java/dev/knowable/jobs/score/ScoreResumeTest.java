package dev.knowable.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.tokenize.TokenizeStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shard-level resume of score-small: a stage that dies after some shards are committed leaves
 * no visible table, its rerun computes only the missing shards and publishes a table equal
 * (row for row, bit for bit) to a clean run's; a rerun with other settings reuses nothing.
 * The crash is simulated on the driver before shard 3 (of 4) is started.
 */
class ScoreResumeTest extends SparkTestBase {

  static KnowableConfig cfg(Path tmp, String runId, String... more) throws Exception {
    List<String> sets = new ArrayList<>(List.of("tokenize.shards=4", "run-id=" + runId));
    sets.addAll(Arrays.asList(more));
    // One input and output folder per run id (pipelineConfig copies the corpus into it).
    Path base = tmp.resolve(runId);
    Files.deleteIfExists(base.resolve("in/part-1.jsonl"));
    return ExtractionStagesTest.pipelineConfig(base, sets.toArray(new String[0]));
  }

  /** Order-independent content hash: row count, distinct positions, and the sum of every row's 64-bit hash. */
  static List<Object> contentHash(Dataset<Row> t) {
    t.createOrReplaceTempView("hashed");
    Row r = spark.sql("SELECT count(*), count(DISTINCT doc_id, position), "
        + "sum(CAST(xxhash64(*) AS DECIMAL(38, 0))) FROM hashed").first();
    return List.of(r.get(0), r.get(1), r.get(2).toString());
  }

  static long markers(RunTables tables, String table) throws IOException {
    Path dir = Path.of(tables.stagingRoot(table).toUri().getPath(), "run_id=" + tables.runId() + ".shards", "_shards");
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("shard-\\d+\\.json")).count();
    }
  }

  /**
   * A driver crash when shard 3 is about to start, once at least two shards are committed
   * (shard jobs run concurrently, twice as many as task slots, so shard 3 may be handed out
   * before any other shard is done: the hook waits for two markers, up to a minute).
   */
  static java.util.function.IntConsumer crashAt3(RunTables tables) {
    return k -> {
      if (k != 3) {
        return;
      }
      long deadline = System.nanoTime() + 60_000_000_000L;
      try {
        while (markers(tables, "small_scores") < 2 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
      throw new IllegalStateException("simulated crash before shard 3");
    };
  }

  /** Ingest and tokenize once into a run; copies of its tables serve the other runs. */
  static void prepare(KnowableConfig c) {
    RunTables t = new RunTables(spark, c);
    new IngestStage().run(spark, c, t);
    new TokenizeStage().run(spark, c, t);
  }

  @Test
  void aKilledStageResumesFromItsCommittedShardsAndEqualsACleanRun(@TempDir Path tmp) throws Exception {
    KnowableConfig clean = cfg(tmp, "clean");
    prepare(clean);
    RunTables cleanTables = new RunTables(spark, clean);
    new ScoreStage(ScoreStage.SMALL).run(spark, clean, cleanTables);
    List<Object> want = contentHash(cleanTables.read("small_scores", "score-small"));
    assertThat(((Number) cleanTables.readManifest("small_scores").get("shards_reused")).intValue()).isZero();

    KnowableConfig c = cfg(tmp, "resumed");
    prepare(c);
    RunTables tables = new RunTables(spark, c);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL, crashAt3(tables)).run(spark, c, tables))
        .hasMessageContaining("simulated crash before shard 3");
    assertThat(tables.isCommitted("small_scores")).isFalse();
    assertThat(Path.of(tables.tablePath("small_scores").toUri().getPath())).as("no visible partial table")
        .doesNotExist();
    long committed = markers(tables, "small_scores");
    // The crash comes once two shards are committed; a third may finish before it.
    assertThat(committed).isBetween(2L, 3L);

    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    Map<String, Object> manifest = tables.readManifest("small_scores");
    assertThat(((Number) manifest.get("shards_reused")).longValue()).isEqualTo(committed);
    assertThat(((Number) manifest.get("shards")).intValue()).isEqualTo(4);
    assertThat(contentHash(tables.read("small_scores", "score-small"))).isEqualTo(want);
    assertThat(markers(tables, "small_scores")).as("markers removed after publishing").isZero();
    assertThat(Path.of(tables.tablePath("small_scores").toUri().getPath()).resolve("_shards")).doesNotExist();
    // No staging remains (no shard job output, no assembly).
    assertThat(Path.of(tables.stagingRoot("small_scores").toUri().getPath())).doesNotExist();
    // The rejects table is published too (empty: the fixture model is finite everywhere).
    assertThat(tables.read("small_rejects", "score-small").count()).isZero();
  }

  @Test
  void aRerunWithOtherSettingsNeverReusesShards(@TempDir Path tmp) throws Exception {
    KnowableConfig c = cfg(tmp, "changed");
    prepare(c);
    RunTables tables = new RunTables(spark, c);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL, crashAt3(tables)).run(spark, c, tables))
        .hasMessageContaining("simulated crash");
    assertThat(markers(tables, "small_scores")).isGreaterThanOrEqualTo(2);

    // Other hidden layers: another small_scores fingerprint.
    KnowableConfig other = cfg(tmp, "changed", "models.small.layers=[1]");
    assertThat(other.fingerprint("small_scores")).isNotEqualTo(c.fingerprint("small_scores"));
    RunTables otherTables = new RunTables(spark, other);
    new ScoreStage(ScoreStage.SMALL).run(spark, other, otherTables);
    Map<String, Object> manifest = otherTables.readManifest("small_scores");
    assertThat(((Number) manifest.get("shards_reused")).intValue()).isZero();
    assertThat(manifest.get("config_fingerprint")).isEqualTo(other.fingerprint("small_scores"));
    Dataset<Row> scores = otherTables.read("small_scores", "score-small");
    assertThat(Arrays.asList(scores.columns())).contains("hidden_l1").doesNotContain("hidden_l0", "hidden_l2");
    long positions = otherTables.read("tokens", "tokenize").agg(org.apache.spark.sql.functions.sum("n_tokens"))
        .first().getLong(0);
    assertThat(contentHash(scores).subList(0, 2)).containsExactly(positions, positions);
  }

  @Test
  void shardsOfAnOlderTokensTableAreNotReused(@TempDir Path tmp) throws Exception {
    KnowableConfig c = cfg(tmp, "retokenized");
    prepare(c);
    RunTables tables = new RunTables(spark, c);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL, crashAt3(tables)).run(spark, c, tables))
        .hasMessageContaining("simulated crash");
    assertThat(markers(tables, "small_scores")).isGreaterThanOrEqualTo(2);
    // The same settings, but the tokens table was recomputed in between.
    KnowableConfig overwrite = cfg(tmp, "retokenized", "if-exists=overwrite");
    new TokenizeStage().run(spark, overwrite, new RunTables(spark, overwrite));
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    assertThat(((Number) tables.readManifest("small_scores").get("shards_reused")).intValue()).isZero();
  }
}
