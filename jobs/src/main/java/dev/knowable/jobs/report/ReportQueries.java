package dev.knowable.jobs.report;

import static dev.knowable.jobs.report.ReportData.POOLED;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import dev.knowable.jobs.evaluate.CrossDomain;
import dev.knowable.jobs.evaluate.StoredProbes;
import dev.knowable.jobs.report.ReportData.Density;
import dev.knowable.jobs.report.ReportData.Difference;
import dev.knowable.jobs.report.ReportData.Iclt;
import dev.knowable.jobs.report.ReportData.IcltAuc;
import dev.knowable.jobs.report.ReportData.IcltHistogram;
import dev.knowable.jobs.report.ReportData.Passage;
import dev.knowable.jobs.report.ReportData.ProbeAuc;
import dev.knowable.jobs.report.ReportData.RocCounts;
import dev.knowable.jobs.report.ReportData.RunFacts;
import dev.knowable.jobs.report.ReportData.SweepDifference;
import dev.knowable.jobs.report.ReportData.SweepRow;
import dev.knowable.jobs.report.ReportData.Token;
import dev.knowable.jobs.report.ReportData.TokenView;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.label.Band;
import dev.knowable.tables.Table;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The report's queries: each gathers one section from the run's tables as {@link ReportData}
 * values. Everything per token is aggregated in Spark (ROC counts over a bounded number of
 * score bins, the 2-D entropy histogram, ICLT score histograms); only those aggregates, the
 * metrics rows and a few passages of the token view reach the driver.
 */
final class ReportQueries {
  /** The tables whose manifests the config section lists, in its order. */
  static final List<Table> FACT_TABLES = List.of(Table.TOKENS, Table.SMALL_SCORES, Table.LARGE_SCORES,
      Table.PROBE_EXAMPLES, Table.PROBE_METRICS, Table.ICLT_METRICS);

  private final SparkSession spark;
  private final RunTables tables;
  private final String runId;

  ReportQueries(SparkSession spark, RunTables tables, String runId) {
    this.spark = spark;
    this.tables = tables;
    this.runId = runId;
  }

  boolean has(Table table) {
    return tables.isCommitted(table);
  }

  /** The table, failing with the stage that writes it when it is missing. */
  private Dataset<Row> read(Table table) {
    return tables.read(table);
  }

  /** probe_models holds the fitted weights; read directly (no required stage name for its schema check). */
  private Dataset<Row> models() {
    return spark.read().parquet(tables.tablePath(Table.PROBE_MODELS).toString());
  }

  /** Every probe configuration's test AUC over seeds, as agg_cross_domain has it: one row each, small. */
  List<ProbeAuc> probeAucs() {
    Dataset<Row> metrics = read(Table.PROBE_METRICS).withColumn("source_run_id", lit(runId))
        .withColumn("config_fingerprint", lit(String.valueOf(tables.readManifest(Table.PROBE_METRICS)
            .get("config_fingerprint"))));
    List<ProbeAuc> out = new ArrayList<>();
    for (Row x : CrossDomain.overSeeds(metrics, CrossDomain.RUN_KEYS).collectAsList()) {
      out.add(new ProbeAuc(x.getAs("balance"), x.getAs("band"), x.getAs("label_kind"), x.getAs("probe_kind"),
          x.getAs("layer"), x.getAs("train_domain"), x.getAs("eval_domain"), x.<Long>getAs("n_seeds"),
          x.<Double>getAs("auc_mean"), x.getAs("auc_std"), nz(x.getAs("auc_ci_low")), nz(x.getAs("auc_ci_high")),
          x.<Long>getAs("n_class0"), x.<Long>getAs("n_class1")));
    }
    return out;
  }

  private static double nz(Object d) {
    return d == null ? Double.NaN : (Double) d;
  }

  /** The manifest of probe_models (MLP and BET-FT training counts); empty when the table is missing. */
  Map<String, Object> probeModelsManifest() {
    return has(Table.PROBE_MODELS) ? tables.readManifest(Table.PROBE_MODELS) : Map.of();
  }

