package dev.knowable.jobs.tables;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.knowable.config.ConfigException;
import dev.knowable.config.ConfigFingerprint;
import dev.knowable.config.KnowableConfig.IfExists;
import dev.knowable.config.KnowableConfig;
import dev.knowable.io.BuildInfo;
import dev.knowable.jobs.runtime.SparkJobGroup;
import dev.knowable.tables.Table;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and publishes the run's tables under {@code <output>/<table>/run_id=<id>/}.
 *
 * <p>Publishing protocol, so a reader never sees a half-written run and a killed run can
 * simply be rerun:
 * <ul>
 *   <li>Spark writes into {@code <output>/<table>/_staging/run_id=<id>.<uuid>} (names that
 *       start with '_' are invisible to Spark, DuckDB and Trino partition discovery).</li>
 *   <li>The row count is read back from the staged Parquet footers and a
 *       {@code _manifest.json} is written into the staging folder.</li>
 *   <li>The staging folder is renamed to its final name: atomic on local file systems and
 *       HDFS. (On S3A a rename is a copy: readers should trust a run folder only when its
 *       {@code _manifest.json} exists.)</li>
 *   <li>A run folder without {@code _manifest.json} is left-over from a crash and is
 *       replaced on the next write.</li>
 * </ul>
 * Other runs' folders under the same output root are never touched. The manifest records the
 * config (secrets redacted) and the {@link ConfigFingerprint} of the settings that determine
 * the table; if-exists=skip reuses a committed table only when that fingerprint equals the
 * current config's, so a run folder never silently mixes tables computed with different
 * settings (and a changed probe setting does not invalidate the extraction tables).
 * Driver-only: not meant to be serialized and sent to executors.
 */
public final class RunTables {
  private static final Logger LOG = LoggerFactory.getLogger(RunTables.class);
  public static final String MANIFEST = "_manifest.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final SparkSession spark;
  private final KnowableConfig config;
  /** The output root the tables live under: knowable.output, or another root for {@link #under}. */
  private final String outputRoot;

  public RunTables(SparkSession spark, KnowableConfig config) {
    this(spark, config, config.output());
  }

  private RunTables(SparkSession spark, KnowableConfig config, String outputRoot) {
    this.spark = spark;
    this.config = config;
    this.outputRoot = outputRoot;
  }

  /** The same run's tables under another output root, for reading (the report's threshold-sweep cells). */
  public RunTables under(Path otherRoot) {
    return new RunTables(spark, config, otherRoot.toString());
  }

  public String runId() {
    return config.runId();
  }

  /** The output root (knowable.output) whose folders hold the tables; the report looks for sweep cells below it. */
  public Path outputRoot() {
    return new Path(outputRoot);
  }

  /**
   * Fails, naming the output root, when this job cannot create files there (a read-only
   * folder, a path below a file, refused object-store credentials, an endpoint that does not
   * answer, a file system whose classes are missing): checked before any stage runs, so a
   * mistyped or forbidden output costs nothing. Creates the root and one empty probe file,
   * then deletes the probe. The check uses its own file system instance with short timeouts
   * and one attempt, and gives up after {@link #CHECK_SECONDS} s whatever the client does.
   */
  public void requireWritable() {
    requireWritable(new Path(outputRoot), "Set knowable.output to a folder this job may "
        + "create files in");
  }

  /** Wall-clock bound of a location check (object-store clients retry for minutes by default). */
  public static final int CHECK_SECONDS = 25;

  /** Short timeouts and no retries for location checks on S3A (Hadoop 3.3 and 3.4 key names). */
  public static final Map<String, String> S3A_CHECK_SETTINGS = Map.of(
      "fs.s3a.connection.establish.timeout", "5000", "fs.s3a.connection.timeout", "10000",
      "fs.s3a.attempts.maximum", "1", "fs.s3a.retry.limit", "1", "fs.s3a.retry.interval", "100ms",
      "fs.s3a.retry.throttle.limit", "1", "fs.s3a.connection.request.timeout", "10000");

