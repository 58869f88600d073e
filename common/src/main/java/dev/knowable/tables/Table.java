package dev.knowable.tables;

import dev.knowable.schema.TableSchema;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Every table a run writes, with what the code needs to know about it in one place: the
 * folder name under the output root ({@link #tableName()}), the stage that writes it (the
 * stage's command-line name, so a missing table names the stage to run and a stage's outputs
 * follow from this list), its partition columns (the {@code partition_by} of its schema file,
 * checked by TableRegistryTest), its schema file {@code data-schemas/<name>.json} and the
 * config sections that determine it (its {@code ConfigFingerprint}; empty for a table that
 * depends on the whole config tree).
 *
 * <p>Declared in pipeline order, and within a stage in the order the stage lists its tables.
 * {@link #toString()} is the folder name, so log lines and messages read as before.
 */
public enum Table {
  DOCUMENTS("documents", "ingest", List.of("domain"), Sections.INGEST),
  REJECTS("rejects", "ingest", List.of(), Sections.INGEST),
  TOKENS("tokens", "tokenize", List.of("domain"), Sections.TOKENS),
  SMALL_SCORES("small_scores", "score-small", List.of("domain"), Sections.SMALL),
  SMALL_REJECTS("small_rejects", "score-small", List.of(), Sections.SMALL),
  LARGE_SCORES("large_scores", "score-large", List.of("domain"), Sections.LARGE),
  LARGE_REJECTS("large_rejects", "score-large", List.of(), Sections.LARGE),
  PROBE_EXAMPLES("probe_examples", "label", List.of("domain"), Sections.LABELS),
  PROBE_METRICS("probe_metrics", "probe", List.of(), Sections.PROBES),
  PROBE_MODELS("probe_models", "probe", List.of("probe_kind"), Sections.PROBES),
  CROSS_DOMAIN("cross_domain", "probe", List.of(), Sections.PROBES),
  PROBE_COMPARISONS("probe_comparisons", "probe", List.of(), Sections.PROBES),
  TOKEN_UNCERTAINTY("token_uncertainty", "apply", List.of("domain"), Sections.APPLY),
  ICLT_SCORES("iclt_scores", "iclt", List.of("domain"), Sections.ICLT_SCORES),
  ICLT_METRICS("iclt_metrics", "iclt", List.of(), Sections.ICLT_METRICS),
  ICLT_COMPARISONS("iclt_comparisons", "iclt", List.of(), Sections.ICLT_METRICS),
  // Cross-run tables: they summarise whatever runs exist, so they depend on the whole tree.
  RUNS("runs", "aggregate", List.of(), Sections.ALL),
  AGG_CROSS_DOMAIN("agg_cross_domain", "aggregate", List.of(), Sections.ALL),
  AGG_AUC_BY_LAYER("agg_auc_by_layer", "aggregate", List.of(), Sections.ALL),
  AGG_AUC_BY_BAND("agg_auc_by_band", "aggregate", List.of(), Sections.ALL),
  AGG_ICLT_VS_BET("agg_iclt_vs_bet", "aggregate", List.of(), Sections.ALL);

  /** The model roles of the score stages (score-small, score-large). */
  public static final String SMALL = "small";
  public static final String LARGE = "large";

  /**
   * The config sections (paths under knowable, prefixes) per table: a table's settings and
   * those of every stage upstream of it, so a changed probe setting invalidates only the
   * probe tables. A holder class because enum constants cannot name the enum's own statics.
   */
  private static final class Sections {
    static final List<String> ALL = List.of();
    static final List<String> INGEST = List.of("ingest");
    static final List<String> TOKENS = List.of("ingest", "tokenize", "models.small.path");
    static final List<String> SMALL = List.of("ingest", "tokenize", "models.small");
    static final List<String> LARGE = List.of("ingest", "tokenize", "models.small.path", "models.large");
    static final List<String> LABELS = List.of("ingest", "tokenize", "models", "score", "label");
    static final List<String> PROBES = List.of("ingest", "tokenize", "models", "score", "label", "probe");
    static final List<String> APPLY = List.of("ingest", "tokenize", "models.small", "score", "apply");
    static final List<String> ICLT_SCORES = List.of("ingest", "tokenize", "models", "score", "label", "iclt");
    static final List<String> ICLT_METRICS = List.of("ingest", "tokenize", "models", "score", "label", "iclt",
        "probe.model-pair");
  }

  private final String tableName;
  private final String stage;
  private final List<String> partitionBy;
  private final List<String> fingerprintSections;

  Table(String tableName, String stage, List<String> partitionBy, List<String> fingerprintSections) {
    this.tableName = tableName;
    this.stage = stage;
    this.partitionBy = partitionBy;
    this.fingerprintSections = fingerprintSections;
  }

  /** The folder name under the output root (and the SQL view name). */
  public String tableName() {
    return tableName;
  }

  /** The command-line name of the stage that writes it. */
  public String stage() {
    return stage;
  }

  /** The partition columns every write of it uses (empty: not partitioned). */
  public List<String> partitionBy() {
    return partitionBy;
  }

  /** Its schema file, relative to the repository root and to the classpath. */
  public String schemaFile() {
    return "data-schemas/" + tableName + ".json";
  }

  /** Its schema as described in {@link #schemaFile()}. */
  public TableSchema schema() {
    return TableSchema.of(tableName);
  }

  /** The config sections its fingerprint covers; empty when the whole config tree counts. */
  public List<String> fingerprintSections() {
    return fingerprintSections;
  }

  @Override
  public String toString() {
    return tableName;
  }

  /** The tables {@code stage} writes, in its order (none for a stage that writes no table). */
  public static List<Table> producedBy(String stage) {
    return Arrays.stream(values()).filter(t -> t.stage.equals(stage)).toList();
  }

  /** The table of that folder name, if it is one of the run's tables. */
  public static Optional<Table> find(String tableName) {
    return Arrays.stream(values()).filter(t -> t.tableName.equals(tableName)).findFirst();
  }

  /** The table of that folder name; fails naming the known tables. */
  public static Table byName(String tableName) {
    return find(tableName).orElseThrow(() -> new IllegalArgumentException("Unknown table '" + tableName
        + "'; the run's tables are " + Arrays.stream(values()).map(Table::tableName).toList()));
  }

  /** {@code <role>_scores} of a score stage's model role (small or large). */
  public static Table scores(String role) {
    return switch (checkRole(role)) {
      case SMALL -> SMALL_SCORES;
      default -> LARGE_SCORES;
    };
  }

  /** {@code <role>_rejects}: the documents the score stage of that model role did not score. */
  public static Table rejectsOf(String role) {
    return switch (checkRole(role)) {
      case SMALL -> SMALL_REJECTS;
      default -> LARGE_REJECTS;
    };
  }

  private static String checkRole(String role) {
    if (!SMALL.equals(role) && !LARGE.equals(role)) {
      throw new IllegalArgumentException("Unknown model role '" + role + "'; the roles are " + SMALL + " and "
          + LARGE);
    }
    return role;
  }
}
