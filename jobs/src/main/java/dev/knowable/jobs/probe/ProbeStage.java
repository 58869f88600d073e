package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.arrays_zip;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.evaluate.CrossDomain;
import dev.knowable.jobs.evaluate.PairedComparisons;
import dev.knowable.jobs.evaluate.ProbeMetricsFunction;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.label.LabelKind;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.probe.ProbeTaskSettings;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probe stage: {@code probe_examples} -> {@code probe_metrics}, {@code probe_models},
 * {@code cross_domain} and {@code probe_comparisons} (docs/METHOD.md sections 6 and 7).
 *
 * <p>For every layer, band, label kind and train domain (each configured domain, and all
 * pooled): a linear probe (MLlib logistic regression, one distributed fit each), an MLP
 * probe per seed (DJL, one Spark task per configuration, all trained in one job), the
 * context baselines, BET and BET-FT ({@link BetFtProbe}). Each probe is evaluated unchanged
 * on the val and test split of every domain and of all domains pooled; the scored rows are grouped per probe and
 * turned into metrics on the executors. Only aggregates and fitted weights reach the driver.
 */
public final class ProbeStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeStage.class);
  private static final List<String> EVAL_SPLITS = List.of("val", "test");

  @Override
  public String name() {
    return "probe";
  }

  @Override
  public String description() {
    return "Linear, MLP, BET, BET-FT and context probes per layer, band and domain -> probe_metrics, probe_models, "
        + "cross_domain, probe_comparisons";
  }

  /** What the driver knows about probe_examples: from one aggregate query. */
  private record Populations(List<String> bands, List<String> kinds, List<String> domains,
      Map<List<String>, long[]> trainCounts) {
    long[] train(String band, String kind, String domain) {
      return trainCounts.getOrDefault(List.of(band, kind, domain), new long[2]);
    }
  }

  /** The configurations to fit: hidden layers and train domains, over the populations of probe_examples. */
  private record ProbePlan(List<String> layers, List<String> trainDomains, Populations pops) {}

  /**
   * What the fits produced: the probe_models rows (null when no probe was fitted; BET-FT's
   * and the probe tasks' unioned), the evaluation scores of every probe kind, and the largest
   * context token id.
   */
  private record Fitted(Dataset<Row> fits, List<Dataset<Row>> scored, int maxTokenId) {}

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    ProbeSettings settings = config.probe();
    ProbeTaskSettings taskSettings = config.probeTask();
    if (!anyNeedsWrite(tables)) {
      return;
    }
    List<String> kinds = settings.labelKinds().stream().map(LabelKind::tableValue).toList();
    Dataset<Row> examples = readExamples(tables, settings, kinds).persist(StorageLevel.MEMORY_AND_DISK());
    List<Dataset<Row>> fitParts = new ArrayList<>();
    Dataset<Row> allScored = null;
    try {
      ProbePlan plan = planConfigurations(spark, tables, examples, kinds, settings, taskSettings);
      Fitted fitted = fit(spark, config, tables, examples, plan, fitParts);
      allScored = allScored(fitted.scored(), settings);
      Map<String, Object> extras = new LinkedHashMap<>();
      extras.put("model_pair", settings.modelPair());
      extras.put("layers", plan.layers().stream().map(ProbeExamplesTable::layerOf).toList());
      extras.put("bands", plan.pops().bands());
      extras.put("label_kinds", plan.pops().kinds());
      extras.put("train_domains", plan.trainDomains());
      extras.put("seeds", settings.seeds());
      long metricRows = writeMetrics(tables, allScored, settings, extras);
      // extras gains the models' counts here and keeps them for cross_domain and probe_comparisons.
      writeModels(spark, config, tables, fitted, extras);
      writeCrossDomain(tables, extras);
      writeComparisons(tables, allScored, settings, extras);
      LOG.info("Probe stage wrote {} metric rows", metricRows);
    } finally {
      if (allScored != null) {
        allScored.unpersist();
      }
      // fits may be a union: its parts are what was persisted.
      fitParts.forEach(Dataset::unpersist);
      examples.unpersist();
    }
  }

  /** Whether any table of the stage is to be written (each is asked: a committed one may fail if-exists). */
  private boolean anyNeedsWrite(RunTables tables) {
    boolean needed = false;
    for (Table t : tables()) {
      needed |= tables.needsWrite(t);
    }
    return needed;
  }

  /** probe_examples of the configured label kinds, with a balance column and, for k > 2, the context ids. */
  private static Dataset<Row> readExamples(RunTables tables, ProbeSettings settings, List<String> kinds) {
    Dataset<Row> examples = tables.read(Table.PROBE_EXAMPLES)
        .filter(col("label_kind").isin(kinds.toArray()));
    if (!List.of(examples.columns()).contains(ProbeExamplesTable.BALANCE)) {
      // probe_examples written before the balance column: the paper's token balancing.
      examples = examples.withColumn(ProbeExamplesTable.BALANCE,
          lit(dev.knowable.label.Balancing.TOKEN.tableValue()));
    }
    if (settings.maxContextK() > 2) {
      examples = TokensTable.withContextIds(examples, tables);
    }
    return examples;
  }

  /**
   * The layers, bands, label kinds and train domains to fit, checked against probe_examples:
   * every asked label kind is there, some configuration has both classes to train on, and
   * every fit's rows fit its task's heap.
   */
  private static ProbePlan planConfigurations(SparkSession spark, RunTables tables, Dataset<Row> examples,
      List<String> kinds, ProbeSettings settings, ProbeTaskSettings taskSettings) {
    Populations pops = populations(examples, settings.pooled());
    List<String> trainDomains = trainDomains(settings, pops);
    List<String> layers = ProbeExamplesTable.hiddenColumns(examples.schema());
    LOG.info("Probe stage, run {}: layers {}, bands {}, kinds {}, train domains {}, seeds {}", tables.runId(),
        layers, pops.bands(), pops.kinds(), trainDomains, settings.seeds());
    for (String kind : kinds) {
      if (!pops.kinds().contains(kind)) {
        throw new IllegalStateException("knowable.probe.label-kinds asks for " + kind + ", but probe_examples of run "
            + tables.runId() + " holds " + pops.kinds() + " (knowable.label.kinds)");
      }
    }
    if (pops.trainCounts().values().stream().noneMatch(n -> n[0] > 0 && n[1] > 0)) {
      throw new IllegalStateException("No band, label kind and domain of probe_examples in run " + tables.runId()
          + " has both classes in its train split: no probe can be trained. Check the label stage's manifest"
          + " counts (knowable.label.bands, thresholds, the split fractions).");
    }
    // Every fit's rows must fit its task's heap: checked from counts before any is collected.
    ProbeMemoryCheck.check(spark, examples, layers, trainDomains, settings, taskSettings);
    return new ProbePlan(layers, trainDomains, pops);
  }

  /**
   * Fits every planned probe: BET (nothing to fit), BET-FT, then the linear, MLP and context
   * probes in one job (a task per configuration). Each persisted fit is added to
   * {@code fitParts} as soon as it is made, for the caller to unpersist.
   */
  private static Fitted fit(SparkSession spark, KnowableConfig config, RunTables tables, Dataset<Row> examples,
      ProbePlan plan, List<Dataset<Row>> fitParts) {
    ProbeSettings settings = config.probe();
    List<String> trainDomains = plan.trainDomains();
    Dataset<Row> evalRows = examples.filter(col("split").isin(EVAL_SPLITS.toArray()));
    int firstSeed = settings.seeds().get(0);
    Dataset<Row> fits = null;
    List<Dataset<Row>> scored = new ArrayList<>();
    if (settings.bet()) {
      scored.add(betScores(evalRows, trainDomains, firstSeed));
    }
    Dataset<Row> betFt = BetFtProbe.fits(spark, config, tables, examples, trainDomains, settings);
    if (betFt != null) {
      betFt = betFt.persist(StorageLevel.MEMORY_AND_DISK());
      fitParts.add(betFt);
      scored.add(fitScores(betFt));
      fits = betFt;
    }
    int maxTokenId = settings.maxContextK() == 0 ? 0 : maxTokenId(examples);
    Dataset<Row> rows = fitRows(spark, examples, plan.layers(), trainDomains, settings);
    if (rows != null) {
      Dataset<Row> probes = rows.groupByKey(
              (org.apache.spark.api.java.function.MapFunction<Row, String>) ProbeFitTask::key, Encoders.STRING())
          .flatMapGroups(new ProbeFitTask(settings, maxTokenId, config.probeTask()),
              Encoders.row(ProbeFitTask.fitted()))
          .persist(StorageLevel.MEMORY_AND_DISK());
      fitParts.add(probes);
      scored.add(fitScores(probes));
      // BET-FT's fits (probe_models rows, without weights) join the probes' (persisted both).
      fits = fits == null ? probes : fits.unionByName(probes);
    }
    return new Fitted(fits, scored, maxTokenId);
  }

  /** Every probe's evaluation scores in one persisted dataset, with each row also under the pooled domain. */
  private static Dataset<Row> allScored(List<Dataset<Row>> scored, ProbeSettings settings) {
    if (scored.isEmpty()) {
      throw new IllegalStateException("knowable.probe enables no probe kind: nothing to evaluate");
    }
    Dataset<Row> allScored = scored.stream().reduce(Dataset::unionByName).orElseThrow();
    if (settings.pooled()) {
      allScored = allScored.withColumn("eval_domain",
          explode(array(col("eval_domain"), lit(ProbeSettings.POOLED))));
    }
    // Read twice (metrics, then the paired comparisons): score once.
    return allScored.persist(StorageLevel.MEMORY_AND_DISK());
  }

  private static long writeMetrics(RunTables tables, Dataset<Row> allScored, ProbeSettings settings,
      Map<String, Object> extras) {
    Dataset<Row> metrics = allScored
        .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) ProbeMetricsFunction::key,
            Encoders.STRING())
        .flatMapGroups(new ProbeMetricsFunction(settings.modelPair(), settings.bootstrapResamples()),
            Encoders.row(ProbeTables.schema(Table.PROBE_METRICS)));
    return tables.write(Table.PROBE_METRICS, metrics, extras);
  }

  /** Writes probe_models; adds the context token range and the convergence counts to {@code extras}. */
  private static void writeModels(SparkSession spark, KnowableConfig config, RunTables tables, Fitted fitted,
      Map<String, Object> extras) {
    ProbeSettings settings = config.probe();
    Dataset<Row> fits = fitted.fits();
    Dataset<Row> models = fits == null
        ? spark.createDataFrame(List.of(), ProbeTables.schema(Table.PROBE_MODELS))
        : fits.select(List.of(ProbeTables.schema(Table.PROBE_MODELS).fieldNames()).stream().map(c -> col(c))
            .toArray(Column[]::new));
    if (settings.maxContextK() > 0) {
      extras.put("context_max_token_id", fitted.maxTokenId());
    }
    if (fits != null) {
      extras.putAll(ProbeConvergence.counts(fits, settings, config.betFt()));
    }
    tables.write(Table.PROBE_MODELS, models, extras);
  }

  private static void writeCrossDomain(RunTables tables, Map<String, Object> extras) {
    // The documented columns of cross_domain, in order, of the rule shared with aggregate.
    Dataset<Row> cross = CrossDomain.overSeeds(tables.read(Table.PROBE_METRICS), List.of())
        .select(Stream.of(ProbeTables.schema(Table.CROSS_DOMAIN).fieldNames()).map(c -> col(c))
            .toArray(Column[]::new));
    tables.write(Table.CROSS_DOMAIN, cross, extras);
  }

  private static void writeComparisons(RunTables tables, Dataset<Row> allScored, ProbeSettings settings,
      Map<String, Object> extras) {
    // Each probe against BET and the strongest context control on the same rows, paired,
    // documents resampled.
    Dataset<Row> comparisons = allScored
        .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) PairedComparisons::key,
            Encoders.STRING())
        .flatMapGroups(new PairedComparisons(settings.modelPair(), settings.bootstrapResamples(), true),
            Encoders.row(ProbeTables.schema(Table.PROBE_COMPARISONS)));
    tables.write(Table.PROBE_COMPARISONS, comparisons, extras);
  }

  /** Bands, kinds, domains and per-class train counts of probe_examples (one aggregate query). */
  private static Populations populations(Dataset<Row> examples, boolean pooled) {
    List<Row> rows = examples.groupBy("band", "label_kind", "domain", "split")
        .agg(sum(when(col("label").equalTo(0), 1L).otherwise(0L)).as("n0"),
            sum(when(col("label").equalTo(1), 1L).otherwise(0L)).as("n1"))
        .collectAsList();
    TreeSet<String> bands = new TreeSet<>();
    TreeSet<String> kinds = new TreeSet<>();
    TreeSet<String> domains = new TreeSet<>();
    Map<List<String>, long[]> train = new LinkedHashMap<>();
    for (Row r : rows) {
      String band = r.getString(0);
      String kind = r.getString(1);
      String domain = r.getString(2);
      bands.add(band);
      kinds.add(kind);
      domains.add(domain);
      if ("train".equals(r.getString(3))) {
        for (String d : pooled ? List.of(domain, ProbeSettings.POOLED) : List.of(domain)) {
          long[] n = train.computeIfAbsent(List.of(band, kind, d), k -> new long[2]);
          n[0] += r.getLong(4);
          n[1] += r.getLong(5);
        }
      }
    }
    return new Populations(List.copyOf(bands), List.copyOf(kinds), List.copyOf(domains), train);
  }

  private static List<String> trainDomains(ProbeSettings settings, Populations pops) {
    List<String> out = new ArrayList<>();
    for (String d : settings.domains().isEmpty() ? pops.domains() : settings.domains()) {
      if (!pops.domains().contains(d)) {
        throw new IllegalStateException("knowable.probe.domains names '" + d + "', but probe_examples holds "
            + pops.domains());
      }
      out.add(d);
    }
    if (settings.pooled()) {
      out.add(ProbeSettings.POOLED);
    }
    return out;
  }

  private static Dataset<Row> trainRows(Dataset<Row> examples, String band, String kind, String domain) {
    Column in = col("band").equalTo(band).and(col("label_kind").equalTo(kind)).and(col("split").equalTo("train"));
    return examples.filter(ProbeSettings.POOLED.equals(domain) ? in : in.and(col("domain").equalTo(domain)));
  }

  /** BET rows: score = H_S on every evaluation row, once per train domain (whose val split picks the threshold). */
  private static Dataset<Row> betScores(Dataset<Row> evalRows, List<String> trainDomains, int seed) {
    return evalRows.select(lit(ProbeTables.BET).as("probe_kind"), lit(null).cast(DataTypes.IntegerType).as("layer"),
        col("band"), col("label_kind"), col("balance"), explode(literalArray(trainDomains)).as("train_domain"), lit(seed).as("seed"),
        col("domain").as("eval_domain"), col("split").as("eval_split"),
        col("small_entropy").cast(DataTypes.DoubleType).as("score"), col("label"), col("doc_id"), col("position"));
  }

  /** The evaluation scores the probe tasks returned, one row each. */
  private static Dataset<Row> fitScores(Dataset<Row> fits) {
    return fits.select(col("probe_kind"), col("layer"), col("band"), col("label_kind"), col("balance"),
            col("train_domain"), col("seed"),
            explode(arrays_zip(col("eval_domains"), col("eval_splits"), col("eval_scores"), col("eval_labels"),
                col("eval_doc_ids"), col("eval_positions"))).as("e"))
        .select(col("probe_kind"), col("layer"), col("band"), col("label_kind"), col("balance"), col("train_domain"),
            col("seed"), col("e.eval_domains").as("eval_domain"), col("e.eval_splits").as("eval_split"),
            col("e.eval_scores").as("score"), col("e.eval_labels").as("label"), col("e.eval_doc_ids").as("doc_id"),
            col("e.eval_positions").as("position"));
  }

  /** The largest token id of the context columns: sizes the one-hot slots of the context baselines. */
  private static int maxTokenId(Dataset<Row> examples) {
    Row r = examples.agg(max(org.apache.spark.sql.functions.array_max(contextColumn(examples)))).first();
    return r.isNullAt(0) ? 0 : Math.max(0, r.getInt(0));
  }

  /** The last MAX_CONTEXT_K (k > 2 configured) or 2 input ids, current first, -1 before the document start. */
  private static Column contextColumn(Dataset<Row> examples) {
    if (List.of(examples.columns()).contains(TokensTable.CONTEXT_IDS)) {
      return col(TokensTable.CONTEXT_IDS);
    }
    return array(col("token_id"), org.apache.spark.sql.functions.coalesce(col("prev_token_id"), lit(-1)));
  }

  /**
   * The rows of every probe to train, assigned relationally so each probe is one group
   * (one Spark task): train/val rows of the train domain as "fit", val/test rows of every
   * domain as "eval". MLP probes are crossed with the seeds; logistic fits are
   * deterministic and use the first seed. Null when no probe kind is enabled.
   */
  static Dataset<Row> fitRows(SparkSession spark, Dataset<Row> examples, List<String> layers,
      List<String> trainDomains, ProbeSettings settings) {
    Column fitTargets = settings.pooled() ? array(col("domain"), lit(ProbeSettings.POOLED)) : array(col("domain"));
    // Features travel through the shuffle as fp16 bytes (half of array<float>; what the task holds).
    Column noFeatures = lit(null).cast(DataTypes.BinaryType);
    Column noContext = lit(null).cast(DataTypes.createArrayType(DataTypes.IntegerType));
    Column context = contextColumn(examples);
    Dataset<Row> seeds = spark.createDataFrame(settings.seeds().stream().map(s -> RowFactory.create(s)).toList(),
        new org.apache.spark.sql.types.StructType().add("seed", DataTypes.IntegerType));
    Column firstSeed = lit(settings.seeds().get(0));
    List<Dataset<Row>> parts = new ArrayList<>();
    for (String hidden : layers) {
      int layer = ProbeExamplesTable.layerOf(hidden);
      Column features = ProbeTaskRows.halfBytes(col(hidden));
      if (settings.linearProbe()) {
        parts.add(probeRows(examples, ProbeTables.LINEAR, lit(layer), features, noContext, trainDomains,
            fitTargets).withColumn("seed", firstSeed));
      }
      if (settings.mlp() != null) {
        parts.add(probeRows(examples, ProbeTables.MLP, lit(layer), features, noContext, trainDomains, fitTargets)
            .crossJoin(seeds));
      }
    }
    for (int k : settings.contextKs()) {
      parts.add(probeRows(examples, ProbeTables.CONTEXT_PREFIX + k, lit(null).cast(DataTypes.IntegerType),
          noFeatures, org.apache.spark.sql.functions.slice(context, 1, k), trainDomains, fitTargets)
          .withColumn("seed", firstSeed));
    }
    if (settings.combinedK() > 0) {
      int k = settings.combinedK();
      parts.add(probeRows(examples, ProbeTables.COMBINED_PREFIX + k, lit(null).cast(DataTypes.IntegerType),
          ProbeTaskRows.halfBytes(combinedFeatures()), org.apache.spark.sql.functions.slice(context, 1, k),
          trainDomains, fitTargets)
          .withColumn("seed", firstSeed));
    }
    LOG.info("Training probes: {} layers x train domains {}; linear {}, MLP seeds {}, context ks {}, combined k {};"
        + " one task each", layers.size(), trainDomains, settings.linearProbe(),
        settings.mlp() == null ? List.of() : settings.seeds(), settings.contextKs(), settings.combinedK());
    return parts.stream().reduce(Dataset::unionByName).orElse(null);
  }

  /**
   * The dense features of the combined control: H_S, H_S^2 and ln(1 + position), the
   * cheap features besides the token ids that could tell the label (the report's "strongest
   * control"; the trainer standardises them). They cross the shuffle as fp16 like the hidden
   * states (a step of 0.004 nats at H_S in [4, 8): ties only between nearly equal entropies).
   */
  static Column combinedFeatures() {
    Column h = col("small_entropy").cast(DataTypes.DoubleType);
    return array(h, h.multiply(h), org.apache.spark.sql.functions.log1p(col("position").cast(DataTypes.DoubleType)))
        .cast(DataTypes.createArrayType(DataTypes.FloatType));
  }

  private static Dataset<Row> probeRows(Dataset<Row> examples, String kind, Column layer, Column features,
      Column context, List<String> trainDomains, Column fitTargets) {
    Dataset<Row> base = examples.select(lit(kind).as("probe_kind"), layer.as("layer"), col("band"),
        col("label_kind"), col("balance"), col("domain"), col("split"), col("label"), features.as("features"),
        context.as("context"), col("doc_id"), col("position"));
    Dataset<Row> fit = base.filter(col("split").isin("train", "val"))
        .withColumn("train_domain", explode(fitTargets))
        .filter(col("train_domain").isin(trainDomains.toArray()))
        .withColumn("role", lit(ProbeFitTask.FIT));
    Dataset<Row> eval = base.filter(col("split").isin(EVAL_SPLITS.toArray()))
        .withColumn("train_domain", explode(literalArray(trainDomains)))
        .withColumn("role", lit(ProbeFitTask.EVAL));
    return fit.unionByName(eval);
  }

  private static Column literalArray(List<String> values) {
    return array(values.stream().map(v -> lit(v)).toArray(Column[]::new));
  }
}