  /** Pooled test rows of probe_comparisons in {@code balances}, every seed (a few rows per probe). */
  List<Difference> differences(String band, String labelKind, List<String> balances) {
    if (!has(Table.PROBE_COMPARISONS)) {
      return List.of();
    }
    Dataset<Row> c = read(Table.PROBE_COMPARISONS).filter(col("band").equalTo(band)
        .and(col("label_kind").equalTo(labelKind)).and(col("train_domain").equalTo(POOLED))
        .and(col("eval_domain").equalTo(POOLED)).and(col("eval_split").equalTo("test")))
        .filter(col("balance").isin(balances.toArray()))
        .orderBy("balance", "probe_kind", "layer", "baseline_kind", "seed");
    List<Difference> out = new ArrayList<>();
    for (Row x : c.collectAsList()) {
      out.add(new Difference(x.getAs("balance"), x.getAs("probe_kind"), x.<Integer>getAs("layer"),
          x.<Integer>getAs("seed"), x.getAs("baseline_kind"), x.<Double>getAs("auc_difference"),
          x.<Double>getAs("difference_ci_low"), x.<Double>getAs("difference_ci_high")));
    }
    return out;
  }

  /** Where bench/threshold-sweep.sh puts its cells: one output root per (cut, gap) below the run's. */
  static final String SWEEP_FOLDER = "sweep";
  /** The config keys of the gap labels' thresholds, under label in a manifest's recorded config. */
  static final String CUT_KEY = "epistemic-max-large-entropy";
  static final String GAP_KEY = "aleatoric-max-gap";

