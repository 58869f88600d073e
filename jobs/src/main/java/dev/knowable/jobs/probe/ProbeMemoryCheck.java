package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.size;

import dev.knowable.config.ConfigException;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.probe.ProbeTaskMemory;
import dev.knowable.probe.ProbeTaskSettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before the probe tasks collect any row: each configuration's heap need, from its row
 * counts (one aggregate query) and the feature dimension ({@link ProbeTaskMemory#needed}),
 * against what one task may use ({@link ProbeTaskMemory#budget}). A configuration that
 * does not fit stops the stage with a {@link ConfigException} naming it, its rows, the bytes
 * needed and available and what to change, instead of an executor lost to an
 * OutOfMemoryError after hours of work.
 */
final class ProbeMemoryCheck {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeMemoryCheck.class);
  private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\d+|\\*)(?:,\\d+)?])?");

  /** What one task may use, and how that figure came about (for the message). */
  record Budget(long bytes, String how) {}

  /** One probe configuration's rows and need. */
  record Need(String config, int d, long fitRows, long evalRows, long bytes) {}

  private ProbeMemoryCheck() {}

  /** Checks every configuration the stage will train; throws when one does not fit. */
  static void check(SparkSession spark, Dataset<Row> examples, List<String> layers, List<String> trainDomains,
      ProbeSettings settings, ProbeTaskSettings task) {
    Budget budget = budget(spark.sparkContext().getConf(), spark.sparkContext().master(),
        spark.sparkContext().defaultParallelism(), Runtime.getRuntime().maxMemory(), task);
    int d = 0;
    if (!layers.isEmpty() && (settings.linearProbe() || settings.mlp() != null)) {
      Row r = examples.agg(max(size(col(layers.get(0))))).first();
      d = r.isNullAt(0) ? 0 : Math.max(0, r.getInt(0));
    }
    Map<List<String>, Long> counts = new HashMap<>();
    for (Row r : examples.groupBy("band", "label_kind", "domain", "split").count().collectAsList()) {
      counts.put(List.of(r.getString(0), r.getString(1), r.getString(2), r.getString(3)), r.getLong(4));
    }
    List<Need> needs = needs(counts, layers, trainDomains, settings, d);
    List<Need> over = new ArrayList<>();
    Need largest = null;
    for (Need n : needs) {
      if (largest == null || n.bytes() > largest.bytes()) {
        largest = n;
      }
      if (n.bytes() > budget.bytes()) {
        over.add(n);
      }
    }
    if (largest != null) {
      LOG.info("Probe tasks: the largest, {} ({} fit + {} eval rows, d = {}), needs about {} of the {} a task may "
          + "use ({})", largest.config(), largest.fitRows(), largest.evalRows(), largest.d(),
          ProbeTaskMemory.human(largest.bytes()), ProbeTaskMemory.human(budget.bytes()), budget.how());
    }
    if (!over.isEmpty()) {
      over.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
      throw new ConfigException(message(over, budget));
    }
  }

  static String message(List<Need> over, Budget budget) {
    Need n = over.get(0);
    return "The probe stage cannot train " + n.config() + " in one Spark task: its " + n.fitRows() + " train/val and "
        + n.evalRows() + " evaluation rows" + (n.d() > 0 ? " of " + n.d() + " features (held as fp16)" : "")
        + " need about " + ProbeTaskMemory.human(n.bytes()) + " of heap, and a task may use "
        + ProbeTaskMemory.human(budget.bytes()) + " (" + budget.how() + ")."
        + (over.size() > 1 ? " " + (over.size() - 1) + " more configuration(s) do not fit either." : "")
        + " Give executors more heap (spark.executor.memory), run fewer tasks at once per executor"
        + " (spark.executor.cores / spark.task.cpus), set knowable.probe.task.memory if that figure is wrong, or"
        + " train on fewer rows (knowable.probe.domains, knowable.probe.pooled = false, narrower knowable.label.bands).";
  }

  /** The configurations the stage trains, one per probe kind, band, label kind and train domain (all layers and seeds alike). */
  static List<Need> needs(Map<List<String>, Long> counts, List<String> layers, List<String> trainDomains,
      ProbeSettings settings, int d) {
    Map<List<String>, long[]> perConfig = new HashMap<>();
    List<List<String>> order = new ArrayList<>();
    for (Map.Entry<List<String>, Long> e : counts.entrySet()) {
      String band = e.getKey().get(0);
      String kind = e.getKey().get(1);
      String domain = e.getKey().get(2);
      String split = e.getKey().get(3);
      for (String train : trainDomains) {
        List<String> key = List.of(band, kind, train);
        long[] c = perConfig.computeIfAbsent(key, k -> {
          order.add(k);
          return new long[2];
        });
        boolean fitDomain = train.equals(ProbeSettings.POOLED) || train.equals(domain);
        if (fitDomain && (split.equals("train") || split.equals("val"))) {
          c[0] += e.getValue();
        }
        if (split.equals("val") || split.equals("test")) {
          c[1] += e.getValue();
        }
      }
    }
    order.sort((a, b) -> String.join("/", a).compareTo(String.join("/", b)));
    List<Need> out = new ArrayList<>();
    String layer = layers.isEmpty() ? "" : " layer=" + ProbeExamplesTable.layerOf(layers.get(0))
        + (layers.size() > 1 ? " (and every other layer)" : "");
    for (List<String> key : order) {
      long[] c = perConfig.get(key);
      String where = " band=" + key.get(0) + " kind=" + key.get(1) + " train_domain=" + key.get(2);
      if (!layers.isEmpty() && settings.linearProbe()) {
        out.add(new Need(ProbeTables.LINEAR + layer + where, d, c[0], c[1],
            ProbeTaskMemory.needed(true, d, c[0], c[1], 0)));
      }
      if (!layers.isEmpty() && settings.mlp() != null) {
        out.add(new Need(ProbeTables.MLP + layer + where + " (every seed)", d, c[0], c[1],
            ProbeTaskMemory.needed(true, d, c[0], c[1], settings.mlp().hidden())));
      }
      if (!settings.contextKs().isEmpty()) {
        out.add(new Need(ProbeTables.CONTEXT_PREFIX + "k" + where, 0, c[0], c[1],
            ProbeTaskMemory.needed(false, 0, c[0], c[1], 0)));
      }
    }
    return out;
  }

  /**
   * What one task may use: knowable.probe.task.memory if set; else the executor heap (this
   * JVM's in local mode, spark.executor.memory otherwise) less Spark's reserve, times
   * memory-fraction, over the tasks one executor runs at once (its cores over
   * spark.task.cpus, fewer when each task takes a GPU; without spark.executor.cores, the
   * application's default parallelism, which assumes the worst).
   */
  static Budget budget(SparkConf conf, String master, int defaultParallelism, long localHeap,
      ProbeTaskSettings task) {
    if (task.memoryBytes() > 0) {
      return new Budget(task.memoryBytes(), "knowable.probe.task.memory");
    }
    Matcher local = LOCAL.matcher(master);
    long heap;
    int slots;
    String heapFrom;
    int taskCpus = Math.max(1, conf.getInt("spark.task.cpus", 1));
    if (local.matches()) {
      heap = localHeap;
      heapFrom = "this JVM's heap";
      String n = local.group(1);
      int threads = n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
      slots = Math.max(1, threads / taskCpus);
    } else {
      heap = conf.getSizeAsBytes("spark.executor.memory", "1g");
      heapFrom = "spark.executor.memory";
      int cores = conf.contains("spark.executor.cores") ? conf.getInt("spark.executor.cores", 1) : defaultParallelism;
      slots = Math.max(1, cores / taskCpus);
      if (conf.contains("spark.executor.resource.gpu.amount") && conf.contains("spark.task.resource.gpu.amount")) {
        double perTask = conf.getDouble("spark.task.resource.gpu.amount", 1);
        int gpuSlots = (int) Math.floor(conf.getDouble("spark.executor.resource.gpu.amount", 1) / perTask + 1e-9);
        slots = Math.max(1, Math.min(slots, gpuSlots));
      }
    }
    long bytes = ProbeTaskMemory.budget(0, heap, task.memoryFraction(), slots);
    return new Budget(bytes, "(" + heapFrom + " " + ProbeTaskMemory.human(heap) + " - 300 MiB reserved) x "
        + "knowable.probe.task.memory-fraction " + task.memoryFraction() + " / " + slots + " task(s) at once");
  }
}