  void requireWritable(Path root, String fix) {
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration(
        spark.sparkContext().hadoopConfiguration());
    boolean s3 = isS3(root);
    if (s3) {
      S3A_CHECK_SETTINGS.forEach(conf::set);
    }
    Path probe = new Path(root, "_knowable_write_check." + UUID.randomUUID());
    Throwable failure = withDeadline(() -> {
      // A new instance, not the cached one stages use: it carries the short timeouts.
      try (FileSystem fs = FileSystem.newInstance(root.toUri(), conf)) {
        if (!fs.mkdirs(root)) {
          throw new IOException("cannot create the folder");
        }
        fs.create(probe, false).close();
        fs.delete(probe, false);
      }
      return null;
    });
    if (failure == null) {
      return;
    }
    String missing = missingFileSystem(failure, root);
    if (missing != null) {
      throw new ConfigException(missing, failure);
    }
    String endpoint = s3 ? " (S3 endpoint " + conf.get("fs.s3a.endpoint", "AWS default") + ")" : "";
    String s3Fix = s3 ? "; for S3 check spark.hadoop.fs.s3a.endpoint, fs.s3a.path.style.access and the credentials "
        + "under knowable.spark.conf" : "";
    String what = failure instanceof java.util.concurrent.TimeoutException
        ? "no answer within " + CHECK_SECONDS + " s" : failure.getClass().getSimpleName() + ": " + failure.getMessage();
    throw new ConfigException("The output location " + root + endpoint + " is not writable (" + what + "). "
        + fix + s3Fix + "; nothing was computed.", failure);
  }

  public static boolean isS3(Path p) {
    String scheme = p.toUri().getScheme();
    return scheme != null && scheme.startsWith("s3");
  }

