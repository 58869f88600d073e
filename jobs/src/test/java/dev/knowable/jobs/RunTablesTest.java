package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The publish protocol: a failed write leaves nothing visible and loses nothing committed. */
class RunTablesTest extends SparkTestBase {

  static Dataset<Row> numbers(long n) {
    return spark.range(n).selectExpr("id", "CAST(id % 3 AS STRING) AS domain");
  }

  /** Fails on one row, mid-job, like an executor that dies while writing. */
  static Dataset<Row> failingAt(long n, long badId) {
    spark.udf().register("fail_at_" + badId, (UDF1<Long, Long>) v -> {
      if (v == badId) {
        throw new IllegalStateException("simulated executor failure at row " + v);
      }
      return v;
    }, DataTypes.LongType);
    return spark.range(n).repartition(4).selectExpr("fail_at_" + badId + "(id) AS id", "CAST(id % 3 AS STRING) AS domain");
  }

  @Test
  void committedTableHasAManifestWithRowCount(@TempDir Path tmp) {
    RunTables t = new RunTables(spark, config(tmp));
    assertThat(t.isCommitted("nums")).isFalse();
    long rows = t.write("nums", numbers(100), List.of("domain"), Map.of("note", "x"));
    assertThat(rows).isEqualTo(100);
    assertThat(t.isCommitted("nums")).isTrue();
    Map<String, Object> m = t.readManifest("nums");
    assertThat(m).containsEntry("rows", 100).containsEntry("note", "x").containsEntry("run_id", "test")
        .containsKeys("config", "versions", "committed_at");
    assertThat(t.read("nums", "x").count()).isEqualTo(100);
  }

