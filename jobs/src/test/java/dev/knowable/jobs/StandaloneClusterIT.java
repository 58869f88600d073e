package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.tables.RunTables;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on loopback - a Master and two Workers (one core each)
 * started from the spark-core classes as separate JVMs, executors launched by the Workers -
 * running the shaded application jar through SparkSubmit, as a user would. Runs in the
 * integration-test phase, after the jar is built. The "Spark installation" is a folder
 * whose jars/ links to Spark's jars in the local Maven repository.
 *
 * <p>Then faults on that cluster, with the pipeline through label on a slice of the embedded
 * default (demo corpus and tiny model pair, 6 shards): a run whose Worker dies while
 * score-small runs, and a run whose driver is killed while score-large runs and that is
 * then rerun; every table of both must equal a local-mode run's (row count, distinct
 * positions, content hash over all columns).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  static final List<Process> PROCESSES = new ArrayList<>();
  static Path sparkHome;
  static String masterUrl;
  /** The Worker JVMs by number (1, 2); a test may kill one and {@link #startWorker} it again. */
  static final Map<Integer, Process> WORKERS = new java.util.HashMap<>();
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
    startWorker(1);
    startWorker(2);
  }

  /** Starts Worker n (one core, so each of the two runs one executor) and waits until it registered. */
  static void startWorker(int n) throws Exception {
    Path target = TestModels.repoRoot().resolve("jobs/target");
    Path log = target.resolve("it-logs/worker-" + n + ".log");
    Files.deleteIfExists(log);
    WORKERS.put(n, start(jvm("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
        "--memory", "2g", "--webui-port", String.valueOf(freePort()), "--work-dir",
        target.resolve("it-work/worker-" + n).toString(), masterUrl), log));
    awaitLine(log, "Successfully registered with master", 60);
  }

  /** Kills Worker n and the executor it launched (SIGKILL), as when its machine is lost. */
  static void killWorker(int n) throws InterruptedException {
    Process w = WORKERS.remove(n);
    w.descendants().forEach(ProcessHandle::destroyForcibly);
    w.destroyForcibly();
    w.waitFor(30, TimeUnit.SECONDS);
  }

  /** spark-submit of the app jar in client mode: on the cluster, or with a local[..] master. */
  static Process submit(String master, String command, Path conf, Path log) throws IOException {
    Path root = TestModels.repoRoot();
    return start(jvm("org.apache.spark.deploy.SparkSubmit", "--master", master,
        "--deploy-mode", "client", "--class", "dev.knowable.jobs.Main",
        "--conf", "spark.executor.memory=1g", "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
        "--conf", "spark.executor.extraJavaOptions=-Dai.djl.offline=true -Dai.djl.pytorch.num_interop_threads=1",
        "--conf", "spark.driver.extraJavaOptions=-Dai.djl.offline=true",
        "--conf", "spark.ui.enabled=false",
        root.resolve("jobs/target/knowable-app.jar").toString(),
        command, "--config", conf.toString()), log);
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
  @Order(1)
  void sparkSubmitRunsTheExtractionStagesOnTheCluster(@TempDir Path tmp) throws Exception {
    Path root = TestModels.repoRoot();
    Path conf = tmp.resolve("job.conf");
    Files.writeString(conf, String.join("\n",
        "run-id = it",
        "output = \"" + tmp.resolve("out") + "\"",
        "ingest.inputs = [ { path = \"" + root.resolve("common/src/test/resources/corpus/jsonl") + "\", format = jsonl } ]",
        "tokenize { max-tokens = 100, shards = 2 }",
        "models.small { path = \"" + TestModels.fixture("random-small") + "\", layers = [-1] }",
        "models.large.path = \"" + TestModels.fixture("random-large") + "\"",
        "spark.conf { \"spark.sql.shuffle.partitions\" = \"4\" }", ""));
    Path log = tmp.resolve("submit.log");
    Process submit = submit(masterUrl, "ingest,tokenize,score-small,score-large", conf, log);
    assertThat(submit.waitFor(8, TimeUnit.MINUTES)).as("spark-submit finishes").isTrue();
    String out = Files.readString(log);
    assertThat(submit.exitValue()).as("spark-submit exit code; log:\n%s", out).isZero();
    assertThat(out).contains("app-").contains("knowable run it finished");
    // The work ran on the cluster's executors: the Worker launched at least one.
    assertThat(Files.readString(sparkHome.getParent().resolve("it-logs/worker-1.log"))
        + Files.readString(sparkHome.getParent().resolve("it-logs/worker-2.log"))).contains("Asked to launch executor");

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

  // ---- Faults on the two-worker cluster -------------------------------------------------

  static final String PIPELINE = "ingest,tokenize,score-small,score-large,label";
  static final List<String> TABLES = List.of("documents", "rejects", "tokens", "small_scores", "small_rejects",
      "large_scores", "large_rejects", "probe_examples");
  static Path faultsRoot;
  /** Per table of the local-mode run: rows, distinct (doc_id, position) or -1, content hash. */
  static Map<String, List<Object>> localMode;

  /** A job config for run {@code runId}: 8 documents of each demo domain, 256 tokens, 6 shards. */
  static Path faultsConfig(String runId) throws IOException {
    Path root = TestModels.repoRoot();
    if (faultsRoot == null) {
      faultsRoot = Files.createTempDirectory("knowable-faults-it");
      Path in = Files.createDirectories(faultsRoot.resolve("in"));
      List<String> slice = new ArrayList<>();
      try (var files = Files.list(root.resolve("demo/corpora/probe"))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
          slice.addAll(Files.readAllLines(f, StandardCharsets.UTF_8).subList(0, 8));
        }
      }
      Files.write(in.resolve("slice.jsonl"), slice, StandardCharsets.UTF_8);
    }
    Path conf = faultsRoot.resolve(runId + ".conf");
    Files.writeString(conf, String.join("\n",
        "run-id = " + runId,
        "output = \"" + faultsRoot.resolve("out") + "\"",
        "ingest.split.group-separator = \"#\"",
        "ingest.inputs = [ { path = \"" + faultsRoot.resolve("in") + "\", format = jsonl } ]",
        "tokenize { max-tokens = 256, shards = 6 }",
        "models.small { path = \"" + root.resolve("demo/models/tiny-small") + "\", layers = [1, 2] }",
        "models.large.path = \"" + root.resolve("demo/models/tiny-large") + "\"",
        "score.token-budget = 512",
        // 200 shuffle partitions of 40 documents would be most of the run's time.
        "spark.conf { \"spark.sql.shuffle.partitions\" = \"4\" }",
        "label.band-unit = quantile",
        "label.bands = [\"0.5:1.0\"]", ""));
    return conf;
  }

  static Path out(String table, String runId) {
    return faultsRoot.resolve("out").resolve(table).resolve("run_id=" + runId);
  }

  /** rows, distinct (doc_id, position) (-1 for tables without positions), and the sum of per-row SHA-256 prefixes. */
  static List<Object> tableHash(String table, String runId) throws Exception {
    Path dir = out(table, runId);
    assertThat(dir.resolve(RunTables.MANIFEST)).as("%s of run %s is committed", table, runId).exists();
    List<String> files;
    try (var w = Files.walk(dir)) {
      files = w.map(Path::toString).filter(f -> f.endsWith(".parquet")).sorted().toList();
    }
    if (files.isEmpty()) {
      return List.of(0L, 0L, "0");
    }
    String list = "[" + String.join(", ", files.stream().map(f -> "'" + f + "'").toList()) + "]";
    java.math.BigInteger sum = java.math.BigInteger.ZERO;
    long rows = 0;
    java.util.Set<String> positions = new java.util.HashSet<>();
    boolean hasPositions = false;
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        ResultSet r = db.createStatement().executeQuery("SELECT * FROM read_parquet(" + list
            + ", hive_partitioning = true)")) {
      var meta = r.getMetaData();
      List<Integer> cols = new ArrayList<>();
      int docCol = -1;
      int posCol = -1;
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        String name = meta.getColumnName(i);
        if (name.equals("doc_id")) {
          docCol = i;
        } else if (name.equals("position")) {
          posCol = i;
        }
        if (!name.equals("run_id")) { // the one column that differs between runs by design
          cols.add(i);
        }
      }
      hasPositions = docCol > 0 && posCol > 0;
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      while (r.next()) {
        StringBuilder row = new StringBuilder();
        for (int i : cols) {
          row.append(meta.getColumnName(i)).append('=').append(r.getString(i)).append('\u0001');
        }
        byte[] d = sha.digest(row.toString().getBytes(StandardCharsets.UTF_8));
        sum = sum.add(new java.math.BigInteger(1, java.util.Arrays.copyOf(d, 16)));
        rows++;
        if (hasPositions) {
          positions.add(r.getString(docCol) + "@" + r.getString(posCol));
        }
      }
    }
    return List.of(rows, hasPositions ? (long) positions.size() : -1L, sum.toString(16));
  }

  static Map<String, List<Object>> hashes(String runId) throws Exception {
    Map<String, List<Object>> m = new java.util.LinkedHashMap<>();
    for (String t : TABLES) {
      m.put(t, tableHash(t, runId));
    }
    return m;
  }

  static Map<String, List<Object>> localMode() throws Exception {
    if (localMode == null) {
      long t0 = System.nanoTime();
      Path log = faultsRoot().resolve("local.log");
      Process p = submit("local[2]", PIPELINE, faultsConfig("local"), log);
      assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("local-mode run finishes").isTrue();
      assertThat(p.exitValue()).as("local-mode exit code; log:\n%s", tail(log)).isZero();
      localMode = hashes("local");
      System.out.printf("[cluster-it] local-mode reference run: %.1f s; tables %s%n", (System.nanoTime() - t0) / 1e9,
          localMode);
      // One row per position, and something to compare.
      assertThat((Long) localMode.get("small_scores").get(0)).isPositive()
          .isEqualTo(localMode.get("small_scores").get(1)).isEqualTo(localMode.get("large_scores").get(0));
      assertThat((Long) localMode.get("probe_examples").get(0)).isPositive();
    }
    return localMode;
  }

  static Path faultsRoot() throws IOException {
    if (faultsRoot == null) {
      faultsConfig("local");
    }
    return faultsRoot;
  }

  static String tail(Path log) throws IOException {
    String s = Files.readString(log);
    return s.length() > 20000 ? s.substring(s.length() - 20000) : s;
  }

  /** Waits until at least one shard of {@code table} of the run is committed; fails if the table is published first. */
  static void awaitFirstShard(String table, String runId, Process submit) throws Exception {
    Path markers = faultsRoot.resolve("out").resolve(table).resolve("_staging").resolve("run_id=" + runId + ".shards")
        .resolve("_shards");
    long end = System.currentTimeMillis() + 8 * 60_000L;
    while (System.currentTimeMillis() < end && submit.isAlive()) {
      if (Files.isDirectory(markers)) {
        try (var l = Files.list(markers)) {
          if (l.anyMatch(p -> p.getFileName().toString().matches("shard-\\d+\\.json"))) {
            return;
          }
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no shard of " + table + " of run " + runId + " was committed while the job ran");
  }

  /** The id of the executor Worker n launched last ("Asked to launch executor app-.../<id>" in its log). */
  static String workerExecutorId(int n) throws IOException {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Asked to launch executor app-[^/]+/(\\d+)")
        .matcher(Files.readString(sparkHome.getParent().resolve("it-logs/worker-" + n + ".log")));
    String id = null;
    while (m.find()) {
      id = m.group(1);
    }
    assertThat(id).as("worker %d launched an executor (numeric id in its log)", n).matches("\\d+");
    return id;
  }

  /** Waits until the driver starts a new task (logged from now on) on the given executor. */
  static void awaitNewTaskOn(String executorId, Path driverLog, Process submit) throws Exception {
    String started = "(127.0.0.1, executor " + executorId + ",";
    long offset = Files.size(driverLog);
    StringBuilder pending = new StringBuilder();
    long end = System.currentTimeMillis() + 8 * 60_000L;
    while (System.currentTimeMillis() < end && submit.isAlive()) {
      try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(driverLog.toFile(), "r")) {
        if (f.length() > offset) {
          byte[] b = new byte[(int) (f.length() - offset)];
          f.seek(offset);
          f.readFully(b);
          offset += b.length;
          pending.append(new String(b, StandardCharsets.UTF_8));
          int nl = pending.lastIndexOf("\n");
          if (nl >= 0) {
            String lines = pending.substring(0, nl);
            pending.delete(0, nl + 1);
            if (lines.lines().anyMatch(l -> l.contains("Starting task") && l.contains(started))) {
              return;
            }
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("executor " + executorId + " got no new task while the job ran");
  }

  @Test
  @Order(2)
  void aWorkerKilledDuringScoringCostsRetriesNotData() throws Exception {
    Map<String, List<Object>> want = localMode();
    long t0 = System.nanoTime();
    Path log = faultsRoot().resolve("worker-kill.log");
    Process submit = submit(masterUrl, PIPELINE, faultsConfig("wk"), log);
    awaitFirstShard("small_scores", "wk", submit);
    // Kill Worker 2 while its executor runs a shard's task (not between two tasks).
    awaitNewTaskOn(workerExecutorId(2), log, submit);
    long killedAt = System.nanoTime();
    killWorker(2);
    assertThat(submit.waitFor(10, TimeUnit.MINUTES)).as("the job finishes on the remaining worker").isTrue();
    String driver = Files.readString(log);
    assertThat(submit.exitValue()).as("exit code; log:\n%s", tail(log)).isZero();
    assertThat(driver).contains("Lost executor");
    // Spark 3.5 logs a task lost with its executor as "... failed because while it was being
    // computed, its executor exited for a reason unrelated to the task" (older: ExecutorLostFailure).
    List<String> lost = driver.lines().filter(l -> l.contains("its executor exited for a reason unrelated")
        || (l.contains("Lost task") && l.contains("ExecutorLostFailure"))).map(String::strip).toList();
    List<String> retries = driver.lines().filter(l -> l.matches(".*Starting task \\d+\\.[1-9] in stage .*"))
        .map(String::strip).toList();
    Map<String, List<Object>> got = hashes("wk");
    System.out.printf("[cluster-it] worker killed %.1f s into the run (a task running on its executor); run "
        + "%.1f s in all; tasks lost with the executor: %s; retried attempts: %s%n", (killedAt - t0) / 1e9,
        (System.nanoTime() - t0) / 1e9, lost, retries);
    System.out.printf("[cluster-it] worker-kill run tables %s%n", got);
    assertThat(got).isEqualTo(want);
    assertThat(lost).as("the task running on the killed worker was lost").isNotEmpty();
    assertThat(retries).as("and retried on the other worker").isNotEmpty();
    assertThat(driver).contains("knowable run wk finished");
    startWorker(2); // two workers again for the next test
  }

  @Test
  @Order(3)
  void aKilledDriverLeavesNoTableAndTheRerunResumesFromCommittedShards() throws Exception {
    Map<String, List<Object>> want = localMode();
    long t0 = System.nanoTime();
    Path conf = faultsConfig("dk");
    Process first = submit(masterUrl, PIPELINE, conf, faultsRoot().resolve("driver-kill-1.log"));
    awaitFirstShard("large_scores", "dk", first);
    first.destroyForcibly(); // SIGKILL: the driver dies at once, mid-stage
    assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out("small_scores", "dk").resolve(RunTables.MANIFEST)).as("the stage before is committed").exists();
    assertThat(out("large_scores", "dk")).as("no visible partial table").doesNotExist();
    Path markers = faultsRoot.resolve("out/large_scores/_staging/run_id=dk.shards/_shards");
    long committed;
    try (var l = Files.list(markers)) {
      committed = l.filter(p -> p.getFileName().toString().matches("shard-\\d+\\.json")).count();
    }
    long killed = System.nanoTime();

    Path log = faultsRoot().resolve("driver-kill-2.log");
    Process rerun = submit(masterUrl, PIPELINE, conf, log);
    assertThat(rerun.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(rerun.exitValue()).as("rerun exit code; log:\n%s", tail(log)).isZero();
    Map<String, Object> manifest = new com.fasterxml.jackson.databind.ObjectMapper()
        .readValue(out("large_scores", "dk").resolve(RunTables.MANIFEST).toFile(), Map.class);
    long reused = ((Number) manifest.get("shards_reused")).longValue();
    System.out.printf("[cluster-it] driver killed %.1f s into the run with %d of 6 large_scores shards committed; "
        + "rerun %.1f s reused %d shards%n", (killed - t0) / 1e9, committed, (System.nanoTime() - killed) / 1e9,
        reused);
    assertThat(reused).as("the rerun reuses the shards committed before the kill").isGreaterThanOrEqualTo(committed)
        .isGreaterThanOrEqualTo(1);
    assertThat(Files.readString(log)).contains("Table small_scores of run dk is already committed");
    Map<String, List<Object>> got = hashes("dk");
    System.out.printf("[cluster-it] driver-kill run tables %s%n", got);
    assertThat(got).isEqualTo(want);
  }
}