  /**
   * A message naming the dependency when {@code e} says the file system of {@code where} has
   * no implementation on the classpath; null otherwise.
   */
  public static String missingFileSystem(Throwable e, Path where) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      boolean missingClass = t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError
          || (t.getMessage() != null && t.getMessage().contains("ClassNotFoundException"));
      if (t instanceof org.apache.hadoop.fs.UnsupportedFileSystemException || missingClass) {
        String scheme = where.toUri().getScheme();
        String dep = scheme != null && scheme.startsWith("s3")
            ? "org.apache.hadoop:hadoop-aws:" + org.apache.hadoop.util.VersionInfo.getVersion() + " and the AWS SDK "
                + "it depends on (deploy/knowable-local puts them on its classpath from jobs/target/s3a*-classpath.txt, "
                + "written by mvn package: rebuild with KNOWABLE_REBUILD=1; with spark-submit: --packages org.apache.hadoop:hadoop-aws:"
                + org.apache.hadoop.util.VersionInfo.getVersion() + ")"
            : "the Hadoop file system library for " + scheme + ":// on the driver and executor classpath";
        return "No file system for " + where + " (" + t.getClass().getSimpleName() + ": " + t.getMessage()
            + "). It needs " + dep + ".";
      }
    }
    return null;
  }

  /** Runs {@code check} on a daemon thread; its failure, a TimeoutException after CHECK_SECONDS, or null. */
  public static Throwable withDeadline(java.util.concurrent.Callable<Void> check) {
    java.util.concurrent.FutureTask<Void> task = new java.util.concurrent.FutureTask<>(check);
    Thread t = new Thread(task, "knowable-location-check");
    t.setDaemon(true); // a client stuck in its retry loop must not keep the JVM alive
    t.start();
    try {
      task.get(CHECK_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      task.cancel(true);
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  // Typed access: the stages name their tables through the registry (dev.knowable.tables.Table),
  // which supplies the folder name, the producing stage of a missing table and the partitioning.

  /** The final folder of {@code table} for this run. */
  public Path tablePath(Table table) {
    return tablePath(table.tableName());
  }

  /** The final folder of {@code table} for another run under the same output root. */
  public Path tablePath(Table table, String runId) {
    return tablePath(table.tableName(), runId);
  }

  /** True when the table of this run has been fully published. */
  public boolean isCommitted(Table table) {
    return isCommitted(table.tableName());
  }

  /** True when the table of a run under the same output root has been fully published. */
  public boolean isCommitted(Table table, String runId) {
    return isCommitted(table.tableName(), runId);
  }

  /** {@link #needsWrite(String)} of a registry table. */
  public boolean needsWrite(Table table) {
    return needsWrite(table.tableName());
  }

  /** Reads a committed table of this run; fails naming the stage that writes it when it is missing. */
  public Dataset<Row> read(Table table) {
    return read(table.tableName(), table.stage());
  }

  /** Reads this run's manifest of {@code table} as a map. */
  public Map<String, Object> readManifest(Table table) {
    return readManifest(table.tableName());
  }

  /** Reads the manifest of {@code table} of a run under the same output root as a map. */
  public Map<String, Object> readManifest(Table table, String runId) {
    return readManifest(table.tableName(), runId);
  }

  /** Writes and publishes {@code data} partitioned as the registry says ({@link #write(String, Dataset, List, Map)}). */
  public long write(Table table, Dataset<Row> data, Map<String, Object> extras) {
    return write(table.tableName(), data, table.partitionBy(), extras);
  }

  /** {@link #write(Table, Dataset, Map)} with manifest entries computed from the staged table. */
  public long write(Table table, Dataset<Row> data, Map<String, Object> extras,
      java.util.function.Function<Dataset<Row>, Map<String, Object>> stagedCounts) {
    return write(table.tableName(), data, table.partitionBy(), extras, stagedCounts);
  }

  /** {@link #commit(String, Path, List, Map, java.util.function.Function, long)}, partitioned as the registry says. */
  public long commit(Table table, Path staging, Map<String, Object> extras,
      java.util.function.Function<Dataset<Row>, Map<String, Object>> stagedCounts, long startNanos) {
    return commit(table.tableName(), staging, table.partitionBy(), extras, stagedCounts, startNanos);
  }

  /** {@code <output>/<table>/_staging}: where a table is written before it is published. */
  public Path stagingRoot(Table table) {
    return stagingRoot(table.tableName());
  }

  /** Refuses to write into a table folder that holds foreign files ({@link #requireOnlyRunFolders(String)}). */
  public void requireOnlyRunFolders(Table table) {
    requireOnlyRunFolders(table.tableName());
  }

  // By folder name: for RunSql, which serves whatever table folders it finds under the output
  // root, and for tests. Stages read and write through the Table overloads above.

  /** The final folder of {@code table} for this run. */
  public Path tablePath(String table) {
    return tablePath(table, config.runId());
  }

  /** The final folder of {@code table} for another run under the same output root. */
  public Path tablePath(String table, String runId) {
    return new Path(new Path(outputRoot, table), "run_id=" + runId);
  }

  /** True when the table of this run has been fully published. */
  public boolean isCommitted(String table) {
    return isCommitted(table, config.runId());
  }

  /** True when the table of a run under the same output root has been fully published. */
  public boolean isCommitted(String table, String runId) {
    Path p = new Path(tablePath(table, runId), MANIFEST);
    try {
      return fs(p).exists(p);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot check " + p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Decides whether a stage must (re)write {@code table}: false when it is committed and
   * if-exists=skip; throws when committed and if-exists=fail, or if-exists=skip but the
   * committed table was computed with a config of another fingerprint.
   */
  public boolean needsWrite(String table) {
    if (!isCommitted(table)) {
      return true;
    }
    IfExists mode = config.ifExists();
    if (mode == IfExists.FAIL) {
      throw new ConfigException("Table '" + table + "' of run " + config.runId() + " is already committed at "
          + tablePath(table) + " and knowable.if-exists=fail. Choose another run-id or set if-exists=overwrite.");
    }
    if (mode == IfExists.SKIP) {
      checkSameConfig(table);
      try {
        removeIfEmpty(fs(stagingRoot(table)), stagingRoot(table)); // left by an older version
      } catch (IOException e) {
        LOG.debug("{}: {}", stagingRoot(table), e.getMessage());
      }
      LOG.info("Table {} of run {} is already committed at {}; skipping (if-exists=skip)", table,
          config.runId(), tablePath(table));
      return false;
    }
    return true;
  }

  /** Fails when the committed {@code table} was computed with a config whose fingerprint differs. */
  @SuppressWarnings("unchecked")
  private void checkSameConfig(String table) {
    Map<String, Object> manifest = readManifest(table);
    Object recordedConfig = manifest.get("config");
    Object recorded = manifest.get("config_fingerprint");
    if (recorded == null && recordedConfig instanceof Map) {
      // Written before manifests held a fingerprint: recompute it from the recorded config.
      recorded = ConfigFingerprint.of((Map<String, Object>) recordedConfig, table);
    }
    if (recorded == null) {
      LOG.warn("Table {} of run {} has no recorded config to compare with; reusing it (if-exists=skip)", table,
          config.runId());
      return;
    }
    String current = config.fingerprint(table);
    if (recorded.equals(current)) {
      return;
    }
    List<String> diff = recordedConfig instanceof Map
        ? ConfigFingerprint.differences((Map<String, Object>) recordedConfig,
            ConfigFingerprint.parse(config.asWritten()), 8, table)
        : List.of();
    throw new ConfigException("Table '" + table + "' of run " + config.runId() + " is already committed at "
        + tablePath(table) + " with config fingerprint " + recorded + ", but the current config's fingerprint is "
        + current + (diff.isEmpty() ? "" : " (committed -> current: " + String.join(", ", diff) + ")")
        + "; knowable.if-exists=skip would reuse a table computed with other settings. Use a new run-id, or set "
        + "if-exists=overwrite to recompute it (for the stages whose settings changed).");
  }

  /** Reads a committed table of this run; fails with the stage to run when it is missing. */
  public Dataset<Row> read(String table, String producedByStage) {
    if (!isCommitted(table)) {
      throw new ConfigException("Table '" + table + "' of run " + config.runId() + " is not committed at "
          + tablePath(table) + ". Run the '" + producedByStage + "' stage with the same run-id first.");
    }
    try {
      return spark.read().parquet(tablePath(table).toString());
    } catch (Exception e) { // SparkException is checked, but Scala throws it undeclared.
      // Reading the footers for the schema is where a damaged file shows first.
      throw new IllegalStateException("Table '" + table + "' of run " + config.runId() + " at " + tablePath(table)
          + " cannot be read (a damaged or foreign file?): " + rootCause(e), e);
    }
  }

  /** Reads this run's manifest of {@code table} as a map. */
  public Map<String, Object> readManifest(String table) {
    return readManifest(table, config.runId());
  }

  /** Reads the manifest of {@code table} of a run under the same output root as a map. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> readManifest(String table, String runId) {
    Path p = new Path(tablePath(table, runId), MANIFEST);
    if (!isCommitted(table, runId)) {
      throw new ConfigException("Table '" + table + "' of run " + runId + " is not committed at "
          + tablePath(table, runId) + " (no " + MANIFEST + "). Run the stage that writes it with the same run-id "
          + "first.");
    }
    try (java.io.InputStream in = fs(p).open(p)) {
      return JSON.readValue(in, Map.class);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read manifest " + p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code data} as Parquet and publishes it atomically with a manifest.
   *
   * @param partitionBy partition columns (may be empty)
   * @param extras stage-specific manifest entries (counts, fingerprints, timings)
   * @return the number of rows written
   */
  public long write(String table, Dataset<Row> data, List<String> partitionBy, Map<String, Object> extras) {
    return write(table, data, partitionBy, extras, staged -> Map.of());
  }

  /**
   * {@link #write(String, Dataset, List, Map)}, plus manifest entries computed from the
   * staged table itself before it is published (counts over what was actually written,
   * exactly once, unlike accumulators of retried tasks).
   *
   * @param stagedCounts reads the staged table and returns entries for the manifest
   */
  public long write(String table, Dataset<Row> data, List<String> partitionBy, Map<String, Object> extras,
      java.util.function.Function<Dataset<Row>, Map<String, Object>> stagedCounts) {
    long start = System.nanoTime();
    requireOnlyRunFolders(table);
    Path staging = new Path(stagingRoot(table), "run_id=" + config.runId() + "." + UUID.randomUUID());
    LOG.info("Writing table {} of run {} (staging {})", table, config.runId(), staging);
    var writer = data.write().mode(SaveMode.ErrorIfExists).options(ParquetWriteOptions.of(data.schema()));
    if (!partitionBy.isEmpty()) {
      writer = writer.partitionBy(partitionBy.toArray(new String[0]));
    }
    SparkJobGroup group = SparkJobGroup.enter(spark, "knowable-write-" + table, "write " + table);
    boolean written = false;
    try {
      try {
        writer.parquet(staging.toString());
        written = true;
      } catch (Exception e) { // SparkException is checked, but Scala throws it undeclared.
        // Spark's "Job aborted due to stage failure" hides the cause (a damaged input file,
        // a failing model) deep in the chain: lead with it.
        throw new IllegalStateException("Table '" + table + "' of run " + config.runId() + " was not written "
            + "(nothing published, committed tables unchanged): " + rootCause(e), e);
      }
      return commit(table, staging, partitionBy, extras, stagedCounts, start);
    } finally {
      if (!written) {
        // The job failed, but its other tasks may still be writing into the staging folder:
        // remove it only once they have ended, or a late task recreates it.
        group.cancelAndAwaitTasks();
      }
      group.exit();
      removeStaging(staging);
    }
  }

  /** Deletes a staging folder and, when nothing else is staged, the table's {@code _staging} folder. */
  void removeStaging(Path staging) {
    try {
      FileSystem fs = fs(staging);
      if (fs.exists(staging)) {
        fs.delete(staging, true);
      }
      removeIfEmpty(fs, staging.getParent());
    } catch (IOException e) {
      LOG.warn("Could not remove staging folder {}: {}", staging, e.getMessage());
    }
  }

  /** Deletes {@code dir} when it exists and is empty (another run may be staging a table there). */
  static void removeIfEmpty(FileSystem fs, Path dir) {
    try {
      if (fs.exists(dir) && fs.listStatus(dir).length == 0) {
        fs.delete(dir, false);
      }
    } catch (IOException e) {
      LOG.debug("{} stays: {}", dir, e.getMessage()); // a concurrent run staged something there
    }
  }

  /** {@code <output>/<table>/_staging}: where a table is written before it is published. */
  public Path stagingRoot(String table) {
    return new Path(new Path(outputRoot, table), "_staging");
  }

  /**
   * Publishes a fully written staging folder of {@code table}: reads the row count back, writes
   * the manifest into it and renames it to the run folder (replacing an uncommitted or
   * overwritten one). The staging folder is gone afterwards.
   *
   * @param startNanos when the stage began writing, for write_seconds
   * @return the number of rows published
   */
  public long commit(String table, Path staging, List<String> partitionBy, Map<String, Object> extras,
      java.util.function.Function<Dataset<Row>, Map<String, Object>> stagedCounts, long startNanos) {
    Path dest = tablePath(table);
    try {
      // An empty partitioned Dataset leaves no Parquet file (only _SUCCESS) to read back.
      long rows = hasParquet(staging) ? spark.read().parquet(staging.toString()).count() : 0L;
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("table", table);
      manifest.put("run_id", config.runId());
      manifest.put("committed_at", Instant.now().toString());
      manifest.put("rows", rows);
      manifest.put("write_seconds", Math.round(seconds * 1000) / 1000.0);
      manifest.put("partition_by", partitionBy);
      Map<String, Object> versions = BuildInfo.versions();
      versions.put("spark", spark.version());
      manifest.put("versions", versions);
      manifest.putAll(extras);
      if (hasParquet(staging)) {
        manifest.putAll(stagedCounts.apply(spark.read().parquet(staging.toString())));
      }
      manifest.put("config_fingerprint", config.fingerprint(table));
      // The config as written (what the fingerprint covers) and where this run actually read
      // and wrote: every location absolute, with its file system's scheme.
      manifest.put("config", JSON.readValue(config.asWritten(), Map.class));
      Map<String, Object> locations = new LinkedHashMap<>();
      locations.put("table", dest.toString());
      locations.putAll(config.locations());
      manifest.put("locations", locations);
      writeJson(new Path(staging, MANIFEST), manifest);
      FileSystem fs = fs(dest);
      if (fs.exists(dest)) {
        // Either an overwrite, or a crashed run's remains (no manifest): replace it.
        LOG.info("Replacing existing {}", dest);
        fs.delete(dest, true);
      }
      fs.mkdirs(dest.getParent());
      if (!fs.rename(staging, dest)) {
        throw new IOException("rename " + staging + " -> " + dest + " returned false");
      }
      removeIfEmpty(fs, staging.getParent());
      LOG.info("Committed table {} of run {}: {} rows in {} s -> {}", table, config.runId(), rows,
          String.format("%.1f", seconds), dest);
      return rows;
    } catch (IOException e) {
      throw new IllegalStateException("Failed to publish table " + table + " at " + dest + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses to write into {@code <output>/<table>/} when it holds anything but run folders
   * ({@code run_id=...}) and hidden entries ('_' or '.'): files of another tool or layout
   * there would be read together with this run's by every partition-discovering reader.
   */
  public void requireOnlyRunFolders(String table) {
    Path dir = new Path(outputRoot, table);
    try {
      FileSystem fs = fs(dir);
      if (!fs.exists(dir)) {
        return;
      }
      if (!fs.getFileStatus(dir).isDirectory()) {
        throw new ConfigException("Table location " + dir + " is a file, not a folder of run folders; "
            + "choose another knowable.output.");
      }
      List<String> foreign = new java.util.ArrayList<>();
      for (var st : fs.listStatus(dir)) {
        String n = st.getPath().getName();
        if (!(n.startsWith("_") || n.startsWith(".") || (st.isDirectory() && n.startsWith("run_id=")))) {
          foreign.add(n);
        }
      }
      if (!foreign.isEmpty()) {
        throw new ConfigException("Table folder " + dir + " holds " + foreign.subList(0, Math.min(5,
            foreign.size())) + (foreign.size() > 5 ? " and " + (foreign.size() - 5) + " more" : "") + ", which "
            + "are not knowable run folders (run_id=<id>): readers of " + table + " would mix them with this run's "
            + "rows. Nothing was written; choose another knowable.output or move them away.");
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The innermost cause's class and message. */
  public static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

    private boolean hasParquet(Path dir) throws IOException {
    var files = fs(dir).listFiles(dir, true);
    while (files.hasNext()) {
      if (files.next().getPath().getName().endsWith(".parquet")) {
        return true;
      }
    }
    return false;
  }

  private void writeJson(Path p, Object value) throws IOException {
    try (OutputStream out = fs(p).create(p, true)) {
      out.write(JSON.writeValueAsString(value).getBytes(StandardCharsets.UTF_8));
    }
  }

  private FileSystem fs(Path p) throws IOException {
    return p.getFileSystem(spark.sparkContext().hadoopConfiguration());
  }
}
