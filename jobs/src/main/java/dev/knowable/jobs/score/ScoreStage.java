package dev.knowable.jobs.score;

import static org.apache.spark.sql.functions.col;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.ModelSettings;
import dev.knowable.config.KnowableConfig;
import dev.knowable.hidden.HiddenStorage;
import dev.knowable.jobs.RunTables;
import dev.knowable.jobs.hidden.HiddenStates;
import dev.knowable.jobs.SparkSchemas;
import dev.knowable.jobs.Stage;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ModelPair;
import dev.knowable.model.ScoreRequest;
import dev.knowable.schema.TableSchema;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * score-small / score-large: tokens -> per-position scores of one model of the pair.
 *
 * <ul>
 *   <li>One task per shard (tokens are repartitioned by their stable shard id); each
 *       executor JVM loads the model once; see {@link ScorePartition} for batching.</li>
 *   <li>small: entropy, top-1 id and probability, and the configured hidden layers as
 *       {@code hidden_l<k>} columns; large: entropy and top-k ids/log-probs, no hidden states.</li>
 *   <li>Refuses a model whose tokenizer differs from the one that made the tokens, and a
 *       max-tokens longer than the model's context.</li>
 * </ul>
 */
public final class ScoreStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreStage.class);
  public static final String SMALL = "small";
  public static final String LARGE = "large";

  private final String role;

  public ScoreStage(String role) {
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

  public String table() {
    return role + "_scores";
  }

  @Override
  public List<String> outputs() {
    return List.of(table());
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(table())) {
      return;
    }
    ModelSettings settings = role.equals(SMALL) ? config.small() : config.large();
    if (settings.path().isBlank()) {
      throw new ConfigException("knowable.models." + role + ".path is not set");
    }
    ModelContract contract = ModelContract.read(Paths.get(settings.path()));
    String tokensFingerprint = String.valueOf(tables.readManifest("tokens").get("tokenizer_sha256"));
    ModelPair.requireTokenizer(config, tokensFingerprint, "the tokens table of run " + config.runId());
    if (config.tokenize().maxTokens() > contract.maxContext()) {
      throw new ConfigException("knowable.tokenize.max-tokens=" + config.tokenize().maxTokens() + " exceeds the "
          + role + " model " + contract.name() + "'s max_context " + contract.maxContext()
          + "; set knowable.tokenize.max-tokens <= " + contract.maxContext() + " and rerun tokenize");
    }
    List<Integer> layers = role.equals(SMALL) ? contract.resolveLayers(settings.layers()) : List.of();
    int vocabLimit = contract.effectiveVocabLimit(settings.vocabLimit());
    int topK = role.equals(SMALL) ? 1 : settings.topK();
    if (topK > vocabLimit) {
      throw new ConfigException("knowable.models." + role + ".top-k=" + topK + " exceeds vocab_limit " + vocabLimit);
    }
    List<String> hiddenColumns = new ArrayList<>();
    layers.forEach(l -> hiddenColumns.add("hidden_l" + l));
    // Hidden-state storage (small only): one schema decision, one encoder (HiddenEncoder).
    HiddenStorage storage = role.equals(SMALL) ? HiddenStorage.from(config.raw()) : HiddenStorage.FLOAT32_ALL;
    LongAccumulator clamped = spark.sparkContext().longAccumulator("hidden values clamped");
    StructType schema = SparkSchemas.withPatternColumns(TableSchema.of(table()), hiddenColumns,
        storage.dtype().sqlType());
    ScorePartition fn = new ScorePartition(role, settings.path(), settings.engine(), config.score(),
        new ScoreRequest(vocabLimit, topK, layers), contract.hiddenSize(), new HiddenEncoder(storage, clamped));

    Dataset<Row> tokens = tables.read("tokens", "tokenize");
    int shards = config.tokenize().shards();
    Dataset<Row> scores = tokens.select("doc_id", "split", "token_ids", "domain", "shard")
        // Range partitioning on the shard id gives (about) one shard per task; hash
        // partitioning of small integers collides and leaves tasks empty.
        .repartitionByRange(shards, col("shard"))
        .mapPartitions(fn, Encoders.row(schema));

    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("model", contract.name());
    extras.put("model_path", Paths.get(settings.path()).toAbsolutePath().toString());
    extras.put("tokenizer_sha256", contract.tokenizerSha256());
    extras.put("vocab_limit", vocabLimit);
    extras.put("top_k", topK);
    extras.put("layers", layers);
    extras.put("num_layers", contract.numLayers());
    extras.put("hidden_size", contract.hiddenSize());
    extras.put("model_dtype", contract.dtype());
    extras.put("token_budget", config.score().tokenBudget());
    if (role.equals(SMALL)) {
      extras.put(HiddenStates.MANIFEST_KEY, storage.dtype().configName());
      extras.put("hidden_positions", storage.positionsNote());
      extras.put(HiddenStates.BANDS_KEY, storage.bands().stream()
          .map(b -> List.of(b.minNats(), Double.isInfinite(b.maxNats()) ? "inf" : b.maxNats())).toList());
      LOG.info("{}: hidden states stored as {}, positions: {}", name(), storage.dtype().configName(),
          storage.positionsNote());
    }
    long start = System.nanoTime();
    // A NaN or infinite entropy falls out of every band silently: count them where a reader looks.
    long positions = tables.write(table(), scores, TableSchema.of(table()).partitionBy(), extras,
        staged -> {
          Map<String, Object> stats = new LinkedHashMap<>();
          stats.put("non_finite_entropies",
              staged.filter("isnan(entropy) OR entropy = double('Infinity') OR entropy = double('-Infinity')").count());
          if (!hiddenColumns.isEmpty()) {
            stats.putAll(hiddenStats(staged, hiddenColumns.get(0), clamped.value()));
          }
          return stats;
        });
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info("{}: {} positions scored by {} in {} s ({} tokens/s over the whole stage)", name(), positions,
        contract.name(), String.format("%.1f", seconds), String.format("%.0f", positions / Math.max(seconds, 1e-9)));
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
