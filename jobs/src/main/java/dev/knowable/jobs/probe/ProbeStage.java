package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.arrays_zip;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.RunTables;
import dev.knowable.jobs.Stage;
import dev.knowable.jobs.label.ProbeExamples;
import dev.knowable.label.LabelKind;
import dev.knowable.probe.ProbeSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
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
 * context baselines and BET. Each probe is evaluated unchanged on the val and test split
 * of every domain and of all domains pooled; the scored rows are grouped per probe and
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
    return "Linear, MLP, BET and context probes per layer, band and domain -> probe_metrics, probe_models, "
        + "cross_domain, probe_comparisons";
  }

  @Override
  public List<String> outputs() {
    return List.of(ProbeTables.METRICS, ProbeTables.MODELS, ProbeTables.CROSS_DOMAIN, ProbeTables.COMPARISONS);
  }

  /** What the driver knows about probe_examples: from one aggregate query. */
  private record Populations(List<String> bands, List<String> kinds, List<String> domains,
      Map<List<String>, long[]> trainCounts) {
    long[] train(String band, String kind, String domain) {
      return trainCounts.getOrDefault(List.of(band, kind, domain), new long[2]);
    }
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    ProbeSettings settings = ProbeSettings.from(config.raw());
    boolean needed = false;
    for (String t : outputs()) {
      needed |= tables.needsWrite(t);
    }
    if (!needed) {
      return;
    }
    List<String> kinds = settings.labelKinds().stream().map(LabelKind::tableValue).toList();
    Dataset<Row> examples = tables.read(ProbeExamples.TABLE, "label")
        .filter(col("label_kind").isin(kinds.toArray()));
    if (settings.contextKs().stream().anyMatch(k -> k > 2)) {
      examples = withContextIds(examples, tables);
    }
    examples = examples.persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> mlpFits = null;
    Dataset<Row> allScored = null;
    try {
      Populations pops = populations(examples, settings.pooled());
      List<String> trainDomains = trainDomains(settings, pops);
      List<String> layers = ProbeExamples.hiddenColumns(examples.schema());
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
      Dataset<Row> evalRows = examples.filter(col("split").isin(EVAL_SPLITS.toArray()));
      int firstSeed = settings.seeds().get(0);

      List<Dataset<Row>> scored = new ArrayList<>();
      List<Row> modelRows = new ArrayList<>();
      if (settings.bet()) {
        scored.add(betScores(evalRows, trainDomains, firstSeed));
      }
      // Logistic fits (linear and context probes) are queued, then run a few at a time.
      List<LogisticFit> fits = new ArrayList<>();
      for (String band : pops.bands()) {
        for (String kind : pops.kinds()) {
          for (String domain : trainDomains) {
            long[] n = pops.train(band, kind, domain);
            if (n[0] == 0 || n[1] == 0) {
              LOG.warn("Band {} kind {} domain {}: train split has {} / {} examples per class; no logistic probes",
                  band, kind, domain, n[0], n[1]);
              continue;
            }
            Dataset<Row> train = trainRows(examples, band, kind, domain);
            Dataset<Row> eval = evalRows.filter(col("band").equalTo(band).and(col("label_kind").equalTo(kind)));
            if (settings.linearProbe()) {
              for (String hidden : layers) {
                int layer = ProbeExamples.layerOf(hidden);
                fits.add(new LogisticFit(ProbeTables.LINEAR, layer, LinearProbe.hiddenVector(hidden), train, eval,
                    band, kind, domain, firstSeed, n));
              }
            }
            for (int k : settings.contextKs()) {
              fits.add(new LogisticFit(ProbeTables.CONTEXT_PREFIX + k, null, contextVector(k, settings), train, eval,
                  band, kind, domain, firstSeed, n));
            }
          }
        }
      }
      runLogisticFits(fits, settings, scored, modelRows);
      if (settings.mlp() != null && !layers.isEmpty()) {
        mlpFits = trainMlps(spark, examples, layers, trainDomains, settings).persist(StorageLevel.MEMORY_AND_DISK());
        scored.add(mlpScores(mlpFits));
      }
      if (scored.isEmpty()) {
        throw new IllegalStateException("knowable.probe enables no probe kind: nothing to evaluate");
      }
      allScored = scored.stream().reduce(Dataset::unionByName).orElseThrow();
      if (settings.pooled()) {
        allScored = allScored.withColumn("eval_domain",
            explode(array(col("eval_domain"), lit(ProbeSettings.POOLED))));
      }
      // Read twice (metrics, then the paired comparisons): score once.
      allScored = allScored.persist(StorageLevel.MEMORY_AND_DISK());
      Dataset<Row> metrics = allScored
          .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) ProbeMetricsFunction::key,
              Encoders.STRING())
          .flatMapGroups(new ProbeMetricsFunction(settings.modelPair(), settings.bootstrapResamples()),
              Encoders.row(ProbeTables.schema(ProbeTables.METRICS)));

      Map<String, Object> extras = new LinkedHashMap<>();
      extras.put("model_pair", settings.modelPair());
      extras.put("layers", layers.stream().map(ProbeExamples::layerOf).toList());
      extras.put("bands", pops.bands());
      extras.put("label_kinds", pops.kinds());
      extras.put("train_domains", trainDomains);
      extras.put("seeds", settings.seeds());
      long metricRows = tables.write(ProbeTables.METRICS, metrics, List.of(), extras);

      Dataset<Row> models = spark.createDataFrame(modelRows, ProbeTables.schema(ProbeTables.MODELS));
      if (mlpFits != null) {
        models = models.unionByName(mlpFits.select(
            List.of(ProbeTables.schema(ProbeTables.MODELS).fieldNames()).stream().map(c -> col(c))
                .toArray(Column[]::new)));
      }
      tables.write(ProbeTables.MODELS, models, List.of("probe_kind"), extras);
      tables.write(ProbeTables.CROSS_DOMAIN, crossDomain(tables.read(ProbeTables.METRICS, name())), List.of(),
          extras);
      // Each probe against BET and the strongest context control on the same rows, paired,
      // documents resampled.
      Dataset<Row> comparisons = allScored
          .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) PairedComparisons::key,
              Encoders.STRING())
          .flatMapGroups(new PairedComparisons(settings.modelPair(), settings.bootstrapResamples(), true),
              Encoders.row(ProbeTables.schema(ProbeTables.COMPARISONS)));
      tables.write(ProbeTables.COMPARISONS, comparisons, List.of(), extras);
      LOG.info("Probe stage wrote {} metric rows", metricRows);
    } finally {
      if (allScored != null) {
        allScored.unpersist();
      }
      if (mlpFits != null) {
        mlpFits.unpersist();
      }
      examples.unpersist();
    }
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
        col("band"), col("label_kind"), explode(literalArray(trainDomains)).as("train_domain"), lit(seed).as("seed"),
        col("domain").as("eval_domain"), col("split").as("eval_split"),
        col("small_entropy").cast(DataTypes.DoubleType).as("score"), col("label"), col("doc_id"), col("position"));
  }

  /** The evaluation scores the MLP tasks returned, one row each. */
  private static Dataset<Row> mlpScores(Dataset<Row> mlpFits) {
    return mlpFits.select(col("probe_kind"), col("layer"), col("band"), col("label_kind"), col("train_domain"),
            col("seed"),
            explode(arrays_zip(col("eval_domains"), col("eval_splits"), col("eval_scores"), col("eval_labels"),
                col("eval_doc_ids"), col("eval_positions"))).as("e"))
        .select(col("probe_kind"), col("layer"), col("band"), col("label_kind"), col("train_domain"), col("seed"),
            col("e.eval_domains").as("eval_domain"), col("e.eval_splits").as("eval_split"),
            col("e.eval_scores").as("score"), col("e.eval_labels").as("label"), col("e.eval_doc_ids").as("doc_id"),
            col("e.eval_positions").as("position"));
  }

  /** One queued logistic-regression probe: its features, data and identity. */
  private record LogisticFit(String probeKind, Integer layer, Column features, Dataset<Row> train, Dataset<Row> eval,
      String band, String kind, String domain, int seed, long[] trainCounts) {}

  /** What a fit returns: its scored evaluation rows and its probe_models row. */
  private record LogisticResult(Dataset<Row> scored, Row model) {}

  /**
   * Runs the queued fits, {@code linear.concurrent-fits} at a time (Spark accepts jobs from
   * several driver threads), and appends their results in queue order, so the output does
   * not depend on which fit finished first.
   */
  private static void runLogisticFits(List<LogisticFit> fits, ProbeSettings settings, List<Dataset<Row>> scored,
      List<Row> modelRows) {
    if (fits.isEmpty()) {
      return;
    }
    int threads = Math.min(settings.linear().concurrentFits(), fits.size());
    long start = System.nanoTime();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<LogisticResult>> futures = new ArrayList<>();
      for (LogisticFit f : fits) {
        futures.add(pool.submit(() -> fitLogistic(f, settings)));
      }
      for (java.util.concurrent.Future<LogisticResult> fu : futures) {
        LogisticResult r = fu.get();
        scored.add(r.scored());
        modelRows.add(r.model());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while fitting logistic probes", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause.getMessage(), cause);
    } finally {
      pool.shutdownNow();
    }
    LOG.info("{} logistic probes fitted in {} s ({} at a time)", fits.size(),
        String.format("%.1f", (System.nanoTime() - start) / 1e9), threads);
  }

  /** Fits one logistic-regression probe on the given features: its scored evaluation rows and model row. */
  private static LogisticResult fitLogistic(LogisticFit f, ProbeSettings settings) {
    long start = System.nanoTime();
    LogisticRegressionModel model = LinearProbe.fit(
        f.train().select(f.features().as(LinearProbe.FEATURES), col("label")), settings.linear());
    LOG.info("{} probe layer={} band={} kind={} train_domain={}: {} iterations, {} s", f.probeKind(), f.layer(),
        f.band(), f.kind(), f.domain(), model.summary().totalIterations(),
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    Dataset<Row> scored = LinearProbe.score(model, f.eval().select(f.features().as(LinearProbe.FEATURES),
            col("domain"), col("split"), col("label"), col("doc_id"), col("position")))
        .select(lit(f.probeKind()).as("probe_kind"), lit(f.layer()).cast(DataTypes.IntegerType).as("layer"),
            lit(f.band()).as("band"), lit(f.kind()).as("label_kind"), lit(f.domain()).as("train_domain"),
            lit(f.seed()).as("seed"), col("domain").as("eval_domain"), col("split").as("eval_split"),
            col(LinearProbe.SCORE).as("score"), col("label"), col("doc_id"), col("position"));
    double[] coefficients = model.coefficients().toArray();
    float[] w = new float[coefficients.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) coefficients[i];
    }
    Row row = RowFactory.create(settings.modelPair(), f.layer(), f.band(), f.kind(), f.domain(), f.seed(), w.length,
        0, w, new float[] {(float) model.intercept()}, null, null, f.trainCounts()[0] + f.trainCounts()[1], null,
        model.summary().totalIterations(), null, null, f.probeKind());
    return new LogisticResult(scored, row);
  }

  private static Column contextVector(int k, ProbeSettings settings) {
    ContextFeatures encoder = new ContextFeatures(k, settings.contextBuckets(), ProbeSettings.MAX_CONTEXT_K);
    if (k > 2) {
      UserDefinedFunction udf = org.apache.spark.sql.functions.udf(
          (UDF1<scala.collection.Seq<Integer>, Vector>) ids -> {
            int[] last = new int[ids.size()];
            for (int j = 0; j < last.length; j++) {
              last[j] = ids.apply(j);
            }
            return encoder.encode(last);
          }, SQLDataTypes.VectorType());
      return udf.apply(col(CONTEXT_IDS));
    }
    UserDefinedFunction udf = org.apache.spark.sql.functions.udf(
        (UDF2<Integer, Integer, Vector>) (current, previous) -> encoder.encode(current,
            previous == null ? -1 : previous), SQLDataTypes.VectorType());
    return udf.apply(col("token_id"), col("prev_token_id"));
  }

  /** Column of the last MAX_CONTEXT_K input ids, current first, -1 before the document start. */
  static final String CONTEXT_IDS = "context_ids";

  /**
   * Adds {@link #CONTEXT_IDS} from the run's tokens table (joined on doc_id), for context
   * baselines with k > 2: probe_examples itself keeps only the current and previous id.
   */
  static Dataset<Row> withContextIds(Dataset<Row> examples, RunTables tables) {
    Dataset<Row> tokens = tables.read("tokens", "tokenize").select("doc_id", "token_ids");
    return examples.join(tokens, "doc_id")
        .withColumn(CONTEXT_IDS, org.apache.spark.sql.functions.expr("transform(sequence(0, "
            + (ProbeSettings.MAX_CONTEXT_K - 1) + "), j -> IF(position - j >= 0, element_at(token_ids, position - j + 1),"
            + " -1))"))
        .drop("token_ids");
  }

  /**
   * Trains every MLP configuration in one Spark job: rows are assigned to configurations
   * relationally (train/val rows of the train domain as "fit", val/test rows of every
   * domain as "eval", crossed with the seeds) and grouped so each configuration is one task.
   */
  private static Dataset<Row> trainMlps(SparkSession spark, Dataset<Row> examples, List<String> layers,
      List<String> trainDomains, ProbeSettings settings) {
    Column fitTargets = settings.pooled() ? array(col("domain"), lit(ProbeSettings.POOLED)) : array(col("domain"));
    Dataset<Row> rows = null;
    for (String hidden : layers) {
      Dataset<Row> base = examples.select(lit(ProbeExamples.layerOf(hidden)).as("layer"), col("band"),
          col("label_kind"), col("domain"), col("split"), col("label"), col(hidden).as("features"), col("doc_id"),
          col("position"));
      Dataset<Row> fit = base.filter(col("split").isin("train", "val"))
          .withColumn("train_domain", explode(fitTargets))
          .filter(col("train_domain").isin(trainDomains.toArray()))
          .withColumn("role", lit(MlpProbeTask.FIT));
      Dataset<Row> eval = base.filter(col("split").isin(EVAL_SPLITS.toArray()))
          .withColumn("train_domain", explode(literalArray(trainDomains)))
          .withColumn("role", lit(MlpProbeTask.EVAL));
      Dataset<Row> both = fit.unionByName(eval);
      rows = rows == null ? both : rows.unionByName(both);
    }
    LOG.info("Training MLP probes: {} layers x train domains {} x seeds {}, one task each", layers.size(),
        trainDomains, settings.seeds());
    Dataset<Row> seeds = spark.createDataFrame(settings.seeds().stream().map(s -> RowFactory.create(s)).toList(),
        new org.apache.spark.sql.types.StructType().add("seed", DataTypes.IntegerType));
    return rows.crossJoin(seeds)
        .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) MlpProbeTask::key,
            Encoders.STRING())
        .flatMapGroups(new MlpProbeTask(settings.mlp(), settings.modelPair()), Encoders.row(ProbeTables.mlpFit()));
  }

  /** Mean and spread over seeds of test AUC per train domain x eval domain x probe. */
  static Dataset<Row> crossDomain(Dataset<Row> metrics) {
    return metrics.filter(col("eval_split").equalTo("test"))
        .groupBy("model_pair", "probe_kind", "layer", "band", "label_kind", "train_domain", "eval_domain")
        .agg(count(lit(1)).as("n_seeds"), avg("auc").as("auc_mean"), stddev_samp("auc").as("auc_std"),
            avg("accuracy").as("accuracy_mean"), max("n_class0").as("n_class0"),
            max("n_class1").as("n_class1"));
  }

  private static Column literalArray(List<String> values) {
    return array(values.stream().map(v -> lit(v)).toArray(Column[]::new));
  }
}
