package dev.knowable.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.ModelSettings;
import dev.knowable.config.KnowableConfig;
import dev.knowable.hidden.HiddenStorage;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.ScoresTable;
import dev.knowable.jobs.tables.ShardedTable;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.label.Band;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ModelException;
import dev.knowable.model.ModelPair;
import dev.knowable.model.ScoreRequest;
import dev.knowable.tables.Table;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * score-small / score-large: tokens -> per-position scores of one model of the pair.
 *
 * <ul>
 *   <li>One task per shard (the tokens of one stable shard id); each executor JVM loads the
 *       model once; see {@link ScorePartition} for batching.</li>
 *   <li>small: entropy, top-1 id and probability, and the configured hidden layers as
 *       {@code hidden_l<k>} columns; large: entropy and top-k ids/log-probs, no hidden states.</li>
 *   <li>Refuses a model whose tokenizer differs from the one that made the tokens, and a
 *       max-tokens longer than the model's context.</li>
 *   <li>Resumable per shard ({@link ShardedTable}): each tokens shard is one Spark job whose
 *       output is committed on its own; a rerun of a killed stage with the same settings
 *       computes only the missing shards, and the table is published when all are there.</li>
 *   <li>A document with NaN / infinite scores is left out and listed in {@code <role>_rejects}
 *       (or fails the stage: knowable.score.on-non-finite).</li>
 * </ul>
 */
