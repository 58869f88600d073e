package dev.knowable.jobs.tables;

import dev.knowable.tables.Table;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Row layouts and values of the tables the probe stage writes (described in data-schemas/;
 * their names are {@link Table#PROBE_METRICS} and the other constants of the registry).
 */
public final class ProbeTables {
  /** probe_kind values. */
  public static final String LINEAR = "linear";
  public static final String MLP = "mlp";
  public static final String BET = "bet";
  /** BET-FT: the entropy of the small model's LM head fine-tuned toward the large model (docs/METHOD.md 6.5). */
  public static final String BET_FT = "bet_ft";
  public static final String CONTEXT_PREFIX = "context_k";
  /** The combined control: one-hot last k ids with H_S, H_S^2 and log(1 + position). */
  public static final String COMBINED_PREFIX = "combined_k";

  /** The identity of one trained probe, shared by the scored rows, metrics and models. */
  public static final List<String> PROBE_IDENTITY = List.of("probe_kind", "layer", "band", "label_kind", "balance",
      "train_domain", "seed");

  /** Rows of an evaluated probe: identity, evaluation set, score, label. */
  public static final StructType SCORED = new StructType()
      .add("probe_kind", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("band", DataTypes.StringType).add("label_kind", DataTypes.StringType)
      .add("balance", DataTypes.StringType).add("train_domain", DataTypes.StringType).add("seed", DataTypes.IntegerType)
      .add("eval_domain", DataTypes.StringType).add("eval_split", DataTypes.StringType)
      .add("score", DataTypes.DoubleType).add("label", DataTypes.IntegerType);

  private ProbeTables() {}

  /** The declared columns of a table, in data-schemas order. */
  public static StructType schema(Table table) {
    return SparkSchemas.of(table);
  }
}
