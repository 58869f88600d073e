package dev.knowable.jobs.iclt;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.xxhash64;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.ModelSettings;
import dev.knowable.config.KnowableConfig;
import dev.knowable.iclt.IcltPrompts;
import dev.knowable.iclt.IcltSettings;
import dev.knowable.iclt.Separator;
import dev.knowable.jobs.evaluate.PairedComparisons;
import dev.knowable.jobs.evaluate.ProbeMetricsFunction;
import dev.knowable.jobs.runtime.Slots;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.label.Band;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ModelPair;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.tables.Table;
import dev.knowable.tokenize.TextTokenizer;
import dev.knowable.work.WorkPlacement;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iclt stage: the unsupervised in-context learning test (docs/ICLT.md) ->
 * {@code iclt_scores}, and, when the positions carry labels, {@code iclt_metrics} and
 * {@code iclt_comparisons} (each score minus BET, paired, documents resampled).
 *
 * <ul>
 *   <li>Positions: the labelled positions of probe_examples in the configured bands,
 *       label kind and splits (labelled mode), or every position of small_scores in a band
 *       (all-in-band mode: no labels, no large model); at most max-per-cell per (domain,
 *       split, band, label), drawn by a seeded hash so reruns and other partitionings keep
 *       the same positions.</li>
 *   <li>Scoring: positions grouped by document and joined to their token ids, so a task
 *       reads each document once; documents placed on partitions of about equal cost;
 *       see {@link IcltPartition}.</li>
 *   <li>Metrics: every score and separator, and BET on exactly the same positions, with
 *       the direction chosen on val, per domain and pooled ({@link ProbeMetricsFunction}
 *       in oriented mode; the probe_metrics layout).</li>
 * </ul>
 */