  /**
   * The threshold sweep in {@code band}: the run's own probe_comparisons (when committed) and
   * each cell {@code <output>/sweep/<name>/} holding a committed probe_comparisons of this run
   * id, aggregated as bench/threshold-sweep.sh's SQL does (gap labels, train and eval all, test,
   * combined_k baselines, the cell's highest layer; mean over seeds per balancing and probe kind).
   * A cell's thresholds come from its recorded config, never from its folder name. A few rows.
   */
  List<SweepRow> sweep(String band) {
    List<SweepRow> out = new ArrayList<>();
    Path root = tables.outputRoot();
    if (has(Table.PROBE_COMPARISONS)) {
      out.addAll(sweepCell(tables, null, band));
    }
    Path dir = new Path(root, SWEEP_FOLDER);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        return out;
      }
      for (FileStatus cell : fs.listStatus(dir)) {
        // Not isDirectory(): the local file system reports a linked cell as a link, and a file
        // (sweep.md) simply has no committed table below it.
        RunTables cellTables = tables.under(cell.getPath());
        if (cellTables.isCommitted(Table.PROBE_COMPARISONS)) {
          out.addAll(sweepCell(cellTables, SWEEP_FOLDER + "/" + cell.getPath().getName(), band));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("report: cannot list the sweep cells in " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** One cell's rows: one per balancing that has an MLP or linear row in the band. */
  private List<SweepRow> sweepCell(RunTables cell, String source, String band) {
    // The label stage's config decides the labels; probe_comparisons records the same config.
    Table recorded = cell.isCommitted(Table.PROBE_EXAMPLES) ? Table.PROBE_EXAMPLES : Table.PROBE_COMPARISONS;
    double[] thresholds = thresholds(cell.readManifest(recorded), cell.tablePath(recorded));
    Dataset<Row> c = spark.read().parquet(cell.tablePath(Table.PROBE_COMPARISONS).toString())
        .filter(col("label_kind").equalTo("gap").and(col("train_domain").equalTo(POOLED))
            .and(col("eval_domain").equalTo(POOLED)).and(col("eval_split").equalTo("test"))
            .and(col("baseline_kind").startsWith(ProbeTables.COMBINED_PREFIX)).and(col("band").equalTo(band))
            .and(col("probe_kind").isin("mlp", "linear")));
    Row top = c.agg(max("layer")).first();
    if (top.isNullAt(0)) {
      return List.of();
    }
    int layer = top.getInt(0);
    // Per (balancing, probe kind): a few rows reach the driver.
    Map<String, Map<String, Row>> byBalance = new TreeMap<>();
    for (Row x : c.filter(col("layer").equalTo(layer)).groupBy("balance", "probe_kind")
        .agg(max("n_class0"), max("n_class1"), avg("auc_difference"), avg("difference_ci_low"),
            avg("difference_ci_high"), countDistinct("seed"))
        .collectAsList()) {
      byBalance.computeIfAbsent(x.getString(0), k -> new TreeMap<>()).put(x.getString(1), x);
    }
    List<SweepRow> out = new ArrayList<>();
    for (Map.Entry<String, Map<String, Row>> e : byBalance.entrySet()) {
      long n0 = 0;
      long n1 = 0;
      long seeds = 0;
      for (Row x : e.getValue().values()) {
        n0 = Math.max(n0, x.getLong(2));
        n1 = Math.max(n1, x.getLong(3));
        seeds = Math.max(seeds, x.getLong(7));
      }
      out.add(new SweepRow(e.getKey(), thresholds[0], thresholds[1], source, band, layer, n0, n1,
          sweepDifference(e.getValue().get("mlp")), sweepDifference(e.getValue().get("linear")), seeds));
    }
    return out;
  }

  private static SweepDifference sweepDifference(Row x) {
    return x == null ? null : new SweepDifference(nz(x.get(4)), nz(x.get(5)), nz(x.get(6)));
  }

  /** {class-0 cut, class-1 gap} from a manifest's recorded config (the knowable tree, with or without its root key). */
  private static double[] thresholds(Map<String, Object> m, Path table) {
    Object config = m.get("config");
    if (config instanceof Map<?, ?> tree && tree.get("knowable") instanceof Map<?, ?> inner) {
      config = inner;
    }
    Object label = config instanceof Map<?, ?> tree ? tree.get("label") : null;
    if (!(label instanceof Map<?, ?> l) || !(l.get(CUT_KEY) instanceof Number cut)
        || !(l.get(GAP_KEY) instanceof Number gap)) {
      throw new IllegalStateException("report: the manifest of " + table + " records no label." + CUT_KEY + " and label."
          + GAP_KEY + " in its config");
    }
    return new double[] {cut.doubleValue(), gap.doubleValue()};
  }

  /**
   * ROC class counts on the test split of probe_examples for the {@code kind} probe at {@code
   * layer} (lowest seed), BET (H_S) and {@code control} (a combined_k or context_k kind, or
   * null), all trained on every domain pooled; null when the run has no probe_models.
   */
  RocCounts rocCounts(String band, String labelKind, String balance, String kind, int layer, String control,
      int bins) {
    if (!has(Table.PROBE_MODELS)) {
      return null;
    }
    Dataset<Row> examples = read(Table.PROBE_EXAMPLES).filter(col("split").equalTo("test")
        .and(col("band").equalTo(band)).and(col("label_kind").equalTo(labelKind))
        .and(col("balance").equalTo(balance)));
    Dataset<Row> models = models().filter(col("band").equalTo(band).and(col("label_kind").equalTo(labelKind))
        .and(col("train_domain").equalTo(POOLED)).and(col("balance").equalTo(balance)));
    Row probe = lowestSeed(models.filter(col("probe_kind").equalTo(kind).and(col("layer").equalTo(layer))));
    List<Column> scores = new ArrayList<>();
    UserDefinedFunction p0 = StoredProbes.epistemicProbability(probe, kind);
    scores.add(lit(1.0).minus(p0.apply(col("hidden_l" + layer))));
    scores.add(col("small_entropy").cast(DataTypes.DoubleType));
    if (control != null && control.startsWith(ProbeTables.COMBINED_PREFIX)) {
      Row ctx = lowestSeed(models.filter(col("probe_kind").equalTo(control)));
      int k = Integer.parseInt(control.substring(ProbeTables.COMBINED_PREFIX.length()));
      examples = TokensTable.withContextIds(examples, tables);
      scores.add(StoredProbes.combinedScore(ctx, k));
    } else if (control != null) {
      Row ctx = lowestSeed(models.filter(col("probe_kind").equalTo(control)));
      int k = Integer.parseInt(control.substring(ProbeTables.CONTEXT_PREFIX.length()));
      if (k > 2) {
        examples = TokensTable.withContextIds(examples, tables);
      }
      scores.add(StoredProbes.contextScore(ctx, k));
    }
    return new RocCounts(kind, layer, probe.<Integer>getAs("seed"), control, bins,
        rocCounts(examples, scores, bins));
  }

  private static Row lowestSeed(Dataset<Row> models) {
    List<Row> rows = models.orderBy("seed").limit(1).collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalStateException("report: probe_models has no matching probe");
    }
    return rows.get(0);
  }

  /**
   * Class counts per evaluation domain (all pooled first) for each score column: scores binned
   * into {@code bins} equal-width bins between the score's min and max, counted per label in
   * Spark; at most bins x 2 counts per curve and domain reach the driver.
   */
  static Map<String, List<long[][]>> rocCounts(Dataset<Row> examples, List<Column> scores, int bins) {
    Dataset<Row> scored = null;
    for (int i = 0; i < scores.size(); i++) {
      Dataset<Row> one = examples.select(lit(i).as("curve"), col("domain"), col("label"),
          scores.get(i).as("score"));
      scored = scored == null ? one : scored.unionByName(one);
    }
    scored = scored.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    try {
      Map<Integer, double[]> range = new TreeMap<>();
      for (Row x : scored.groupBy("curve").agg(min("score"), max("score")).collectAsList()) {
        range.put(x.getInt(0), new double[] {x.getDouble(1), x.getDouble(2)});
      }
      Column lo = lit(0.0);
      Column width = lit(1.0);
      for (Map.Entry<Integer, double[]> e : range.entrySet()) {
        Column is = col("curve").equalTo(e.getKey());
        double w = Math.max(e.getValue()[1] - e.getValue()[0], 1e-12);
        lo = functions.when(is, e.getValue()[0]).otherwise(lo);
        width = functions.when(is, w).otherwise(width);
      }
      Column bin = least(greatest(floor(col("score").minus(lo).divide(width).multiply(bins)), lit(0L)),
          lit((long) bins - 1));
      Dataset<Row> counted = scored.withColumn("bin", bin)
          .withColumn("domains", functions.array(col("domain"), lit(POOLED)))
          .withColumn("d", functions.explode(col("domains")))
          .groupBy("curve", "d", "bin", "label").agg(count(lit(1)).as("n"));
      // domain -> curve -> bin -> {n0, n1}
      Map<String, Map<Integer, long[][]>> counts = new TreeMap<>();
      for (Row x : counted.collectAsList()) { // at most curves x (domains + 1) x bins x 2 rows
        long[][] perBin = counts.computeIfAbsent(x.getString(1), k -> new TreeMap<>())
            .computeIfAbsent(x.getInt(0), k -> new long[bins][2]);
        perBin[(int) x.getLong(2)][x.getInt(3)] += x.getLong(4);
      }
      Map<String, List<long[][]>> out = new LinkedHashMap<>();
      List<String> domains = new ArrayList<>(counts.keySet());
      if (domains.remove(POOLED)) {
        domains.add(0, POOLED);
      }
      for (String d : domains) {
        List<long[][]> curves = new ArrayList<>();
        for (int i = 0; i < scores.size(); i++) {
          curves.add(counts.get(d).getOrDefault(i, new long[bins][2]));
        }
        out.put(d, curves);
      }
      return out;
    } finally {
      scored.unpersist();
    }
  }

  /**
   * The H_S x H_L histogram of every position scored by both models, in {@code bins} x {@code
   * bins} cells up to the largest entropy (rounded up to 0.1 nats); null when either score table
   * is missing, zero positions when none is scored. {@code first}: the first band, drawn at the
   * nats its label stage resolved it to when it is a quantile band.
   */
  Density density(int bins, Band.Spec first) {
    if (!has(Table.SMALL_SCORES) || !has(Table.LARGE_SCORES)) {
      return null;
    }
    Dataset<Row> pairs = read(Table.SMALL_SCORES).select("doc_id", "position", "entropy")
        .withColumnRenamed("entropy", "hs")
        .join(read(Table.LARGE_SCORES).select("doc_id", "position", "entropy")
            .withColumnRenamed("entropy", "hl"), using(List.of("doc_id", "position")))
        .filter(col("hs").isNotNull().and(col("hl").isNotNull())
            .and(functions.not(functions.isnan(col("hs")))).and(functions.not(functions.isnan(col("hl")))));
    Row top = pairs.agg(max(greatest(col("hs"), col("hl"))), count(lit(1))).first();
    if (top.isNullAt(0)) {
      return new Density(0, bins, 0, 0, new long[0], new long[0], new long[0], 0);
    }
    double maxH = Math.ceil(top.getFloat(0) * 10) / 10.0; // float arithmetic, as the histogram always had
    double w = maxH / bins;
    List<Row> cells = pairs.groupBy(least(floor(col("hs").divide(w)), lit((long) bins - 1)).as("bx"),
            least(floor(col("hl").divide(w)), lit((long) bins - 1)).as("by"))
        .agg(count(lit(1)).as("n")).collectAsList(); // at most bins^2 cells
    long[] bx = new long[cells.size()];
    long[] by = new long[cells.size()];
    long[] n = new long[cells.size()];
    for (int i = 0; i < cells.size(); i++) {
      bx[i] = cells.get(i).getLong(0);
      by[i] = cells.get(i).getLong(1);
      n[i] = cells.get(i).getLong(2);
    }
    Band resolved = first.unit() == Band.Unit.NATS || !has(Table.PROBE_EXAMPLES) ? null
        : ProbeExamplesTable.resolvedBand(tables, runId, first);
    double bandMin = resolved == null ? first.lower() : resolved.minNats();
    return new Density(top.getLong(1), bins, maxH, w, bx, by, n, bandMin);
  }

  /** The ICLT section's values; null when the run has no iclt_scores. */
  Iclt iclt(List<String> scoreNames) {
    if (!has(Table.ICLT_SCORES)) {
      return null;
    }
    Dataset<Row> scores = read(Table.ICLT_SCORES).filter(col("split").equalTo("test"));
    List<String> separators = scores.select("separator").distinct().orderBy("separator").as(Encoders.STRING())
        .collectAsList();
    List<IcltAuc> metrics = null;
    if (has(Table.ICLT_METRICS)) {
      metrics = new ArrayList<>();
      for (Row r : read(Table.ICLT_METRICS).filter(col("train_domain").equalTo(POOLED)
          .and(col("eval_domain").equalTo(POOLED)).and(col("eval_split").equalTo("test")))
          .orderBy("band", "balance", "probe_kind").select(functions.concat(col("band"), lit(" "), col("balance")),
              col("probe_kind"), col("auc"), col("auc_ci_low"), col("auc_ci_high"), col("n_class0"), col("n_class1"))
          .collectAsList()) {
        metrics.add(new IcltAuc(r.getString(0), r.getString(1), r.getDouble(2),
            r.isNullAt(3) ? Double.NaN : r.getDouble(3), r.isNullAt(4) ? Double.NaN : r.getDouble(4), r.getLong(5),
            r.getLong(6)));
      }
    }
    int bins = IcltHistogram.BINS;
    List<IcltHistogram> histograms = new ArrayList<>();
    for (String score : scoreNames) {
      // Bins between the 1st and 99th percentile (ends clipped into the outer bins): a few outliers
      // would otherwise squeeze almost every position into one bin.
      Dataset<Row> finite = scores.filter(col(score).isNotNull().and(functions.not(functions.isnan(col(score)))));
      double[] q = finite.stat().approxQuantile(score, new double[] {0.01, 0.99}, 0.001);
      if (q.length < 2) {
        continue;
      }
      double lo = q[0];
      double w = Math.max(q[1] - lo, 1e-12) / bins;
      Map<String, long[][]> bySeparator = new TreeMap<>();
      for (Row h : finite.groupBy(col("separator"), col("label"),
              least(greatest(floor(col(score).minus(lo).divide(w)), lit(0L)), lit((long) bins - 1)).as("bin"))
          .agg(count(lit(1)).as("n")).collectAsList()) {
        int label = h.getInt(1);
        if (label == 0 || label == 1) {
          bySeparator.computeIfAbsent(h.getString(0), k -> new long[2][bins])[label][(int) h.getLong(2)] +=
              h.getLong(3);
        }
      }
      histograms.add(new IcltHistogram(score, lo, w, bySeparator));
    }
    return new Iclt(separators, metrics, histograms);
  }

  /**
   * The token view: the first {@code maxTokens} scored positions of the first test document of
   * each domain (by doc_id, up to {@code passages}), shaded by the pooled {@code kind} probe at
   * {@code layer} (lowest seed) of {@code balance}; null when small_scores or documents is missing.
   */
  TokenView tokenView(String band, String labelKind, String balance, String kind, int layer, int passages,
      int maxTokens) {
    if (!has(Table.SMALL_SCORES) || !has(Table.DOCUMENTS)) {
      return null;
    }
    Dataset<Row> models = models().filter(col("band").equalTo(band).and(col("label_kind").equalTo(labelKind))
        .and(col("train_domain").equalTo(POOLED)).and(col("probe_kind").equalTo(kind))
        .and(col("layer").equalTo(layer)).and(col("balance").equalTo(balance)));
    Row probe = lowestSeed(models);
    // The first test document of each domain (by doc_id), up to `passages`.
    List<Row> docs = read(Table.DOCUMENTS).filter(col("split").equalTo("test"))
        .groupBy("domain").agg(min("doc_id").as("doc_id")).orderBy("domain").limit(passages).collectAsList();
    // A quantile band is shaded in the nats range this run's label stage resolved it to.
    Band b = ProbeExamplesTable.resolvedBand(tables, runId, Band.Spec.parse(band));
    if (b == null) {
      throw new IllegalStateException("report: the probe_examples manifest of run " + runId
          + " records no nats bounds for band " + band);
    }
    int seed = probe.<Integer>getAs("seed");
    if (docs.isEmpty()) {
      return new TokenView(kind, layer, seed, b.minNats(), b.maxNats(), List.of());
    }
    UserDefinedFunction p0 = StoredProbes.epistemicProbability(probe, kind, HiddenStates.dtype(tables));
    List<String> ids = docs.stream().map(d -> d.<String>getAs("doc_id")).toList();
    Object[] domains = docs.stream().map(d -> d.<String>getAs("domain")).distinct().toArray();
    // The domain filter prunes partitions; the doc_id filter is pushed down to the Parquet reader.
    Dataset<Row> small = read(Table.SMALL_SCORES).filter(col("domain").isin(domains))
        .filter(col("doc_id").isin(ids.toArray()).and(col("position").lt(maxTokens)));
    Dataset<Row> rows = small.select(col("doc_id"), col("position"), col("token_id"), col("entropy").as("hs"),
        p0.apply(col("hidden_l" + layer)).as("p"));
    if (has(Table.LARGE_SCORES)) {
      rows = rows.join(read(Table.LARGE_SCORES).filter(col("domain").isin(domains))
          .filter(col("doc_id").isin(ids.toArray()).and(col("position").lt(maxTokens)))
          .select(col("doc_id"), col("position"), col("entropy").as("hl")),
          using(List.of("doc_id", "position")), "left");
    } else {
      rows = rows.withColumn("hl", lit(null).cast(DataTypes.FloatType));
    }
    // A few passages of at most passage-tokens positions each: bounded, fine on the driver.
    Map<String, List<Token>> tokens = new TreeMap<>();
    for (Row r : rows.orderBy("doc_id", "position").collectAsList()) {
      tokens.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(new Token(r.getInt(1), r.getInt(2),
          r.getFloat(3), r.getDouble(4), r.isNullAt(5) ? null : r.getFloat(5)));
    }
    Map<String, String> texts = new TreeMap<>();
    for (Row t : read(Table.DOCUMENTS).filter(col("doc_id").isin(ids.toArray())).select("doc_id", "text")
        .collectAsList()) {
      texts.put(t.getString(0), t.getString(1));
    }
    List<Passage> out = new ArrayList<>();
    for (Row d : docs) {
      String id = d.getAs("doc_id");
      out.add(new Passage(id, d.getAs("domain"), texts.get(id), tokens.getOrDefault(id, List.of())));
    }
    return new TokenView(kind, layer, seed, b.minNats(), b.maxNats(), out);
  }

  /** Run id, model pair, each present table's fingerprints and counts, and the config (probe_metrics' manifest). */
  RunFacts runFacts() {
    Map<String, Object> manifest = tables.readManifest(Table.PROBE_METRICS);
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("run id", String.valueOf(manifest.get("run_id")));
    facts.put("model pair", String.valueOf(manifest.get("model_pair")));
    for (Table t : FACT_TABLES) {
      if (has(t)) {
        Map<String, Object> m = tables.readManifest(t);
        facts.put(t + " config fingerprint", String.valueOf(m.get("config_fingerprint")));
        if (m.containsKey("tokenizer_sha256")) {
          facts.put(t + " tokenizer sha256", String.valueOf(m.get("tokenizer_sha256")));
        }
        if (m.containsKey("model_path")) {
          facts.put(t + " model", m.get("model") + " at " + m.get("model_path"));
        }
        facts.put(t + " rows / committed", m.get("rows") + " / " + m.get("committed_at"));
      }
    }
    facts.put("versions (probe_metrics)", String.valueOf(manifest.get("versions")));
    return new RunFacts(facts, manifest.get("config"));
  }

  /**
   * Join column names as the array that Dataset.join takes (the array overloads exist in
   * Spark 3.5 and 4; the Scala Seq ones differ between Scala 2.12 and 2.13).
   */
  private static String[] using(List<String> names) {
    return names.toArray(new String[0]);
  }
}