public final class ScoreStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreStage.class);
  public static final String SMALL = ScoresTable.SMALL;
  public static final String LARGE = ScoresTable.LARGE;

  private final String role;
  /** Called on the driver before each shard is computed (tests simulate a crash with it). */
  private final java.util.function.IntConsumer beforeShard;

  public ScoreStage(String role) {
    this(role, k -> { });
  }

  ScoreStage(String role, java.util.function.IntConsumer beforeShard) {
    this.beforeShard = beforeShard;
    if (!role.equals(SMALL) && !role.equals(LARGE)) {
      throw new IllegalArgumentException("role must be small or large");
    }
    this.role = role;
  }

  @Override
  public String name() {
    return "score-" + role;
  }

  @Override
  public String description() {
    return role.equals(SMALL)
        ? "small model: per-token entropy, top-1 and hidden states of the configured layers"
        : "large model: per-token entropy (the confidence target) and top-k log-probs";
  }

  public Table table() {
    return Table.scores(role);
  }

  /**
   * Documents this stage did not score: token ids outside the model's vocabulary, or NaN /
   * infinite outputs (knowable.score.on-non-finite = reject).
   */
  public Table rejectsTable() {
    return Table.rejectsOf(role);
  }

  static final String REJECTS_NOTE = "non_finite_documents";

  private ModelException nonFiniteFailure(NonFinite bad) {
    return new ModelException(name() + ": the model returned non-finite scores for document '" + bad.docId()
        + "' (domain " + bad.domain() + "): " + bad.detail() + ". knowable.score.on-non-finite = fail; set it to "
        + "reject to write such documents to " + rejectsTable() + " and go on.");
  }

  private Dataset<Row> rejectRows(SparkSession spark, List<Row> outOfVocabulary, List<NonFinite> rejected) {
    List<Row> rows = new ArrayList<>(outOfVocabulary);
    for (NonFinite b : rejected) {
      rows.add(RowFactory.create(name(), b.docId(), b.domain(), b.split(), "non_finite", b.firstPosition(),
          b.positions(), b.detail()));
    }
    return spark.createDataFrame(rows, SparkSchemas.of(rejectsTable()));
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(table())) {
      return;
    }
    ModelSettings settings = role.equals(SMALL) ? config.small() : config.large();
    ModelContract contract = resolveContract(config, tables, settings);
    ScoreRequest request = resolveRequest(contract, settings);
    List<String> hiddenColumns = new ArrayList<>();
    request.layers().forEach(l -> hiddenColumns.add("hidden_l" + l));
    // Hidden-state storage (small only): one schema decision, one encoder (HiddenEncoder).
    HiddenStorage storage = role.equals(SMALL) ? config.hiddenStorage() : HiddenStorage.FLOAT32_ALL;
    LongAccumulator clamped = spark.sparkContext().longAccumulator("hidden values clamped");
    StructType schema = SparkSchemas.withPatternColumns(table().schema(), hiddenColumns,
        storage.dtype().sqlType());
    boolean failOnNonFinite = config.score().onNonFinite() == KnowableConfig.OnNonFinite.FAIL;
    ScorePartition fn = new ScorePartition(role, settings.path(), settings.engine(), config.score(),
        request, contract.hiddenSize(), new HiddenEncoder(storage, clamped),
        config.tokenize().maxTokens(), config.tokenize().overlapTokens(), failOnNonFinite,
        new ScoreRowLayout(schema, request.layers()));

    Dataset<Row> all = tables.read(Table.TOKENS);
    Column outOfRange = outOfVocabulary(contract);
    List<Row> outOfVocabulary = findOutOfVocabularyDocuments(all, outOfRange, contract);
    Dataset<Row> tokens = all.filter(functions.not(outOfRange)).select("doc_id", "split", "token_ids", "domain", "shard");
    int shards = config.tokenize().shards();
    // Shards of an earlier attempt are reused only if computed from this very tokens table.
    String upstream = "tokens committed_at " + tables.readManifest(Table.TOKENS).get("committed_at");
    ShardedTable sharded = new ShardedTable(spark, tables, config.fingerprint(table()), table(), shards, upstream);
    long start = System.nanoTime();
    List<ShardedTable.Shard> done = sharded.computeMissing(
        (k, write) -> scoreShard(spark, tokens, fn, schema, failOnNonFinite, k, write),
        2 * Math.max(1, spark.sparkContext().defaultParallelism()));

    List<NonFinite> rejected = nonFiniteDocuments(done, failOnNonFinite);
    writeRejects(spark, tables, contract, outOfVocabulary, rejected);
    Map<String, Object> extras = manifestExtras(config, settings, contract, request, storage,
        outOfVocabulary.size() + rejected.size(), rejected);
    // Counted over what was written: a NaN that slipped past the check would show here.
    long positions = sharded.publish(done, extras, staged -> publishedCounts(staged, hiddenColumns, clamped), start);
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info("{}: {} positions scored by {} in {} s ({} tokens/s over the whole stage)", name(), positions,
        contract.name(), String.format("%.1f", seconds), String.format("%.0f", positions / Math.max(seconds, 1e-9)));
  }

  /**
   * The model's contract, checked against the run: the tokenizer that made the tokens table
   * and the configured max-tokens (at most the model's context).
   */
  private ModelContract resolveContract(KnowableConfig config, RunTables tables, ModelSettings settings) {
    if (settings.path().isBlank()) {
      throw new ConfigException("knowable.models." + role + ".path is not set");
    }
    ModelContract contract = ModelContract.read(Paths.get(settings.path()));
    String tokensFingerprint = String.valueOf(tables.readManifest(Table.TOKENS).get("tokenizer_sha256"));
    ModelPair.requireTokenizer(config, tokensFingerprint, "the tokens table of run " + config.runId());
    if (config.tokenize().maxTokens() > contract.maxContext()) {
      throw new ConfigException("knowable.tokenize.max-tokens=" + config.tokenize().maxTokens() + " exceeds the "
          + role + " model " + contract.name() + "'s max_context " + contract.maxContext()
          + "; set knowable.tokenize.max-tokens <= " + contract.maxContext() + " and rerun tokenize");
    }
    return contract;
  }

  /** What each forward pass reads back: vocab limit, top-k (1 for small) and hidden layers (small only). */
  private ScoreRequest resolveRequest(ModelContract contract, ModelSettings settings) {
    List<Integer> layers = role.equals(SMALL) ? contract.resolveLayers(settings.layers()) : List.of();
    int vocabLimit = contract.effectiveVocabLimit(settings.vocabLimit());
    int topK = role.equals(SMALL) ? 1 : settings.topK();
    if (topK > vocabLimit) {
      throw new ConfigException("knowable.models." + role + ".top-k=" + topK + " exceeds vocab_limit " + vocabLimit);
    }
    // a contract v2 graph serves its exported vocab_limit and top_k only: fail here, not in every task
    contract.requireScorable(vocabLimit, topK, "knowable.models." + role);
    return new ScoreRequest(vocabLimit, topK, layers);
  }

  /** Rows holding an id the embedding has no row for; a negative id as well (a corrupt table). */
  private static Column outOfVocabulary(ModelContract contract) {
    // array_min/array_max are generated code; the lambda in findOutOfVocabularyDocuments
    // (interpreted, element by element) only runs for the few documents this selects. Empty
    // arrays are in range.
    return expr("coalesce(array_min(token_ids) < 0 OR array_max(token_ids) >= " + contract.vocabSize()
        + ", false)");
  }

  /**
   * Reject rows of the documents {@code outOfRange} selects. Such documents are few: their
   * reject rows are collected, the rest is scored.
   */
  private List<Row> findOutOfVocabularyDocuments(Dataset<Row> all, Column outOfRange, ModelContract contract) {
    String outside = "filter(token_ids, x -> x < 0 OR x >= " + contract.vocabSize() + ")";
    List<Row> outOfVocabulary = all.filter(outOfRange).select(lit(name()).as("stage"), col("doc_id"), col("domain"),
        col("split"), lit("out_of_vocabulary").as("reason"),
        expr("array_position(token_ids, element_at(" + outside + ", 1)) - 1").cast("int").as("position"),
        expr("size(" + outside + ")").as("bad_positions"),
        expr("concat('token id ', element_at(" + outside + ", 1), ' at position ', "
            + "array_position(token_ids, element_at(" + outside + ", 1)) - 1, ' (', size(" + outside + "), "
            + "' such ids: ', array_join(slice(" + outside + ", 1, 20), ','), ') is outside the vocabulary 0.."
            + (contract.vocabSize() - 1) + " of model " + contract.name().replace("'", "") + " (vocab_size)')")
            .as("detail"))
        .orderBy("doc_id").collectAsList();
    if (!outOfVocabulary.isEmpty()) {
      LOG.warn("{}: {} document(s) hold token ids outside 0..{} (the model's vocabulary); they are listed in "
          + "{} and not scored", name(), outOfVocabulary.size(), contract.vocabSize() - 1, rejectsTable());
    }
    return outOfVocabulary;
  }

  /** Scores shard {@code k}: hands its rows to {@code write}, returns its non-finite documents as marker notes. */
  private Map<String, Object> scoreShard(SparkSession spark, Dataset<Row> tokens, ScorePartition fn,
      StructType schema, boolean failOnNonFinite, int k, java.util.function.Consumer<Dataset<Row>> write) {
    beforeShard.accept(k);
    CollectionAccumulator<NonFinite> acc = spark.sparkContext().collectionAccumulator(name() + " shard " + k);
    // One task per shard; the shard's rows are read by a filter, no shuffle (a lost task is
    // recomputed from the tokens table alone).
    write.accept(tokens.filter(col("shard").equalTo(k)).coalesce(1)
        .mapPartitions(fn.forShard(k, acc), Encoders.row(schema)));
    List<NonFinite> bad = new ArrayList<>(acc.value());
    bad.sort(java.util.Comparator.comparing(NonFinite::docId));
    if (failOnNonFinite && !bad.isEmpty()) {
      throw nonFiniteFailure(bad.get(0));
    }
    return Map.of(REJECTS_NOTE, bad.stream().map(NonFinite::toMap).toList());
  }

  /** The non-finite documents noted by every shard, computed now or reused, by doc id. */
  private List<NonFinite> nonFiniteDocuments(List<ShardedTable.Shard> done, boolean failOnNonFinite) {
    List<NonFinite> rejected = new ArrayList<>();
    for (ShardedTable.Shard s : done) {
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> notes = (List<Map<String, Object>>) s.notes().getOrDefault(REJECTS_NOTE, List.of());
      notes.forEach(m -> rejected.add(NonFinite.fromMap(m)));
    }
    rejected.sort(java.util.Comparator.comparing(NonFinite::docId));
    if (failOnNonFinite && !rejected.isEmpty()) {
      throw nonFiniteFailure(rejected.get(0)); // reused shards of an attempt under on-non-finite = reject
    }
    return rejected;
  }

  private void writeRejects(SparkSession spark, RunTables tables, ModelContract contract, List<Row> outOfVocabulary,
      List<NonFinite> rejected) {
    // The rejects table goes first: the scores table's manifest is what says the stage is done.
    tables.write(rejectsTable(), rejectRows(spark, outOfVocabulary, rejected),
        Map.of("rejected_documents", outOfVocabulary.size() + rejected.size(), "out_of_vocabulary_documents",
            outOfVocabulary.size(), "non_finite_documents", rejected.size(), "vocab_size", contract.vocabSize()));
  }

  /** The scores table's manifest: the model and request it was scored with, and what was left out. */
  private Map<String, Object> manifestExtras(KnowableConfig config, ModelSettings settings, ModelContract contract,
      ScoreRequest request, HiddenStorage storage, int rejectedDocuments, List<NonFinite> rejected) {
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("model", contract.name());
    extras.put("model_path", Paths.get(settings.path()).toAbsolutePath().toString());
    extras.put("tokenizer_sha256", contract.tokenizerSha256());
    extras.put("vocab_limit", request.vocabLimit());
    extras.put("top_k", request.topK());
    extras.put("layers", request.layers());
    extras.put("num_layers", contract.numLayers());
    extras.put("hidden_size", contract.hiddenSize());
    extras.put("model_dtype", contract.dtype());
    extras.put("token_budget", config.score().tokenBudget());
    extras.put("window_length", config.tokenize().maxTokens());
    extras.put("window_overlap", config.tokenize().overlapTokens());
    extras.put("rejected_documents", rejectedDocuments);
    extras.put("non_finite_positions", rejected.stream().mapToLong(NonFinite::positions).sum());
    if (role.equals(SMALL)) {
      extras.put(HiddenStates.MANIFEST_KEY, storage.dtype().configName());
      extras.put("hidden_positions", storage.positionsNote());
      extras.put(HiddenStates.BANDS_KEY, storage.bands().stream()
          .map(Band::manifestBounds).toList());
      LOG.info("{}: hidden states stored as {}, positions: {}", name(), storage.dtype().configName(),
          storage.positionsNote());
    }
    return extras;
  }

  /** Counts over the staged (written) scores for the manifest. */
  private static Map<String, Object> publishedCounts(Dataset<Row> staged, List<String> hiddenColumns,
      LongAccumulator clamped) {
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("non_finite_entropies",
        staged.filter("isnan(entropy) OR entropy = double('Infinity') OR entropy = double('-Infinity')").count());
    if (!hiddenColumns.isEmpty()) {
      // Clamped values: counted by this attempt's shard jobs only (reused shards add none).
      stats.putAll(hiddenStats(staged, hiddenColumns.get(0), clamped.value()));
    }
    return stats;
  }

  /**
   * Manifest counts of the stored hidden states: positions that keep them and values
   * clamped to the dtype's range (fp16: finite values beyond +-65504; counted as the rows
   * were encoded, so a retried task may count twice).
   */
  private static Map<String, Object> hiddenStats(Dataset<Row> staged, String firstHidden, long clamped) {
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("hidden_positions_kept", staged.filter(col(firstHidden).isNotNull()).count());
    stats.put("hidden_clamped_values", clamped);
    return stats;
  }
}
