package dev.knowable.jobs.tables;

import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.StructType;

/**
 * probe_examples (written by the label stage) as the stages that read it see it: its name, the
 * balancing column, the hidden-state columns and their layers, and its bands resolved to nats.
 */
public final class ProbeExamplesTable {
  /**
   * The table the label stage writes, by folder name: @deprecated report only until converted
   * (stages use {@link Table#PROBE_EXAMPLES}).
   */
  public static final String TABLE = Table.PROBE_EXAMPLES.tableName();

  /** Hidden-state columns of small_scores and probe_examples. */
  public static final Pattern HIDDEN_COLUMN = Pattern.compile("hidden_l([0-9]+)");

  /** The column naming the balancing that produced a row ({@link Balancing#tableValue()}). */
  public static final String BALANCE = "balance";

  private ProbeExamplesTable() {}

  /** The hidden_l&lt;k&gt; columns of a table, in layer order. */
  public static List<String> hiddenColumns(StructType schema) {
    List<String> out = new ArrayList<>();
    for (String c : schema.fieldNames()) {
      if (HIDDEN_COLUMN.matcher(c).matches()) {
        out.add(c);
      }
    }
    out.sort((a, b) -> Integer.compare(layerOf(a), layerOf(b)));
    return out;
  }

  /** The layer index of a hidden_l&lt;k&gt; column. */
  public static int layerOf(String hiddenColumn) {
    var m = HIDDEN_COLUMN.matcher(hiddenColumn);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a hidden-state column: " + hiddenColumn);
    }
    return Integer.parseInt(m.group(1));
  }

  /**
   * A band of probe_examples in nats: a nats band as configured; a quantile band as the label
   * stage of {@code runId} resolved it (its manifest), or null when the manifest has no such band.
   */
  public static Band resolvedBand(RunTables tables, String runId, Band.Spec spec) {
    if (spec.unit() == Band.Unit.NATS) {
      return spec.toBand();
    }
    if (tables.readManifest(Table.PROBE_EXAMPLES, runId).get("bands") instanceof List<?> list) {
      for (Object o : list) {
        if (o instanceof Map<?, ?> b && spec.name().equals(b.get("band"))) {
          return Band.fromManifestEntry(b);
        }
      }
    }
    return null;
  }
}