  @Test
  void aFailedWriteLeavesNothingVisibleAndKeepsTheCommittedRun(@TempDir Path tmp) throws Exception {
    KnowableConfig first = config(tmp, "run-id=r1");
    new RunTables(spark, first).write("nums", numbers(50), List.of("domain"), Map.of());

    RunTables second = new RunTables(spark, config(tmp, "run-id=r2"));
    assertThatThrownBy(() -> second.write("nums", failingAt(1000, 777), List.of("domain"), Map.of()))
        .hasStackTraceContaining("simulated executor failure");
    assertThat(second.isCommitted("nums")).isFalse();
    Path table = tmp.resolve("out/nums");
    try (Stream<Path> s = Files.list(table)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("_")))
          .as("only the committed run is visible").containsExactly("run_id=r1");
    }
    // Removed once every task of the failed job has ended (a late task would recreate it).
    assertThat(table.resolve("_staging")).as("staging is cleaned up").doesNotExist();
    // An analyst reading the whole table sees exactly the committed run.
    Dataset<Row> all = spark.read().parquet(table.toString());
    assertThat(all.count()).isEqualTo(50);
    assertThat(all.select("run_id").distinct().collectAsList()).extracting(r -> r.get(0).toString())
        .containsExactly("r1");

    // A failed overwrite of a committed run keeps the committed data.
    RunTables overwrite = new RunTables(spark, config(tmp, "run-id=r1", "if-exists=overwrite"));
    assertThatThrownBy(() -> overwrite.write("nums", failingAt(1000, 5), List.of("domain"), Map.of()))
        .hasStackTraceContaining("simulated executor failure");
    assertThat(overwrite.isCommitted("nums")).isTrue();
    assertThat(overwrite.read("nums", "x").count()).isEqualTo(50);
  }

  @Test
  void aCrashedRunFolderWithoutManifestIsNotCommittedAndGetsReplaced(@TempDir Path tmp) throws Exception {
    Path leftover = tmp.resolve("out/nums/run_id=test");
    Files.createDirectories(leftover);
    Files.writeString(leftover.resolve("part-0000.parquet"), "half-written garbage");
    RunTables t = new RunTables(spark, config(tmp));
    assertThat(t.isCommitted("nums")).isFalse();
    assertThat(t.needsWrite("nums")).isTrue();
    assertThatThrownBy(() -> t.read("nums", "nums-stage"))
        .hasMessageContaining("is not committed").hasMessageContaining("Run the 'nums-stage' stage");
    t.write("nums", numbers(10), List.of(), Map.of());
    assertThat(Files.exists(leftover.resolve("part-0000.parquet"))).isFalse();
    assertThat(t.read("nums", "x").count()).isEqualTo(10);
  }

  @Test
  void anEmptyPartitionedTableIsPublishedWithZeroRows(@TempDir Path tmp) {
    RunTables t = new RunTables(spark, config(tmp));
    assertThat(t.write("nums", numbers(10).filter("id < 0"), List.of("domain"), Map.of())).isZero();
    assertThat(t.isCommitted("nums")).isTrue();
    assertThat(t.readManifest("nums")).containsEntry("rows", 0);
  }

  @Test
  void anotherRunIdInTheSameOutputIsAnotherFolderAndIsLeftAlone(@TempDir Path tmp) {
    RunTables r1 = new RunTables(spark, config(tmp, "run-id=r1"));
    r1.write("nums", numbers(10), List.of(), Map.of());
    Object committed = r1.readManifest("nums").get("committed_at");
    RunTables r2 = new RunTables(spark, config(tmp, "run-id=r2", "tokenize.max-tokens=512"));
    assertThat(r2.needsWrite("nums")).as("r2 has nothing committed yet").isTrue();
    r2.write("nums", numbers(20), List.of(), Map.of());
    assertThat(r1.readManifest("nums")).containsEntry("committed_at", committed);
    assertThat(r1.read("nums", "x").count()).isEqualTo(10);
    assertThat(r2.read("nums", "x").count()).isEqualTo(20);
    assertThat(r2.readManifest("nums").get("config_fingerprint"))
        .isNotEqualTo(r1.readManifest("nums").get("config_fingerprint"));
  }

  @Test
  void skipRefusesATableCommittedWithAnotherConfigAndKeepsIt(@TempDir Path tmp) {
    KnowableConfig first = config(tmp, "tokenize.max-tokens=512");
    RunTables t1 = new RunTables(spark, first);
    t1.write("nums", numbers(10), List.of(), Map.of());
    Map<String, Object> manifest = t1.readManifest("nums");
    assertThat(manifest).containsEntry("config_fingerprint", first.fingerprint());
    // The same results-relevant settings: skip reuses the table (run-id, output, if-exists,
    // spark.* and batching are not part of the fingerprint).
    assertThat(new RunTables(spark, config(tmp, "tokenize.max-tokens=512", "score.token-budget=64",
        "spark.conf.\"spark.sql.shuffle.partitions\"=3")).needsWrite("nums")).isFalse();

    KnowableConfig changed = config(tmp);
    RunTables t2 = new RunTables(spark, changed);
    assertThatThrownBy(() -> t2.needsWrite("nums")).isInstanceOf(dev.knowable.config.ConfigException.class)
        .hasMessageContaining("Table 'nums' of run test is already committed")
        .hasMessageContaining("config fingerprint " + first.fingerprint())
        .hasMessageContaining("current config's fingerprint is " + changed.fingerprint())
        .hasMessageContaining("knowable.tokenize.max-tokens: 512 -> 2048")
        .hasMessageContaining("Use a new run-id, or set if-exists=overwrite");
    // Nothing committed is lost.
    assertThat(t1.readManifest("nums")).containsEntry("committed_at", manifest.get("committed_at"));
    assertThat(t1.read("nums", "x").count()).isEqualTo(10);
    // overwrite and fail behave as before.
    assertThat(new RunTables(spark, config(tmp, "if-exists=overwrite")).needsWrite("nums")).isTrue();
    assertThatThrownBy(() -> new RunTables(spark, config(tmp, "if-exists=fail")).needsWrite("nums"))
        .hasMessageContaining("if-exists=fail");
  }

  @Test
  void aManifestWithoutAFingerprintIsComparedByItsRecordedConfig(@TempDir Path tmp) throws Exception {
    RunTables t = new RunTables(spark, config(tmp));
    t.write("nums", numbers(5), List.of(), Map.of());
    // A manifest written before fingerprints were recorded.
    Path manifest = tmp.resolve("out/nums/run_id=test/" + RunTables.MANIFEST);
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replaceAll("\"config_fingerprint\" : \"[0-9a-f]+\",", ""));
    Files.deleteIfExists(manifest.resolveSibling("." + RunTables.MANIFEST + ".crc")); // Hadoop's local checksum
    assertThat(t.readManifest("nums")).doesNotContainKey("config_fingerprint");
    assertThat(t.needsWrite("nums")).isFalse();
    assertThatThrownBy(() -> new RunTables(spark, config(tmp, "ingest.max-chars=10")).needsWrite("nums"))
        .hasMessageContaining("knowable.ingest.max-chars: 5000000 -> 10");
  }

  @Test
  void stagedCountsReadWhatWasWrittenIntoTheManifest(@TempDir Path tmp) {
    RunTables t = new RunTables(spark, config(tmp));
    // 100 rows, of which ids 0, 10, ..., 90 carry a NaN entropy.
    Dataset<Row> rows = spark.range(100).selectExpr("id",
        "IF(id % 10 = 0, double('NaN'), CAST(id AS DOUBLE)) AS entropy", "CAST(id % 3 AS STRING) AS domain");
    t.write("nums", rows, List.of("domain"), Map.of(),
        staged -> Map.of("non_finite_entropies", staged.filter("isnan(entropy)").count()));
    assertThat(((Number) t.readManifest("nums").get("non_finite_entropies")).longValue()).isEqualTo(10);
    assertThat(t.read("nums", "x").count()).isEqualTo(100);
  }
}
