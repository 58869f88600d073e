package dev.knowable.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A table's schema as described in {@code data-schemas/<table>.json}, the single source
 * that the jobs and the documentation both use (the files ship on the classpath).
 *
 * <p>A plain description: column names and Spark SQL DDL type strings ({@code int},
 * {@code array<float>}). The jobs turn it into a Spark {@code StructType}.
 */
public final class TableSchema implements Serializable {
  private static final long serialVersionUID = 2L;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One declared column: its name and its DDL type. */
  public record Column(String name, String type) implements Serializable {}

  /**
   * A family of columns such as hidden_l&lt;layer&gt;, all of one DDL type: {@code type}, or
   * one of {@code alternativeTypes} where a setting chooses the storage (small_scores'
   * hidden states: array&lt;float&gt;, or binary holding 16-bit floats, or the older
   * array&lt;smallint&gt;).
   */
  public record ColumnPattern(String pattern, Pattern regex, String type, List<String> alternativeTypes)
      implements Serializable {
    public boolean matches(String column) {
      return regex.matcher(column).matches();
    }

    /** The declared type and its alternatives. */
    public List<String> types() {
      List<String> out = new ArrayList<>(List.of(type));
      out.addAll(alternativeTypes);
      return out;
    }
  }

  private final String table;
  private final int version;
  private final List<String> partitionBy;
  private final List<Column> columns;
  private final List<ColumnPattern> patterns;

  private TableSchema(String table, int version, List<String> partitionBy, List<Column> columns,
      List<ColumnPattern> patterns) {
    this.table = table;
    this.version = version;
    this.partitionBy = partitionBy;
    this.columns = columns;
    this.patterns = patterns;
  }

  /** Loads {@code data-schemas/<table>.json} from the classpath. */
  public static TableSchema of(String table) {
    String res = "data-schemas/" + table + ".json";
    try (InputStream in = TableSchema.class.getClassLoader().getResourceAsStream(res)) {
      if (in == null) {
        throw new IllegalStateException("No schema file " + res + " on the classpath");
      }
      JsonNode root = JSON.readTree(in);
      List<Column> columns = new ArrayList<>();
      for (JsonNode c : root.get("columns")) {
        columns.add(new Column(c.get("name").asText(), c.get("type").asText()));
      }
      List<String> partitions = new ArrayList<>();
      root.get("partition_by").forEach(p -> partitions.add(p.asText()));
      List<ColumnPattern> patterns = new ArrayList<>();
      if (root.has("column_patterns")) {
        for (JsonNode p : root.get("column_patterns")) {
          List<String> alternatives = new ArrayList<>();
          if (p.has("alternative_types")) {
            p.get("alternative_types").forEach(t -> alternatives.add(t.asText()));
          }
          patterns.add(new ColumnPattern(p.get("pattern").asText(), Pattern.compile(p.get("regex").asText()),
              p.get("type").asText(), List.copyOf(alternatives)));
        }
      }
      return new TableSchema(root.get("table").asText(), root.get("version").asInt(), List.copyOf(partitions),
          List.copyOf(columns), List.copyOf(patterns));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + res + ": " + e.getMessage(), e);
    }
  }

  public String table() { return table; }
  public int version() { return version; }
  public List<String> partitionBy() { return partitionBy; }
  public List<ColumnPattern> patterns() { return patterns; }

  /** The declared fixed columns, in the declared order (partition columns included). */
  public List<Column> columns() {
    return columns;
  }

  /** The pattern a column name belongs to, if any. */
  public Optional<ColumnPattern> patternOf(String column) {
    return patterns.stream().filter(p -> p.matches(column)).findFirst();
  }
}
