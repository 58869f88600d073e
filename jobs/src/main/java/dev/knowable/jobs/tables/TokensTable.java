package dev.knowable.jobs.tables;

import static org.apache.spark.sql.functions.expr;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.tables.Table;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The tokens table (written by the tokenize stage) as other stages use it: the tokenizer file
 * that writes it, and the last input ids of each example joined from it.
 */
public final class TokensTable {
  /** Column of the last MAX_CONTEXT_K input ids, current first, -1 before the document start. */
  public static final String CONTEXT_IDS = "context_ids";

  private TokensTable() {}

  /** The tokenizer file a run uses: the configured one, else the small model's. */
  public static Path tokenizerPath(KnowableConfig config) {
    String t = config.tokenize().tokenizer();
    if (!t.isBlank()) {
      return Paths.get(t);
    }
    if (config.small().path().isBlank()) {
      throw new ConfigException("Set knowable.tokenize.tokenizer or knowable.models.small.path "
          + "(whose tokenizer.json is used)");
    }
    return Paths.get(config.small().path()).resolve("tokenizer.json");
  }

  /**
   * Adds {@link #CONTEXT_IDS} from the run's tokens table (joined on doc_id), for context
   * baselines with k > 2: probe_examples itself keeps only the current and previous id.
   */
  public static Dataset<Row> withContextIds(Dataset<Row> examples, RunTables tables) {
    Dataset<Row> tokens = tables.read(Table.TOKENS).select("doc_id", "token_ids");
    return examples.join(tokens, "doc_id")
        .withColumn(CONTEXT_IDS, expr("transform(sequence(0, "
            + (ProbeSettings.MAX_CONTEXT_K - 1) + "), j -> IF(position - j >= 0, element_at(token_ids, position - j + 1),"
            + " -1))"))
        .drop("token_ids");
  }
}
