package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.KnowableConfig;
import dev.knowable.io.Hashing;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.score.ScoreStage;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of a stage's input and output: a damaged committed input, an output that cannot
 * be written, an output that holds other runs' or other tools' tables. Each asserts the
 * message and that nothing committed changed.
 */
class OutputFaultsTest extends SparkTestBase {
  static final Path SMALL = TestModels.fixture("random-small");

  private static KnowableConfig cfg(Path tmp, String... more) {
    List<String> sets = new java.util.ArrayList<>(List.of(
        "ingest.inputs=[{path=\"" + TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl")
            + "\", format=jsonl}]",
        "tokenize.max-tokens=64", "tokenize.shards=2", "models.small.path=\"" + SMALL + "\"",
        "models.small.layers=[-1]"));
    sets.addAll(List.of(more));
    return config(tmp, sets.toArray(new String[0]));
  }

  /** SHA-256 of every file below dir, by relative path. */
  static Map<String, String> hashes(Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), Hashing.sha256Hex(p));
      }
    }
    return out;
  }

  static List<String> visible(Path tableDir) throws Exception {
    if (!Files.exists(tableDir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(tableDir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("_")).sorted().toList();
    }
  }

  @Test
  void aTruncatedCommittedParquetFileFailsTheNextStageNamingItAndStaysAsItWas(@TempDir Path tmp) throws Exception {
    KnowableConfig c = cfg(tmp);
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    Path tokens = tmp.resolve("out/tokens/run_id=test");
    Path part;
    try (Stream<Path> s = Files.walk(tokens)) {
      part = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().findFirst().orElseThrow();
    }
    // Cut the file in half: its footer (and magic) is gone, like an interrupted copy (which
    // brings no .crc file along; with Hadoop's local checksum file the read fails on that first).
    byte[] bytes = Files.readAllBytes(part);
    Files.write(part, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    Files.delete(part.resolveSibling("." + part.getFileName() + ".crc"));
    Map<String, String> before = hashes(tmp.resolve("out/tokens"));

    assertThatThrownBy(() -> Main.run(spark, "score-small", c))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("Table 'tokens' of run test at file:" + tokens + " cannot be read (a damaged or foreign file?): ")
        .hasMessageContaining("file:" + part)
        .hasMessageContaining("is not a Parquet file");
    assertThat(hashes(tmp.resolve("out/tokens"))).as("the committed input is untouched").isEqualTo(before);
    assertThat(visible(tmp.resolve("out/small_scores"))).as("no visible partial output").isEmpty();
    assertThat(tables.isCommitted("small_scores")).isFalse();
    // It failed reading its input, before writing anything (not even a staging folder).
    assertThat(tmp.resolve("out/small_scores")).doesNotExist();
    assertThat(tmp.resolve("out/small_rejects")).doesNotExist();
  }

  @Test
  void anOutputBelowAFileFailsBeforeAnyWorkNamingThePath(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("a-file");
    Files.writeString(file, "not a folder");
    KnowableConfig c = cfg(tmp, "output=\"" + file.resolve("out") + "\"");
    assertThatThrownBy(() -> Main.run(spark, "ingest", c))
        .isInstanceOf(dev.knowable.config.ConfigException.class)
        .hasMessageStartingWith("The output location file:" + file.resolve("out") + " is not writable (")
        .hasMessageContaining("Set knowable.output to a folder this job may create files in; nothing was computed.");
    assertThat(Files.readString(file)).isEqualTo("not a folder");
  }

  @Test
  void aReadOnlyOutputFolderFailsBeforeAnyWorkNamingThePath(@TempDir Path tmp) throws Exception {
    Path ro = Files.createDirectories(tmp.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      // root ignores permission bits: the check then has nothing to refuse.
      org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(ro), "running as root");
      KnowableConfig c = cfg(tmp, "output=\"" + ro + "\"");
      assertThatThrownBy(() -> Main.run(spark, "ingest", c))
          .hasMessageStartingWith("The output location file:" + ro + " is not writable (");
      try (Stream<Path> s = Files.list(ro)) {
        assertThat(s).isEmpty();
      }
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void anotherRunsTablesAreNeverOverwrittenOrMixed(@TempDir Path tmp) throws Exception {
    KnowableConfig r1 = cfg(tmp, "run-id=r1");
    Main.run(spark, "ingest,tokenize", r1);
    Map<String, String> r1Files = hashes(tmp.resolve("out"));

    // Another run with other settings into the same output: its own folders, r1 byte for byte the same.
    KnowableConfig r2 = cfg(tmp, "run-id=r2", "tokenize.long-documents=truncate");
    Main.run(spark, "ingest,tokenize", r2);
    Map<String, String> after = hashes(tmp.resolve("out"));
    r1Files.forEach((k, v) -> assertThat(after).containsEntry(k, v));
    assertThat(visible(tmp.resolve("out/tokens"))).containsExactly("run_id=r1", "run_id=r2");
    // Readers tell the runs apart by run_id; r1 keeps its long documents whole, r2 truncated them.
    List<Row> perRun = spark.read().parquet(tmp.resolve("out/tokens").toString()).groupBy("run_id")
        .agg(org.apache.spark.sql.functions.max("n_tokens")).orderBy("run_id").collectAsList();
    assertThat(perRun).extracting(r -> r.get(0).toString() + ":" + r.get(1)).containsExactly("r1:462", "r2:64");

    // The same run id with other settings: refused (if-exists=skip), nothing rewritten.
    KnowableConfig r1Changed = cfg(tmp, "run-id=r1", "tokenize.max-tokens=32");
    assertThatThrownBy(() -> Main.run(spark, "tokenize", r1Changed))
        .hasMessageContaining("Table 'tokens' of run r1 is already committed at")
        .hasMessageContaining("knowable.tokenize.max-tokens: 64 -> 32");
    KnowableConfig r1Fail = cfg(tmp, "run-id=r1", "if-exists=fail");
    assertThatThrownBy(() -> Main.run(spark, "tokenize", r1Fail))
        .hasMessageContaining("is already committed at").hasMessageContaining("knowable.if-exists=fail");
    Map<String, String> end = hashes(tmp.resolve("out"));
    r1Files.forEach((k, v) -> assertThat(end).containsEntry(k, v));

    // Files of another tool or layout in a table folder: refused before any work.
    Files.writeString(tmp.resolve("out/tokens/part-00000.parquet"), "someone else's table");
    KnowableConfig r3 = cfg(tmp, "run-id=r3");
    assertThatThrownBy(() -> Main.run(spark, "ingest,tokenize", r3))
        .hasMessage("Table folder file:" + tmp.resolve("out/tokens") + " holds [part-00000.parquet], which are not "
            + "knowable run folders (run_id=<id>): readers of tokens would mix them with this run's rows. Nothing "
            + "was written; choose another knowable.output or move them away.");
    assertThat(visible(tmp.resolve("out/documents"))).containsExactly("run_id=r1", "run_id=r2");
  }

  @Test
  void aScoreStageOnAnotherRunsOutputRootKeepsItsRunApart(@TempDir Path tmp) throws Exception {
    // score-small of r2 needs r2's tokens, even when r1's are committed in the same root.
    Main.run(spark, "ingest,tokenize", cfg(tmp, "run-id=r1"));
    assertThatThrownBy(() -> Main.run(spark, "score-small", cfg(tmp, "run-id=r2")))
        .hasMessageContaining("Table 'tokens' of run r2 is not committed at")
        .hasMessageContaining("Run the stage that writes it with the same run-id first.");
    assertThat(visible(tmp.resolve("out/small_scores"))).isEmpty();
    assertThat(visible(tmp.resolve("out/small_rejects"))).isEmpty();
    assertThat(new ScoreStage(ScoreStage.SMALL).outputs()).containsExactly("small_scores", "small_rejects");
  }
}
