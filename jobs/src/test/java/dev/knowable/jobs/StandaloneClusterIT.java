package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on loopback - a Master and a Worker started from the
 * spark-core classes as separate JVMs, executors launched by the Worker - running the
 * shaded application jar through SparkSubmit, as a user would. Runs in the
 * integration-test phase, after the jar is built. The "Spark installation" is a folder
 * whose jars/ links to Spark's jars in the local Maven repository.
 */
class StandaloneClusterIT {
  static final List<Process> PROCESSES = new ArrayList<>();
  static Path sparkHome;
  static String masterUrl;
  static final String JAVA = Paths.get(System.getProperty("java.home"), "bin", "java").toString();

  static List<String> jvm(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>(List.of(JAVA, "-Xmx768m"));
    cmd.addAll(List.of(System.getProperty("knowable.spark.jvm.flags", "").trim().split("\\s+")));
    cmd.addAll(List.of("-cp", sparkHome.resolve("jars") + File.separator + "*", mainClass));
    cmd.addAll(List.of(args));
    cmd.removeIf(String::isEmpty);
    return cmd;
  }

  static Process start(List<String> cmd, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.12");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("OMP_NUM_THREADS", "1");
    Process p = pb.start();
    PROCESSES.add(p);
    return p;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void awaitLine(Path log, String text, int seconds) throws Exception {
    long end = System.currentTimeMillis() + seconds * 1000L;
    while (System.currentTimeMillis() < end) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("'" + text + "' did not appear in " + log + " within " + seconds + " s:\n"
        + (Files.exists(log) ? Files.readString(log) : "(no log)"));
  }

  @BeforeAll
  static void startCluster() throws Exception {
    Path target = TestModels.repoRoot().resolve("jobs/target");
    sparkHome = target.resolve("it-spark-home");
    Path jars = sparkHome.resolve("jars");
    Files.createDirectories(jars);
    // Spark's launcher finds jars/ only in a folder with a RELEASE file (a distribution).
    Files.writeString(sparkHome.resolve("RELEASE"), "Spark for knowable integration tests\n");
    for (String jar : Files.readString(target.resolve("spark-classpath.txt")).trim().split(File.pathSeparator)) {
      Path link = jars.resolve(Paths.get(jar).getFileName());
      if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, Paths.get(jar));
      }
    }
    int port = freePort();
    masterUrl = "spark://127.0.0.1:" + port;
    Path logs = target.resolve("it-logs");
    Files.createDirectories(logs);
    start(jvm("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(port),
        "--webui-port", String.valueOf(freePort())), logs.resolve("master.log"));
    awaitLine(logs.resolve("master.log"), "I have been elected leader", 60);
    start(jvm("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "3g",
        "--webui-port", String.valueOf(freePort()), "--work-dir", target.resolve("it-work").toString(), masterUrl),
        logs.resolve("worker.log"));
    awaitLine(logs.resolve("worker.log"), "Successfully registered with master", 60);
  }

  @AfterAll
  static void stopCluster() throws InterruptedException {
    for (Process p : PROCESSES) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void sparkSubmitRunsTheExtractionStagesOnTheCluster(@TempDir Path tmp) throws Exception {
    Path root = TestModels.repoRoot();
    Path conf = tmp.resolve("job.conf");
    Files.writeString(conf, String.join("\n",
        "run-id = it",
        "output = \"" + tmp.resolve("out") + "\"",
        "ingest.inputs = [ { path = \"" + root.resolve("common/src/test/resources/corpus/jsonl") + "\", format = jsonl } ]",
        "tokenize { max-tokens = 100, shards = 2 }",
        "models.small { path = \"" + TestModels.fixture("random-small") + "\", layers = [-1] }",
        "models.large.path = \"" + TestModels.fixture("random-large") + "\"", ""));
    Path log = tmp.resolve("submit.log");
    Process submit = start(jvm("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl,
        "--deploy-mode", "client", "--class", "dev.knowable.jobs.Main",
        "--conf", "spark.executor.memory=1g", "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
        "--conf", "spark.executor.extraJavaOptions=-Dai.djl.offline=true -Dai.djl.pytorch.num_interop_threads=1",
        "--conf", "spark.driver.extraJavaOptions=-Dai.djl.offline=true",
        root.resolve("jobs/target/knowable-app.jar").toString(),
        "ingest,tokenize,score-small,score-large", "--config", conf.toString()), log);
    assertThat(submit.waitFor(8, TimeUnit.MINUTES)).as("spark-submit finishes").isTrue();
    String out = Files.readString(log);
    assertThat(submit.exitValue()).as("spark-submit exit code; log:\n%s", out).isZero();
    assertThat(out).contains("app-").contains("knowable run it finished");
    // The work ran on the cluster's executors: the Worker launched at least one.
    assertThat(Files.readString(sparkHome.getParent().resolve("it-logs/worker.log"))).contains("Asked to launch executor");

    Path o = tmp.resolve("out");
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:")) {
      ResultSet r = db.createStatement().executeQuery("SELECT (SELECT count(*) FROM read_parquet('" + o
          + "/documents/*/*/*.parquet')), (SELECT sum(n_tokens) FROM read_parquet('" + o
          + "/tokens/*/*/*.parquet')), (SELECT count(*) FROM read_parquet('" + o
          + "/small_scores/*/*/*.parquet')), (SELECT count(*) FROM read_parquet('" + o
          + "/large_scores/*/*/*.parquet'))");
      r.next();
      assertThat(r.getLong(1)).as("documents of part-1/part-2 jsonl").isEqualTo(9);
      assertThat(r.getLong(3)).isEqualTo(r.getLong(2));
      assertThat(r.getLong(4)).isEqualTo(r.getLong(2));
    }
    for (String t : List.of("documents", "rejects", "tokens", "small_scores", "large_scores")) {
      assertThat(o.resolve(t).resolve("run_id=it/_manifest.json")).exists();
    }
  }
}
