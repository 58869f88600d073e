package dev.knowable.jobs.aggregate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.evaluate.CrossDomain;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.tables.Table;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The aggregate stage: reads the committed Parquet tables and manifests of a set of runs
 * under the output root (never a model) and writes cross-run tables: {@code runs} (one row
 * per run and table, from the manifests), {@code agg_cross_domain} (train x eval domain test
 * AUC over seeds per probe kind, layer, band, label kind), {@code agg_auc_by_layer},
 * {@code agg_auc_by_band} and {@code agg_iclt_vs_bet} (when a run has iclt_metrics).
 *
 * <p>Every row is keyed by {@code source_run_id} and the source table's config fingerprint.
 * The tables themselves are published under the run id of the aggregate invocation
 * ({@code run_id=<knowable.run-id>}), so one aggregate is one folder that a rerun replaces
 * atomically; they are always recomputed (if-exists=skip does not apply: new runs may have
 * appeared), except that if-exists=fail still refuses to replace them.
 */
public final class AggregateStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(AggregateStage.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POOLED = "all";
  private static final String NAME = "aggregate";
  /** This stage's own tables, which it never reads back as a source run's. */
  private static final List<String> OWN = Table.producedBy(NAME).stream().map(Table::tableName).toList();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "cross-run tables from the Parquet and manifests of the runs under the output root "
        + "(knowable.aggregate.runs; default all)";
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (config.ifExists() == KnowableConfig.IfExists.FAIL) {
      tables().forEach(tables::needsWrite); // throws for a committed table
    }
    Map<String, List<Manifest>> runs = discover(spark, config);
    if (runs.isEmpty()) {
      throw new IllegalStateException("aggregate: no committed run under " + config.output()
          + (selected(config).isEmpty() ? "" : " among knowable.aggregate.runs=" + selected(config)));
    }
    LOG.info("aggregate: {} run(s) under {}: {}", runs.size(), config.output(), runs.keySet());
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("source_runs", new ArrayList<>(runs.keySet()));

    tables.write(Table.RUNS, runsTable(spark, runs), extras);

    Dataset<Row> metrics = union(spark, tables, runs, Table.PROBE_METRICS);
    Dataset<Row> cross = metrics == null ? empty(spark, Table.AGG_CROSS_DOMAIN)
        : CrossDomain.overSeeds(metrics, CrossDomain.RUN_KEYS);
    if (metrics == null) {
      LOG.info("aggregate: no run has probe_metrics; the AUC tables are empty");
    }
    tables.write(Table.AGG_CROSS_DOMAIN, select(cross, Table.AGG_CROSS_DOMAIN), extras);
    Dataset<Row> written = tables.read(Table.AGG_CROSS_DOMAIN);
    Column pooled = col("train_domain").equalTo(POOLED).and(col("eval_domain").equalTo(POOLED));
    tables.write(Table.AGG_AUC_BY_LAYER, select(written.filter(pooled.and(col("layer").isNotNull())),
        Table.AGG_AUC_BY_LAYER), extras);
    tables.write(Table.AGG_AUC_BY_BAND, select(written.filter(pooled), Table.AGG_AUC_BY_BAND), extras);

    Dataset<Row> iclt = union(spark, tables, runs, Table.ICLT_METRICS);
    if (iclt == null) {
      LOG.info("aggregate: no run has iclt_metrics (the iclt stage did not run); agg_iclt_vs_bet is empty");
    }
    Dataset<Row> comparisons = union(spark, tables, runs, Table.ICLT_COMPARISONS);
    tables.write(Table.AGG_ICLT_VS_BET, iclt == null ? empty(spark, Table.AGG_ICLT_VS_BET)
        : icltVsBet(iclt, comparisons), extras);
  }

  /** ICLT scores next to BET on the same positions, in-domain direction (train_domain = eval_domain). */
  static Dataset<Row> icltVsBet(Dataset<Row> iclt, Dataset<Row> comparisons) {
    Dataset<Row> test = iclt.filter(col("eval_split").equalTo("test").and(col("train_domain").equalTo(
        col("eval_domain"))));
    List<String> keys = List.of("source_run_id", "band", "label_kind", "balance", "train_domain");
    Dataset<Row> bet = test.filter(col("probe_kind").equalTo("bet")).select(col("source_run_id"), col("band"),
        col("label_kind"), col("balance"), col("train_domain"), col("auc").as("bet_auc"), col("auc_ci_low").as("bet_auc_ci_low"),
        col("auc_ci_high").as("bet_auc_ci_high"));
    Dataset<Row> joined = test.filter(col("probe_kind").notEqual("bet"))
        .join(bet, using(keys), "left")
        .withColumn("domain", col("train_domain"))
        .withColumn("auc_difference", col("auc").minus(col("bet_auc")));
    if (comparisons != null) {
      Dataset<Row> diff = comparisons.filter(col("eval_split").equalTo("test")
              .and(col("train_domain").equalTo(col("eval_domain"))))
          .select(col("source_run_id"), col("probe_kind"), col("band"), col("label_kind"), col("balance"),
              col("train_domain"), col("difference_ci_low"), col("difference_ci_high"));
      joined = joined.join(diff, using(
          List.of("source_run_id", "probe_kind", "band", "label_kind", "balance", "train_domain")), "left");
    } else {
      joined = joined.withColumn("difference_ci_low", lit(null)).withColumn("difference_ci_high", lit(null));
    }
    return select(joined, Table.AGG_ICLT_VS_BET);
  }

  /** The documented columns of {@code table}, in order, cast to their documented types. */
  static Dataset<Row> select(Dataset<Row> data, Table table) {
    List<Column> cols = new ArrayList<>();
    for (StructField f : SparkSchemas.of(table).fields()) {
      cols.add(col(f.name()).cast(f.dataType()).as(f.name()));
    }
    return data.select(cols.toArray(new Column[0]));
  }

  /**
   * Join column names as the array that Dataset.join takes (the array overloads exist in
   * Spark 3.5 and 4; the Scala Seq ones differ between Scala 2.12 and 2.13).
   */
  public static String[] using(List<String> names) {
    return names.toArray(new String[0]);
  }

  private static Dataset<Row> empty(SparkSession spark, Table table) {
    return spark.createDataFrame(List.of(), SparkSchemas.of(table));
  }

  /** One table of every run that has it, with source_run_id and its manifest's fingerprint; null when none. */
  private static Dataset<Row> union(SparkSession spark, RunTables tables, Map<String, List<Manifest>> runs,
      Table table) {
    Dataset<Row> all = null;
    for (Map.Entry<String, List<Manifest>> run : runs.entrySet()) {
      Manifest m = run.getValue().stream().filter(x -> x.table().equals(table.tableName())).findFirst().orElse(null);
      if (m == null) {
        continue;
      }
      Dataset<Row> one = spark.read().parquet(tables.tablePath(table, run.getKey()).toString())
          .withColumn("source_run_id", lit(run.getKey()))
          .withColumn("config_fingerprint", lit(m.string("config_fingerprint")));
      if (!List.of(one.columns()).contains("balance")) {
        // Runs from before the balance column used the paper's token balancing.
        one = one.withColumn("balance", lit("token"));
      }
      all = all == null ? one : all.unionByName(one, true);
    }
    return all;
  }

  private static List<String> selected(KnowableConfig config) {
    return config.aggregate().runs();
  }

  /** A table's manifest of one run. */
  record Manifest(String runId, String table, Path path, Map<String, Object> json) {
    String string(String key) {
      Object v = json.get(key);
      return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    Object at(String... keys) {
      Object v = json;
      for (String k : keys) {
        if (!(v instanceof Map)) {
          return null;
        }
        v = ((Map<String, Object>) v).get(k);
      }
      return v;
    }
  }

  /**
   * The committed tables of the selected runs: every {@code <output>/<table>/run_id=<id>/_manifest.json},
   * by run id (sorted), skipping this stage's own tables and folders that are not tables.
   */
  static Map<String, List<Manifest>> discover(SparkSession spark, KnowableConfig config) {
    List<String> wanted = selected(config);
    Map<String, List<Manifest>> runs = new TreeMap<>();
    Path root = new Path(config.output());
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        throw new ConfigException("aggregate: the output root " + root + " does not exist (knowable.output)");
      }
      for (FileStatus tableDir : fs.listStatus(root)) {
        String table = tableDir.getPath().getName();
        if (!tableDir.isDirectory() || table.startsWith("_") || table.startsWith(".") || OWN.contains(table)) {
          continue;
        }
        for (FileStatus runDir : fs.listStatus(tableDir.getPath())) {
          String dir = runDir.getPath().getName();
          Path manifest = new Path(runDir.getPath(), RunTables.MANIFEST);
          if (!runDir.isDirectory() || !dir.startsWith("run_id=") || !fs.exists(manifest)) {
            continue;
          }
          String runId = dir.substring("run_id=".length());
          runs.computeIfAbsent(runId, k -> new ArrayList<>()).add(new Manifest(runId, table, manifest,
              read(fs, manifest)));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("aggregate: cannot list " + root + ": " + e.getMessage(), e);
    }
    List<String> missing = new ArrayList<>(new TreeSet<>(wanted));
    missing.removeAll(runs.keySet());
    if (!missing.isEmpty()) {
      throw new ConfigException("knowable.aggregate.runs names run(s) with no committed table under "
          + config.output() + ": " + missing + " (found: " + runs.keySet() + ")");
    }
    if (!wanted.isEmpty()) {
      runs.keySet().retainAll(wanted);
    }
    runs.values().forEach(l -> l.sort((a, b) -> a.table().compareTo(b.table())));
    return runs;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> read(FileSystem fs, Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return JSON.readValue(in, Map.class);
    }
  }

  /** One row per (run, table) from the manifests (a handful of rows per run: built on the driver). */
  static Dataset<Row> runsTable(SparkSession spark, Map<String, List<Manifest>> runs) {
    List<Row> rows = new ArrayList<>();
    for (List<Manifest> manifests : runs.values()) {
      for (Manifest m : manifests) {
        Object pair = m.json().containsKey("model_pair") ? m.json().get("model_pair") : m.json().get("model");
        Object committed = m.json().get("committed_at");
        Object rowsWritten = m.json().get("rows");
        Object seconds = m.json().get("write_seconds");
        rows.add(RowFactory.create(m.runId(), m.table(), Table.find(m.table()).map(Table::stage).orElse("unknown"),
            m.string("config_fingerprint"), pair == null ? null : pair.toString(),
            str(m.at("config", "models", "small", "path")), str(m.at("config", "models", "large", "path")),
            m.string("tokenizer_sha256"),
            str(m.at("versions", "git_revision")), str(m.at("versions", "knowable")), str(m.at("versions", "spark")),
            str(m.at("versions", "java")), rowsWritten == null ? null : ((Number) rowsWritten).longValue(),
            seconds == null ? null : ((Number) seconds).doubleValue(),
            committed == null ? null : Timestamp.from(Instant.parse(committed.toString())), m.path().toString()));
      }
    }
    return spark.createDataFrame(rows, SparkSchemas.of(Table.RUNS));
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
