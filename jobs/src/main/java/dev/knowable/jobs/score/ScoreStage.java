package dev.knowable.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.ModelSettings;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.RunTables;
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
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
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
 *   <li>Documents longer than max-tokens (tokenize.long-documents=window) are scored in
 *       overlapping windows, every position once ({@link dev.knowable.tokenize.Windows}).</li>
 *   <li>A document holding a token id the model has no embedding for (outside
 *       0..vocab_size-1: another tokenizer, added tokens) goes to {@code <role>_rejects}
 *       with the reason, and the others are scored: it would otherwise fail the whole job
 *       in the native forward pass.</li>
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

  /** Documents this stage could not score, in the layout of ingest's rejects. */
  public String rejectsTable() {
    return role + "_rejects";
  }

  @Override
  public List<String> outputs() {
    // The scores first: the Airflow sensor of the next stage waits on the first table, and
    // the scores are published last.
    return List.of(table(), rejectsTable());
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    boolean writeRejects = tables.needsWrite(rejectsTable());
    boolean writeScores = tables.needsWrite(table());
    if (!writeRejects && !writeScores) {
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
    StructType schema = SparkSchemas.withPatternColumns(TableSchema.of(table()), hiddenColumns);
    ScorePartition fn = new ScorePartition(role, settings.path(), settings.engine(), config.score(),
        new ScoreRequest(vocabLimit, topK, layers), contract.hiddenSize(), config.tokenize().maxTokens(),
        config.tokenize().overlapTokens());

    Dataset<Row> all = tables.read("tokens", "tokenize");
    // Ids the embedding has no row for; a negative id as well (a corrupt table).
    String outside = "filter(token_ids, x -> x < 0 OR x >= " + contract.vocabSize() + ")";
    Column bad = expr("size(" + outside + ") > 0");
    if (writeRejects) {
      Dataset<Row> rejects = all.filter(bad).select(lit(name()).as("stage"),
          lit(tables.tablePath("tokens").toString()).as("input_path"), lit(-1L).as("input_offset"),
          col("doc_id"), col("domain"), lit("out_of_vocabulary").as("reason"),
          expr("concat('token id ', element_at(" + outside + ", 1), ' at position ', "
              + "array_position(token_ids, element_at(" + outside + ", 1)) - 1, ' (', size(" + outside + "), "
              + "' such ids) is outside the vocabulary 0.." + (contract.vocabSize() - 1) + " of model "
              + contract.name().replace("'", "") + " (vocab_size)')").as("detail"),
          expr("concat('[', array_join(slice(" + outside + ", 1, 20), ','), ']')").as("raw"));
      long rejected = tables.write(rejectsTable(), rejects, List.of(), Map.of("model", contract.name(),
          "vocab_size", contract.vocabSize()));
      if (rejected > 0) {
        LOG.warn("{}: {} document(s) hold token ids outside 0..{} (the model's vocabulary); they are listed in "
            + "{} and not scored", name(), rejected, contract.vocabSize() - 1, rejectsTable());
      }
    }
    if (!writeScores) {
      return;
    }
    Dataset<Row> tokens = all.filter(functions.not(bad));
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
    extras.put("window_length", config.tokenize().maxTokens());
    extras.put("window_overlap", config.tokenize().overlapTokens());
    long start = System.nanoTime();
    // A NaN or infinite entropy falls out of every band silently: count them where a reader looks.
    long positions = tables.write(table(), scores, TableSchema.of(table()).partitionBy(), extras,
        staged -> Map.of("non_finite_entropies",
            staged.filter("isnan(entropy) OR entropy = double('Infinity') OR entropy = double('-Infinity')").count()));
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info("{}: {} positions scored by {} in {} s ({} tokens/s over the whole stage)", name(), positions,
        contract.name(), String.format("%.1f", seconds), String.format("%.0f", positions / Math.max(seconds, 1e-9)));
  }
}