public final class IcltStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(IcltStage.class);
  /** The score columns of iclt_scores, each evaluated as probe_kind iclt_&lt;score&gt;@&lt;separator&gt;. */
  public static final List<String> SCORE_COLUMNS = List.of("mi", "mi_ratio", "min_entropy", "hint_repeat");
  /** Columns of the selected positions, as iclt_scores holds them. */
  private static final List<String> POSITION_COLUMNS = List.of("doc_id", "split", "position", "band", "label_kind",
      "balance", "label", "small_entropy", "large_entropy", "domain");
  private static final StructType PARTITION_OUTPUT = new StructType()
      .add("doc_id", DataTypes.StringType).add("position", DataTypes.IntegerType)
      .add("separator", DataTypes.StringType).add("prompt_length", DataTypes.IntegerType)
      .add("prompt_entropy", DataTypes.DoubleType).add("n_candidates", DataTypes.IntegerType)
      .add("mi", DataTypes.DoubleType).add("mi_ratio", DataTypes.DoubleType)
      .add("min_entropy", DataTypes.DoubleType).add("hint_repeat", DataTypes.DoubleType);

  @Override
  public String name() {
    return "iclt";
  }

  @Override
  public String description() {
    return "In-context learning test (unsupervised): MI, min-entropy and hint-repeat per position and separator "
        + "-> iclt_scores, iclt_metrics";
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    IcltSettings settings = config.iclt();
    boolean labelled = settings.positions() == IcltSettings.Positions.LABELLED;
    // Asked once each: needsWrite logs (and may refuse) what is already committed.
    boolean scores = tables.needsWrite(Table.ICLT_SCORES);
    boolean metrics = labelled && tables.needsWrite(Table.ICLT_METRICS);
    boolean comparisons = labelled && tables.needsWrite(Table.ICLT_COMPARISONS);
    if (!scores && !metrics && !comparisons) {
      return;
    }
    ModelSettings model = settings.model().equals("small") ? config.small() : config.large();
    if (model.path().isBlank()) {
      throw new ConfigException("knowable.iclt.model = " + settings.model() + " but knowable.models."
          + settings.model() + ".path is not set");
    }
    ModelContract contract = ModelContract.read(Paths.get(model.path()));
    String tokensFingerprint = String.valueOf(tables.readManifest(Table.TOKENS).get("tokenizer_sha256"));
    ModelPair.requireTokenizer(config, tokensFingerprint, "the tokens table of run " + config.runId());
    int vocabLimit = contract.effectiveVocabLimit(model.vocabLimit());
    if (settings.candidates() > vocabLimit) {
      throw new ConfigException("knowable.iclt.candidates=" + settings.candidates() + " exceeds the vocab_limit "
          + vocabLimit + " of " + contract.name());
    }
    List<Separator> separators = resolveSeparators(settings, config, contract);

    if (scores) {
      writeScores(settings, config, tables, contract, model, vocabLimit, separators);
    }
    if (metrics || comparisons) {
      writeMetrics(settings, config, tables, metrics, comparisons);
    }
  }

  /** Tokenizes each separator's text with the run's tokenizer; eos appends the model's end-of-text id. */
  static List<Separator> resolveSeparators(IcltSettings settings, KnowableConfig config, ModelContract contract) {
    TextTokenizer tokenizer = TextTokenizer.get(TokensTable.tokenizerPath(config));
    List<Separator> out = new ArrayList<>();
    for (IcltSettings.SeparatorSpec s : settings.separators()) {
      int[] text = tokenizer.encode(s.text());
      int[] ids = s.eos() ? Arrays.copyOf(text, text.length + 1) : text;
      if (s.eos()) {
        ids[text.length] = contract.eosTokenId();
      }
      try {
        // A prompt must fit twice with the hint and the separator.
        IcltPrompts.maxPromptLength(contract.maxContext(), ids.length);
      } catch (IllegalArgumentException e) {
        throw new ConfigException("knowable.iclt.separators: '" + s.name() + "' (" + ids.length + " tokens) does not "
            + "fit " + contract.name() + ": " + e.getMessage(), e);
      }
      out.add(new Separator(s.name(), ids));
    }
    return out;
  }

  private static void writeScores(IcltSettings settings, KnowableConfig config, RunTables tables,
      ModelContract contract, ModelSettings model, int vocabLimit, List<Separator> separators) {
    Dataset<Row> selected = capped(selectPositions(settings, tables), settings);
    // A document costs about the sum of its capped prompt lengths (every forward pass of a
    // position is as long as two prompts): documents are dealt over 4 partitions per core in
    // decreasing cost, so no task is left running alone at the end (one partition per
    // tokens shard left one core idle for the last 5 s of the demo's 42 s).
    int promptCap = separators.stream().mapToInt(s -> IcltPrompts.maxPromptLength(contract.maxContext(), s.length()))
        .max().orElse(contract.maxContext());
    int partitions = Math.max(1, 4 * selected.sparkSession().sparkContext().defaultParallelism());
    // The ranking is one ordered window over the selected documents (capped per cell: small).
    Dataset<Row> docs = selected.select("doc_id", "position").distinct()
        .groupBy("doc_id").agg(collect_list("position").as("positions"),
            sum(least(col("position").plus(1), lit(promptCap)).plus(lit(8))).as("cost"))
        .withColumn("slot", serpentine(partitions).apply(row_number().over(Window.orderBy(col("cost").desc(),
            col("doc_id"))).minus(1)))
        .join(tables.read(Table.TOKENS).select("doc_id", "token_ids"), "doc_id")
        .select("doc_id", "token_ids", "positions", "slot");
    IcltPartition fn = new IcltPartition(model.path(), model.engine(), config.score(), vocabLimit,
        settings.candidates(), separators, settings.tokenBudget());
    Dataset<Row> scored = Slots.place(docs, "slot", partitions)
        .select("doc_id", "token_ids", "positions")
        .mapPartitions(fn, Encoders.row(PARTITION_OUTPUT));
    List<Column> out = new ArrayList<>();
    for (String c : SparkSchemas.of(Table.ICLT_SCORES).fieldNames()) {
      out.add(c.equals("model") ? lit(settings.model()).as("model") : col(c));
    }
    Dataset<Row> rows = selected.join(scored, new String[] {"doc_id", "position"}).select(out.toArray(new Column[0]));

    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("model", contract.name());
    extras.put("model_role", settings.model());
    extras.put("positions_mode", settings.positions().name().toLowerCase(java.util.Locale.ROOT));
    extras.put("bands", settings.bandNames());
    extras.put("splits", settings.splits());
    extras.put("max_per_cell", settings.maxPerCell());
    extras.put("candidates", settings.candidates());
    List<Map<String, Object>> seps = new ArrayList<>();
    separators.forEach(s -> seps.add(Map.of("name", s.name(), "ids", Arrays.stream(s.ids()).boxed().toList())));
    extras.put("separators", seps);
    extras.put("vocab_limit", vocabLimit);
    extras.put("token_budget", settings.tokenBudget());
    long start = System.nanoTime();
    long written = tables.write(Table.ICLT_SCORES, rows, extras);
    double seconds = (System.nanoTime() - start) / 1e9;
    // Cost: one pass over the prompt, then k hint sequences per separator of 2 x prompt + 1 + separator tokens.
    Row cost = tables.read(Table.ICLT_SCORES).agg(avg("prompt_length"), count(lit(1))).first();
    long positions = written / separators.size();
    int sepTokens = separators.stream().mapToInt(Separator::length).sum();
    double promptLength = cost.isNullAt(0) ? 0 : cost.getDouble(0);
    double tokensPerPosition = promptLength + settings.candidates()
        * (separators.size() * (2 * promptLength + 1) + sepTokens);
    LOG.info("iclt: {} positions x {} separators in {} s: {} s per position (wall, all tasks), {} forward passes "
        + "and {} tokens per position (mean capped prompt {} tokens)", positions, separators.size(),
        String.format("%.1f", seconds), String.format("%.3f", seconds / Math.max(positions, 1)),
        1 + settings.candidates() * separators.size(), String.format("%.0f", tokensPerPosition),
        String.format("%.1f", promptLength));
  }

  /** Rank (0 = most expensive) -> partition, dealt back and forth ({@link WorkPlacement#serpentine}). */
  private static org.apache.spark.sql.expressions.UserDefinedFunction serpentine(int partitions) {
    return org.apache.spark.sql.functions.udf(
        (org.apache.spark.sql.api.java.UDF1<Integer, Integer>) rank -> WorkPlacement.serpentine(rank, partitions),
        DataTypes.IntegerType);
  }

  /** The positions to test, with the columns of {@link #POSITION_COLUMNS}. */
  private static Dataset<Row> selectPositions(IcltSettings settings, RunTables tables) {
    Column inSplits = col("split").isin(settings.splits().toArray());
    if (settings.positions() == IcltSettings.Positions.LABELLED) {
      Dataset<Row> examples = tables.read(Table.PROBE_EXAMPLES);
      if (!List.of(examples.columns()).contains(ProbeExamplesTable.BALANCE)) {
        // probe_examples written before the balance column: the paper's token balancing.
        examples = examples.withColumn(ProbeExamplesTable.BALANCE,
            lit(dev.knowable.label.Balancing.TOKEN.tableValue()));
      }
      List<String> present = examples.select("band").distinct().as(Encoders.STRING()).collectAsList();
      for (String b : settings.bandNames()) {
        if (!present.contains(b)) {
          throw new ConfigException("knowable.iclt.bands names " + b + ", but probe_examples of run " + tables.runId()
              + " holds the bands " + present + " (knowable.label.bands); or use iclt.positions = all-in-band");
        }
      }
      return examples.filter(col("band").isin(settings.bandNames().toArray())
              .and(col("label_kind").equalTo(settings.labelKind().tableValue())).and(inSplits))
          .select(POSITION_COLUMNS.stream().map(c -> col(c)).toArray(Column[]::new));
    }
    Dataset<Row> small = tables.read(Table.SMALL_SCORES).filter(inSplits);
    Dataset<Row> all = null;
    for (Band.Spec spec : settings.bands()) {
      Band b = spec.toBand();
      Dataset<Row> in = small.filter(col("entropy").geq(lit((float) b.minNats()))
              .and(col("entropy").lt(lit((float) b.maxNats()))))
          .select(col("doc_id"), col("split"), col("position"), lit(b.name()).as("band"),
              lit(null).cast(DataTypes.StringType).as("label_kind"),
              lit(null).cast(DataTypes.StringType).as("balance"), lit(null).cast(DataTypes.IntegerType).as("label"),
              col("entropy").as("small_entropy"), lit(null).cast(DataTypes.FloatType).as("large_entropy"),
              col("domain"));
      all = all == null ? in : all.unionByName(in);
    }
    return all;
  }

  /** At most max-per-cell positions per (domain, split, band, label), first in a seeded hash order. */
  static Dataset<Row> capped(Dataset<Row> positions, IcltSettings settings) {
    if (settings.maxPerCell() == 0) {
      return positions;
    }
    var order = Window.partitionBy(col("domain"), col("split"), col("band"), col("balance"), col("label"))
        .orderBy(xxhash64(lit(settings.seed()), lit("iclt"), col("doc_id"), col("position")), col("doc_id"),
            col("position"));
    return positions.withColumn("cell_rank", row_number().over(order))
        .filter(col("cell_rank").leq(settings.maxPerCell())).drop("cell_rank");
  }

  private static void writeMetrics(IcltSettings settings, KnowableConfig config, RunTables tables,
      boolean writeMetrics, boolean writeComparisons) {
    Dataset<Row> scores = tables.read(Table.ICLT_SCORES).filter(col("label").isNotNull());
    List<String> domains = scores.select("domain").distinct().as(Encoders.STRING()).collectAsList()
        .stream().sorted().toList();
    if (domains.isEmpty()) {
      throw new IllegalStateException("iclt_scores of run " + tables.runId() + " holds no labelled position: "
          + "nothing to evaluate (check knowable.iclt.bands, splits and the label stage's counts)");
    }
    List<String> trainDomains = new ArrayList<>(domains);
    trainDomains.add(ProbeSettings.POOLED);
    Column trainDomain = explode(array(trainDomains.stream().map(d -> lit(d)).toArray(Column[]::new)));
    List<Dataset<Row>> parts = new ArrayList<>();
    double resolution = settings.tieResolution();
    // MI below the resolution is rounding noise: a tie at 0 (mi_ratio with it).
    Column belowResolution = col("mi").lt(lit(resolution));
    for (String s : SCORE_COLUMNS) {
      boolean tied = resolution > 0 && TIED_SCORES.contains(s);
      Column score = tied ? org.apache.spark.sql.functions.when(belowResolution, lit(0.0)).otherwise(col(s)) : col(s);
      parts.add(scored(scores, concat(lit("iclt_" + s + "@"), col("separator")), score, trainDomain,
          tied ? belowResolution : lit(null).cast(DataTypes.BooleanType)));
    }
    // BET on exactly the same positions (one row per position and band: the first separator's).
    String firstSeparator = scores.select("separator").first().getString(0);
    parts.add(scored(scores.filter(col("separator").equalTo(firstSeparator)), lit(ProbeTables.BET),
        col("small_entropy").cast(DataTypes.DoubleType), trainDomain, lit(null).cast(DataTypes.BooleanType)));
    Dataset<Row> all = parts.stream().reduce(Dataset::unionByName).orElseThrow()
        .withColumn("eval_domain", explode(array(col("eval_domain"), lit(ProbeSettings.POOLED))));
    ProbeSettings probe = config.probe();
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("model_pair", probe.modelPair());
    extras.put("train_domains", trainDomains);
    extras.put("bootstrap_resamples", settings.bootstrapResamples());
    extras.put("tie_resolution_nats", resolution);
    if (writeMetrics) {
      StructType full = SparkSchemas.of(Table.ICLT_METRICS);
      StructType computed = new StructType(Arrays.stream(full.fields())
          .filter(f -> !f.name().equals("tied_share")).toArray(org.apache.spark.sql.types.StructField[]::new));
      List<String> setKeys = List.of("probe_kind", "band", "label_kind", "balance", "train_domain", "eval_domain",
          "eval_split");
      // Share of each evaluation set's positions whose score is a tie below the resolution.
      Dataset<Row> ties = all.groupBy(setKeys.stream().map(c -> col(c)).toArray(Column[]::new))
          .agg(avg(org.apache.spark.sql.functions.when(col("tied").isNull(), lit(null))
              .otherwise(col("tied").cast(DataTypes.DoubleType))).as("tied_share"));
      Dataset<Row> metrics = all
          .groupByKey((MapFunction<Row, String>) ProbeMetricsFunction::key, Encoders.STRING())
          .flatMapGroups(new ProbeMetricsFunction(probe.modelPair(), settings.bootstrapResamples(), true),
              Encoders.row(computed))
          .join(ties, setKeys.toArray(new String[0]), "left")
          .select(Arrays.stream(full.fieldNames()).map(c -> col(c)).toArray(Column[]::new));
      extras.put("mi_tied_share", tiedShares(scores, resolution));
      long rows = tables.write(Table.ICLT_METRICS, metrics, extras);
      LOG.info("iclt wrote {} metric rows", rows);
    }
    if (writeComparisons) {
      // Each score against BET on the same positions, both oriented as iclt_metrics chose on val.
      Dataset<Row> signs = tables.read(Table.ICLT_METRICS)
          .select("probe_kind", "band", "label_kind", "balance", "train_domain", "score_sign").distinct();
      Dataset<Row> comparisons = all.join(signs,
              new String[] {"probe_kind", "band", "label_kind", "balance", "train_domain"})
          .withColumn("score", col("score").multiply(col("score_sign")))
          .groupByKey((MapFunction<Row, String>) PairedComparisons::key, Encoders.STRING())
          .flatMapGroups(new PairedComparisons(probe.modelPair(), settings.bootstrapResamples(), false),
              Encoders.row(SparkSchemas.of(Table.ICLT_COMPARISONS)));
      long rows = tables.write(Table.ICLT_COMPARISONS, comparisons, extras);
      LOG.info("iclt wrote {} paired comparisons with BET", rows);
    }
  }

  /** The scores whose noise floor is MI's: a tie at 0 where MI is below the resolution. */
  static final List<String> TIED_SCORES = List.of("mi", "mi_ratio");

  /**
   * Per (domain, separator, split): positions scored and the share with MI below the
   * resolution, for the manifest (an aggregate: a few rows reach the driver).
   */
  private static List<Map<String, Object>> tiedShares(Dataset<Row> scores, double resolution) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : scores.select("domain", "separator", "split", "doc_id", "position", "mi").distinct()
        .groupBy("domain", "separator", "split")
        .agg(count(lit(1)), avg(org.apache.spark.sql.functions.when(col("mi").lt(lit(resolution)), 1.0)
            .otherwise(0.0)))
        .orderBy("domain", "separator", "split").collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("domain", r.getString(0));
      m.put("separator", r.getString(1));
      m.put("split", r.getString(2));
      m.put("positions", r.getLong(3));
      m.put("mi_below_resolution", r.getDouble(4));
      out.add(m);
    }
    return out;
  }

  /** Rows in the {@link ProbeTables#SCORED} layout plus doc_id and position: one per position, train domain. */
  private static Dataset<Row> scored(Dataset<Row> scores, Column probeKind, Column score, Column trainDomain,
      Column tied) {
    return scores.select(probeKind.as("probe_kind"), lit(null).cast(DataTypes.IntegerType).as("layer"), col("band"),
        col("label_kind"), col("balance"), trainDomain.as("train_domain"), lit(0).as("seed"), col("domain").as("eval_domain"),
        col("split").as("eval_split"), score.as("score"), col("label"), col("doc_id"), col("position"),
        tied.as("tied"));
  }
}
