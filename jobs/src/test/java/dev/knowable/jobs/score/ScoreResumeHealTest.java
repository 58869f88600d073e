package dev.knowable.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume heals an assembly left by an older version, whose shard commit cut each file's path
 * relative to a relative output folder by string length: its markers name files in a
 * folder that is no partition ("7-d0b68645a3d7/domain=x/part-s..."), which Spark refused to
 * publish, and its next run deleted the marked files as orphans. The next run now recomputes
 * those shards (it never publishes files outside the table's layout, never trusts a marker
 * whose files are gone or of another size) and publishes a table equal to a clean run's.
 */
class ScoreResumeHealTest extends SparkTestBase {
  static final ObjectMapper JSON = new ObjectMapper();

  static Path markersDir(RunTables tables) {
    return Path.of(tables.stagingRoot("small_scores").toUri().getPath(), "run_id=" + tables.runId() + ".shards",
        "_shards");
  }

  /** Rewrites every committed shard as the old code laid it out: its files under one more folder. */
  @SuppressWarnings("unchecked")
  static void breakAsTheOldCodeDid(RunTables tables, boolean alsoDeleteTheFiles) throws Exception {
    Path assembly = markersDir(tables).getParent();
    try (Stream<Path> s = Files.list(markersDir(tables))) {
      for (Path marker : s.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        Map<String, Object> m = JSON.readValue(marker.toFile(), LinkedHashMap.class);
        List<String> moved = new ArrayList<>();
        for (String f : (List<String>) m.get("files")) {
          String mangled = "7-d0b68645a3d7/" + f;
          Path to = assembly.resolve(mangled);
          Files.createDirectories(to.getParent());
          Files.move(assembly.resolve(f), to);
          Path crc = assembly.resolve(f).resolveSibling("." + to.getFileName() + ".crc");
          Path crcTo = to.resolveSibling("." + to.getFileName() + ".crc");
          if (Files.exists(crc)) {
            Files.move(crc, crcTo); // Hadoop's rename moves the checksum file along
          }
          if (alsoDeleteTheFiles) {
            Files.delete(to);
            Files.deleteIfExists(crcTo);
          }
          moved.add(mangled);
        }
        m.put("files", moved);
        m.remove("sizes"); // the old markers recorded no sizes
        JSON.writeValue(marker.toFile(), m);
      }
    }
  }

  void healsAndEqualsACleanRun(Path tmp, boolean filesDeleted) throws Exception {
    KnowableConfig clean = ScoreResumeTest.cfg(tmp, "clean");
    ScoreResumeTest.prepare(clean);
    RunTables cleanTables = new RunTables(spark, clean);
    new ScoreStage(ScoreStage.SMALL).run(spark, clean, cleanTables);
    List<Object> want = ScoreResumeTest.contentHash(cleanTables.read("small_scores", "score-small"));

    KnowableConfig c = ScoreResumeTest.cfg(tmp, "broken");
    ScoreResumeTest.prepare(c);
    RunTables tables = new RunTables(spark, c);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL, ScoreResumeTest.crashAt3(tables)).run(spark, c, tables))
        .hasMessageContaining("simulated crash before shard 3");
    long committed = ScoreResumeTest.markers(tables, "small_scores");
    assertThat(committed).isGreaterThanOrEqualTo(2);
    breakAsTheOldCodeDid(tables, filesDeleted);

    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    assertThat(((Number) tables.readManifest("small_scores").get("shards_reused")).intValue())
        .as("no broken shard is reused").isZero();
    assertThat(ScoreResumeTest.contentHash(tables.read("small_scores", "score-small"))).isEqualTo(want);
    Path published = Path.of(tables.tablePath("small_scores").toUri().getPath());
    try (Stream<Path> s = Files.list(published)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("_") && !n.startsWith(".")))
          .as("only partition folders").allMatch(n -> n.startsWith("domain="));
    }
    assertThat(Path.of(tables.stagingRoot("small_scores").toUri().getPath())).as("no staging left").doesNotExist();
  }

  @Test
  void anAssemblyWithTheOldLayoutIsRecomputedNotPublished(@TempDir Path tmp) throws Exception {
    healsAndEqualsACleanRun(tmp, false);
  }

  @Test
  void markersWhoseFilesTheOldCodeDeletedAreRecomputed(@TempDir Path tmp) throws Exception {
    healsAndEqualsACleanRun(tmp, true);
  }

  @Test
  void aMarkedFileOfAnotherSizeIsNotReusedAndNoMarkedFileOfAReusedShardIsDeleted(@TempDir Path tmp)
      throws Exception {
    KnowableConfig c = ScoreResumeTest.cfg(tmp, "sizes");
    ScoreResumeTest.prepare(c);
    RunTables tables = new RunTables(spark, c);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL, ScoreResumeTest.crashAt3(tables)).run(spark, c, tables))
        .hasMessageContaining("simulated crash");
    long committed = ScoreResumeTest.markers(tables, "small_scores");
    Path assembly = markersDir(tables).getParent();
    // A committed shard's marker records each file's size; grow one of its files by a byte.
    Map<String, Object> m0 = null;
    try (Stream<Path> s = Files.list(markersDir(tables))) {
      for (Path marker : s.filter(p -> p.getFileName().toString().matches("shard-\\d+\\.json")).sorted().toList()) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = JSON.readValue(marker.toFile(), Map.class);
        if (!((List<?>) m.get("files")).isEmpty()) {
          m0 = m;
          break;
        }
      }
    }
    assertThat(m0).as("a committed shard with files").isNotNull();
    assertThat((List<?>) m0.get("files")).as("the shard's files").isNotEmpty();
    assertThat((Map<?, ?>) m0.get("sizes")).hasSameSizeAs((List<?>) m0.get("files"));
    @SuppressWarnings("unchecked")
    String first = ((List<String>) m0.get("files")).get(0);
    Files.write(assembly.resolve(first), new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);

    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    assertThat(((Number) tables.readManifest("small_scores").get("shards_reused")).longValue())
        .isEqualTo(committed - 1);
    long positions = tables.read("tokens", "tokenize").agg(org.apache.spark.sql.functions.sum("n_tokens"))
        .first().getLong(0);
    assertThat(ScoreResumeTest.contentHash(tables.read("small_scores", "score-small")).subList(0, 2))
        .containsExactly(positions, positions);
  }
}
