package dev.knowable.jobs.tables;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.jobs.runtime.SparkJobGroup;
import dev.knowable.tables.Table;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table computed shard by shard (one tokens shard at a time) that survives a killed
 * driver: every finished shard is committed under the table's staging area, a rerun with the
 * same settings computes only the shards that are missing, and the table is published once,
 * atomically, when every shard is there ({@link RunTables#commit}).
 *
 * <p>Layout under {@code <output>/<table>/_staging/}:
 * <ul>
 *   <li>{@code run_id=<id>.shards/}: the table being assembled. A committed shard's Parquet
 *       files sit in it in the table's final layout ({@code <partition>=<value>/part-s<k>-*}),
 *       and {@code _shards/shard-<k>.json} is its commit marker: the shard's files, the table's
 *       config fingerprint, the upstream table it was computed from, and the stage's notes
 *       (e.g. rejected documents). A file not listed by a marker is a killed shard's remains.</li>
 *   <li>{@code run_id=<id>.shard-<k>.<uuid>/}: Spark's output of one shard job before the driver
 *       moves its files into the assembly and writes the marker (the commit point).</li>
 * </ul>
 * A marker whose fingerprint, upstream or shard count differs from the current run's is
 * never reused: the whole assembly is discarded. Publishing renames the assembly folder to
 * {@code run_id=<id>}, so the shards become visible together or not at all.
 *
 * <p>Shards run as concurrent one-task Spark jobs (twice as many as the cluster has task
 * slots: while the driver commits one shard's files, the next shard's task already runs on
 * the freed slot), so Spark still retries a lost task within its shard's job, and cancels
 * the other shards' jobs when one fails. Driver-only.
 */
public final class ShardedTable {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedTable.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String MARKERS = "_shards";

  /** Computes one shard: hands its rows to {@code write} once and returns notes to keep in its marker (JSON values). */
  @FunctionalInterface
  public interface ShardJob {
    Map<String, Object> compute(int shard, Consumer<Dataset<Row>> write);
  }

  /** A committed shard: reused from an earlier attempt or computed now, with its notes. */
  public record Shard(int shard, boolean reused, Map<String, Object> notes) {}

  private final SparkSession spark;
  private final RunTables tables;
  private final Table table;
  private final List<String> partitionBy;
  private final int shards;
  private final String fingerprint;
  private final String upstream;
  private final Path assembly;

  /**
   * @param upstream identifies the input the shards are computed from (e.g. the tokens table's
   *     commit time): shards of an older input are not reused
   */
  public ShardedTable(SparkSession spark, RunTables tables, String fingerprint, Table table, int shards,
      String upstream) {
    this.spark = spark;
    this.tables = tables;
    this.table = table;
    this.partitionBy = table.partitionBy();
    this.shards = shards;
    this.fingerprint = fingerprint;
    this.upstream = upstream;
    this.assembly = new Path(tables.stagingRoot(table), "run_id=" + tables.runId() + ".shards");
  }

  /** The folder the table is assembled in (tests and benchmarks watch its markers). */
  public Path assembly() {
    return assembly;
  }

  /**
   * Reuses the committed shards that match this run and computes the others with {@code job},
   * {@code parallelism} shard jobs at a time. Returns every shard, in shard order.
   */
  public List<Shard> computeMissing(ShardJob job, int parallelism) {
    Map<Integer, Shard> done = new java.util.TreeMap<>();
    try {
      done.putAll(reusable(partitionBy));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read the committed shards of " + table + " under " + assembly + ": "
          + e.getMessage(), e);
    }
    List<Integer> todo = new ArrayList<>();
    for (int k = 0; k < shards; k++) {
      if (!done.containsKey(k)) {
        todo.add(k);
      }
    }
    LOG.info("{} of run {}: {} of {} shards already committed under {}; computing {}", table, tables.runId(),
        done.size(), shards, assembly, todo);
    if (todo.isEmpty()) {
      return new ArrayList<>(done.values());
    }
    // One job group per shard: a failed shard waits for its own tasks only, and the first
    // failure cancels the others' groups.
    Set<String> groups = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallelism, todo.size())), r -> {
      Thread t = new Thread(r, "knowable-shards-" + table);
      t.setDaemon(true);
      return t;
    });
    try {
      // Completion order, so the first failure stops the others at once.
      CompletionService<Shard> running = new ExecutorCompletionService<>(pool);
      for (int k : todo) {
        running.submit(() -> computeOne(k, job, partitionBy, groups));
      }
      for (int i = 0; i < todo.size(); i++) {
        Shard s = running.take().get();
        done.put(s.shard(), s);
      }
    } catch (ExecutionException e) {
      // One shard failed: stop the others (committed shards stay for the rerun).
      groups.forEach(g -> spark.sparkContext().cancelJobGroup(g));
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(table + ": a shard failed: " + cause.getMessage(), cause);
    } catch (InterruptedException e) {
      groups.forEach(g -> spark.sparkContext().cancelJobGroup(g));
      Thread.currentThread().interrupt();
      throw new IllegalStateException(table + ": interrupted", e);
    } finally {
      pool.shutdownNow();
      try {
        // Let cancelled shard jobs unwind before the stage reports: nothing changes behind it.
        if (!pool.awaitTermination(5, java.util.concurrent.TimeUnit.MINUTES)) {
          LOG.warn("{}: shard jobs still running after cancellation", table);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return new ArrayList<>(done.values());
  }

  /**
   * Publishes the assembled table (every shard committed) with a manifest that also records
   * how many shards were reused; removes the markers afterwards.
   */
  public long publish(List<Shard> all, Map<String, Object> extras,
      Function<Dataset<Row>, Map<String, Object>> stagedCounts, long startNanos) {
    if (all.size() != shards) {
      throw new IllegalStateException(table + ": " + all.size() + " of " + shards + " shards committed; cannot publish");
    }
    Map<String, Object> m = new LinkedHashMap<>(extras);
    m.put("shards", shards);
    m.put("shards_reused", all.stream().filter(Shard::reused).count());
    try {
      fs().mkdirs(assembly); // a run whose shards are all empty has written nothing
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create " + assembly + ": " + e.getMessage(), e);
    }
    long rows = tables.commit(table, assembly, m, stagedCounts, startNanos);
    Path markers = new Path(tables.tablePath(table), MARKERS);
    try {
      fs().delete(markers, true);
    } catch (IOException e) {
      LOG.warn("Could not remove {} (harmless: readers skip names starting with '_'): {}", markers, e.getMessage());
    }
    try {
      RunTables.removeIfEmpty(fs(), assembly.getParent());
    } catch (IOException e) {
      LOG.debug("{} stays: {}", assembly.getParent(), e.getMessage());
    }
    return rows;
  }

  private Shard computeOne(int k, ShardJob job, List<String> partitionBy, Set<String> groups) throws IOException {
    Path out = new Path(tables.stagingRoot(table), "run_id=" + tables.runId() + ".shard-" + k + "." + UUID.randomUUID());
    FileSystem fs = fs();
    long start = System.nanoTime();
    SparkJobGroup group = SparkJobGroup.enter(spark, "knowable-" + table + "-shard-" + k, table + " shard " + k);
    groups.add(group.id());
    boolean committed = false;
    try {
      Map<String, Object> notes = job.compute(k, rows -> {
        var writer = rows.write().mode(SaveMode.ErrorIfExists).options(ParquetWriteOptions.of(rows.schema()));
        if (!partitionBy.isEmpty()) {
          writer = writer.partitionBy(partitionBy.toArray(new String[0]));
        }
        writer.parquet(out.toString());
      });
      // Commit: move the files into the assembly under names that carry the shard, then the marker.
      List<String> files = new ArrayList<>();
      Map<String, Long> sizes = new LinkedHashMap<>();
      if (fs.exists(out)) {
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(out, true);
        List<LocatedFileStatus> parquet = new ArrayList<>();
        while (it.hasNext()) {
          LocatedFileStatus st = it.next();
          if (st.getPath().getName().endsWith(".parquet")) {
            parquet.add(st);
          }
        }
        for (LocatedFileStatus st : parquet) {
          String rel = relativeTo(fs, out, st.getPath());
          int slash = rel.lastIndexOf('/');
          String name = String.format("part-s%05d-%s", k, rel.substring(slash + 1));
          String target = (slash < 0 ? "" : rel.substring(0, slash + 1)) + name;
          Path dest = new Path(assembly, target);
          fs.mkdirs(dest.getParent());
          if (!fs.rename(st.getPath(), dest)) {
            throw new IOException("rename " + st.getPath() + " -> " + dest + " returned false");
          }
          files.add(target);
          sizes.put(target, st.getLen());
        }
      }
      Map<String, Object> marker = new LinkedHashMap<>();
      marker.put("table", table.tableName());
      marker.put("shard", k);
      marker.put("shards", shards);
      marker.put("config_fingerprint", fingerprint);
      marker.put("upstream", upstream);
      marker.put("partition_by", partitionBy);
      marker.put("files", files);
      marker.put("sizes", sizes);
      marker.put("seconds", Math.round((System.nanoTime() - start) / 1e6) / 1000.0);
      marker.put("notes", notes);
      Path markerPath = markerPath(k);
      Path tmp = new Path(markerPath.getParent(), "." + markerPath.getName() + "." + UUID.randomUUID());
      try (OutputStream o = fs.create(tmp, false)) {
        o.write(JSON.writeValueAsBytes(marker));
      }
      if (!fs.rename(tmp, markerPath)) {
        throw new IOException("rename " + tmp + " -> " + markerPath + " returned false");
      }
      committed = true;
      LOG.info("{} shard {} committed: {} files in {} s", table, k, files.size(),
          String.format("%.1f", (System.nanoTime() - start) / 1e9));
      return new Shard(k, false, notes);
    } finally {
      if (!committed) {
        // A failed or cancelled shard job's tasks may still be writing into its output folder.
        group.cancelAndAwaitTasks();
      }
      group.exit();
      groups.remove(group.id());
      if (fs.exists(out)) {
        fs.delete(out, true);
      }
    }
  }

  /**
   * The path of {@code child} below {@code base} ("a=1/part-0.parquet"), both qualified by
   * their file system first (a listing returns qualified paths, a configured location may be
   * relative). Fails rather than guess when {@code child} is not below {@code base}.
   */
  static String relativeTo(FileSystem fs, Path base, Path child) throws IOException {
    java.net.URI b = fs.makeQualified(base).toUri();
    java.net.URI c = fs.makeQualified(child).toUri();
    java.net.URI rel = b.relativize(c);
    if (rel.isAbsolute() || rel.getPath().isEmpty() || rel.getPath().startsWith("/")) {
      throw new IOException(child + " is not below " + base);
    }
    return rel.getPath();
  }

  private Path markerPath(int k) {
    return new Path(new Path(assembly, MARKERS), String.format("shard-%05d.json", k));
  }

  /**
   * The committed shards that this run may reuse. Discards the whole assembly when a marker
   * was written with other settings or input. Reuses a shard only when every file its marker
   * names is where the marker says, in the table's layout, with the recorded size; any other
   * shard loses its marker first and then its files, so it is recomputed. Then deletes files
   * no remaining marker names (a shard killed between moving its files and writing its
   * marker) and the output of shard jobs that never committed. Never deletes a file that a
   * reused marker names.
   */
  @SuppressWarnings("unchecked")
  private Map<Integer, Shard> reusable(List<String> partitionBy) throws IOException {
    FileSystem fs = fs();
    Map<Integer, Shard> out = new java.util.TreeMap<>();
    Path root = tables.stagingRoot(table);
    if (fs.exists(root)) {
      String prefix = "run_id=" + tables.runId() + ".shard-";
      for (FileStatus st : fs.listStatus(root)) {
        if (st.getPath().getName().startsWith(prefix)) {
          LOG.info("Removing the uncommitted output of a killed shard job: {}", st.getPath());
          fs.delete(st.getPath(), true);
        }
      }
    }
    Path markers = new Path(assembly, MARKERS);
    if (!fs.exists(markers)) {
      if (fs.exists(assembly)) {
        fs.delete(assembly, true);
      }
      return out;
    }
    Set<String> listed = new HashSet<>();
    for (FileStatus st : fs.listStatus(markers)) {
      if (!st.getPath().getName().endsWith(".json") || st.getPath().getName().startsWith(".")) {
        continue;
      }
      Map<String, Object> m;
      try (InputStream in = fs.open(st.getPath())) {
        m = JSON.readValue(in, Map.class);
      } catch (IOException e) {
        LOG.warn("Dropping unreadable shard marker {} ({}); its shard is recomputed", st.getPath(), e.getMessage());
        fs.delete(st.getPath(), false);
        continue;
      }
      String why = null;
      if (!fingerprint.equals(m.get("config_fingerprint"))) {
        why = "config fingerprint " + m.get("config_fingerprint") + " != current " + fingerprint;
      } else if (!upstream.equals(m.get("upstream"))) {
        why = "computed from " + m.get("upstream") + ", the input is now " + upstream;
      } else if (!Integer.valueOf(shards).equals(m.get("shards"))) {
        why = m.get("shards") + " shards, the run now has " + shards;
      }
      if (why != null) {
        LOG.warn("Discarding the committed shards of {} of run {} under {}: they were computed with other settings "
            + "or input ({})", table, tables.runId(), assembly, why);
        fs.delete(assembly, true);
        return new java.util.TreeMap<>();
      }
      int k = ((Number) m.get("shard")).intValue();
      List<String> files = (List<String>) m.getOrDefault("files", List.of());
      Map<String, Object> sizes = (Map<String, Object>) m.getOrDefault("sizes", Map.of());
      String broken = brokenFile(fs, k, files, sizes, partitionBy);
      if (broken != null) {
        LOG.warn("Recomputing shard {} of {}: {}", k, table, broken);
        fs.delete(st.getPath(), false); // the marker first: its files are then no shard's
        continue;
      }
      listed.addAll(files);
      out.put(k, new Shard(k, true, (Map<String, Object>) m.getOrDefault("notes", Map.of())));
    }
    // Files that no reused marker names: a shard whose files were moved but whose marker was
    // never written, or a shard dropped above.
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(assembly, true);
    List<Path> orphans = new ArrayList<>();
    while (it.hasNext()) {
      Path p = it.next().getPath();
      String rel = relativeTo(fs, assembly, p);
      if (!rel.startsWith(MARKERS + "/") && !listed.contains(rel)) {
        orphans.add(p);
      }
    }
    for (Path p : orphans) {
      LOG.info("Removing {}: no committed shard lists it", p);
      fs.delete(p, false);
    }
    pruneEmptyFolders(fs, assembly);
    return out;
  }

  /**
   * Why shard {@code k}'s files cannot be reused (a file missing, of another size than its
   * marker records, or outside the table's layout {@code <col>=<value>/.../part-s<k>-*.parquet}),
   * or null when they can.
   */
  private String brokenFile(FileSystem fs, int k, List<String> files, Map<String, Object> sizes,
      List<String> partitionBy) throws IOException {
    String prefix = String.format("part-s%05d-", k);
    for (String f : files) {
      String[] parts = f.split("/");
      boolean layout = parts.length == partitionBy.size() + 1 && parts[parts.length - 1].startsWith(prefix)
          && parts[parts.length - 1].endsWith(".parquet");
      for (int i = 0; layout && i < partitionBy.size(); i++) {
        layout = parts[i].startsWith(partitionBy.get(i) + "=");
      }
      if (!layout) {
        return "its marker names " + f + ", which is not in the table's layout (a run of an older version)";
      }
      Path p = new Path(assembly, f);
      if (!fs.exists(p)) {
        return "its file " + p + " is missing";
      }
      Object size = sizes.get(f);
      long len = fs.getFileStatus(p).getLen();
      if (size instanceof Number n && n.longValue() != len) {
        return "its file " + p + " has " + len + " bytes, its marker records " + n;
      }
    }
    return null;
  }

  /** Deletes the folders below {@code dir} (not {@code dir}) that hold no file; true when {@code dir} holds none. */
  private static boolean pruneEmptyFolders(FileSystem fs, Path dir) throws IOException {
    boolean empty = true;
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.isDirectory() && pruneEmptyFolders(fs, st.getPath())) {
        // Recursive: what the listing hides (a moved file's checksum left behind) goes too.
        fs.delete(st.getPath(), true);
      } else {
        empty = false;
      }
    }
    return empty;
  }

  private FileSystem fs() throws IOException {
    return assembly.getFileSystem(spark.sparkContext().hadoopConfiguration());
  }
}
