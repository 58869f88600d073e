package dev.knowable.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.model.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as a user runs it: a separate JVM (Main, the launcher's log settings) whose
 * working directory is not the repository root, with a config whose output, input and model
 * paths are all relative to it. Through label, then score-small killed (SIGKILL) after its
 * first committed shard and resumed; and user errors: one 'knowable:' line, exit 2, before
 * any stage runs. Before paths were qualified once, shard commits cut paths by string length
 * and a relative output could never publish small_scores.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliFromAnotherFolderTest {
  @TempDir
  static Path work;
  static final Path ROOT = TestModels.repoRoot();
  static final String JAVA = Paths.get(System.getProperty("java.home"), "bin", "java").toString();

  record Result(int rc, String stderr, double seconds) {}

  static List<String> command(String... args) {
    List<String> cmd = new ArrayList<>(List.of(JAVA, "-Xmx1g", "-Dai.djl.offline=true",
        "-Dai.djl.pytorch.num_interop_threads=1",
        "-Dlog4j2.configurationFile=" + ROOT.resolve("conf/log4j2.properties"),
        "-Dknowable.log.file=" + work.resolve("knowable.log")));
    for (String f : System.getProperty("knowable.spark.jvm.flags", "").trim().split("\\s+")) {
      if (!f.isEmpty()) {
        cmd.add(f);
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.knowable.jobs.Main"));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--config", "job.conf", "--set", "spark.master=\"local[2]\""));
    return cmd;
  }

  static Process start(String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command(args)).directory(work.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(work.resolve("stderr.txt").toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return pb.start();
  }

  static Result run(String... args) throws Exception {
    long t0 = System.nanoTime();
    Process p = start(args);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("finished").isTrue();
    return new Result(p.exitValue(), Files.readString(work.resolve("stderr.txt"), StandardCharsets.UTF_8),
        (System.nanoTime() - t0) / 1e9);
  }

  /** The working folder: in/ (4 documents of each demo domain), models/ (links), job.conf with relative paths. */
  static void prepare() throws IOException {
    if (Files.exists(work.resolve("job.conf"))) {
      return;
    }
    Path in = Files.createDirectories(work.resolve("in"));
    List<String> slice = new ArrayList<>();
    try (Stream<Path> files = Files.list(ROOT.resolve("demo/corpora/probe"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
        slice.addAll(Files.readAllLines(f, StandardCharsets.UTF_8).subList(0, 4));
      }
    }
    Files.write(in.resolve("slice.jsonl"), slice, StandardCharsets.UTF_8);
    Files.createDirectories(work.resolve("models"));
    Files.createSymbolicLink(work.resolve("models/small"), ROOT.resolve("demo/models/tiny-small"));
    Files.createSymbolicLink(work.resolve("models/large"), ROOT.resolve("demo/models/tiny-large"));
    Files.writeString(work.resolve("job.conf"), String.join("\n",
        "run-id = cli",
        "output = \"out\"",
        "ingest.split.group-separator = \"#\"",
        "ingest.inputs = [ { path = \"in\", format = jsonl } ]",
        "tokenize { max-tokens = 128, shards = 6 }",
        "models.small { path = \"models/small\", layers = [1, 2] }",
        "models.large.path = \"models/large\"",
        "score.token-budget = 512",
        "spark.conf { \"spark.sql.shuffle.partitions\" = \"4\" }",
        "label.band-unit = quantile",
        "label.bands = [\"0.5:1.0\"]", ""));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> manifest(String table) throws IOException {
    return new ObjectMapper().readValue(work.resolve("out/" + table + "/run_id=cli/_manifest.json").toFile(), Map.class);
  }

  static long markers() throws IOException {
    Path dir = work.resolve("out/small_scores/_staging/run_id=cli.shards/_shards");
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("shard-\\d+\\.json")).count();
    }
  }

  static List<String> stagingFolders() throws IOException {
    try (Stream<Path> s = Files.walk(work.resolve("out"), 2)) {
      return s.filter(p -> p.getFileName().toString().equals("_staging")).map(Path::toString).toList();
    }
  }

  @Test
  @Order(1)
  void thePipelineThroughLabelRunsWithRelativePathsFromAnotherFolder() throws Exception {
    prepare();
    Result r = run("ingest,tokenize,score-small,score-large,label");
    assertThat(r.rc()).as("exit code; stderr:\n%s", r.stderr()).isZero();
    assertThat(r.stderr()).doesNotContain("knowable:").doesNotContain("\tat ").contains("knowable run cli finished");
    for (String t : List.of("documents", "tokens", "small_scores", "large_scores", "probe_examples")) {
      Map<String, Object> m = manifest(t);
      Map<String, Object> loc = (Map<String, Object>) m.get("locations");
      assertThat(loc.get("table")).as(t).isEqualTo("file:" + work.resolve("out/" + t + "/run_id=cli"));
      assertThat(loc.get("output")).isEqualTo("file:" + work.resolve("out"));
      assertThat((List<String>) loc.get("inputs")).containsExactly("file:" + work.resolve("in"));
      assertThat(loc.get("models.small.path")).isEqualTo(work.resolve("models/small").toString());
      // The config as written: what the fingerprint covers.
      assertThat(((Map<String, Object>) m.get("config")).get("output")).isEqualTo("out");
    }
    assertThat(((Number) manifest("small_scores").get("shards")).intValue()).isEqualTo(6);
    assertThat(stagingFolders()).as("no staging folder after a successful run").isEmpty();
  }

  @Test
  @Order(2)
  void aKilledScoreStageResumesFromItsCommittedShards() throws Exception {
    prepare();
    long rows = ((Number) manifest("small_scores").get("rows")).longValue();
    Process p = start("score-small", "--set", "if-exists=overwrite");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (markers() < 1 && p.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(p.isAlive()).as("still scoring when the first shard is committed").isTrue();
    p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, like a lost driver
    long committed = markers();
    assertThat(committed).isBetween(1L, 5L);

    Result r = run("score-small", "--set", "if-exists=overwrite");
    assertThat(r.rc()).as("exit code; stderr:\n%s", r.stderr()).isZero();
    Map<String, Object> m = manifest("small_scores");
    assertThat(((Number) m.get("shards_reused")).longValue()).isEqualTo(committed);
    assertThat(((Number) m.get("rows")).longValue()).isEqualTo(rows);
    assertThat(stagingFolders()).isEmpty();
  }

  @Test
  @Order(3)
  void aMissingModelFailsBeforeAnyStageWithOneLineAndExitTwo() throws Exception {
    prepare();
    Result r = run("pipeline", "--set", "run-id=nomodel", "--set", "models.large.path=\"models/no-such\"");
    assertThat(r.rc()).isEqualTo(Main.USAGE);
    List<String> lines = r.stderr().lines().filter(l -> l.startsWith("knowable:")).toList();
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains("knowable.models.large.path").contains(work.resolve("models/no-such").toString());
    assertThat(r.stderr()).doesNotContain("\tat ").doesNotContain("stage ingest started");
    assertThat(work.resolve("out/documents/run_id=nomodel")).doesNotExist();
    assertThat(Files.readString(work.resolve("knowable.log"))).as("the stack trace is in the log").contains("\tat ");
  }

  @Test
  @Order(4)
  void aDamagedParquetInputIsReportedOnceWithExitTwo() throws Exception {
    prepare();
    Path bad = Files.createDirectories(work.resolve("bad"));
    Files.writeString(bad.resolve("part-0.parquet"), "not parquet at all");
    Result r = run("ingest", "--set", "run-id=damaged", "--set", "ingest.inputs=[{path=\"bad\", format=parquet}]");
    assertThat(r.rc()).isEqualTo(Main.USAGE);
    List<String> lines = r.stderr().lines().filter(l -> l.contains("part-0.parquet")).toList();
    assertThat(lines).as(r.stderr()).hasSize(1);
    assertThat(lines.get(0)).startsWith("knowable:");
    assertThat(r.stderr()).doesNotContain("\tat ");
  }
}
