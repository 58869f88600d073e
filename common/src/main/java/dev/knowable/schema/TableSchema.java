package dev.knowable.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A table's schema as described in {@code data-schemas/<table>.json}, the single source
 * that the jobs and the documentation both use (the files ship on the classpath).
 */
public final class TableSchema implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A family of columns such as hidden_l&lt;layer&gt;. */
  public record ColumnPattern(String pattern, Pattern regex, DataType type) implements Serializable {}

  private final String table;
  private final int version;
  private final List<String> partitionBy;
  private final StructType fixedColumns;
  private final List<ColumnPattern> patterns;

  private TableSchema(String table, int version, List<String> partitionBy, StructType fixed,
      List<ColumnPattern> patterns) {
    this.table = table;
    this.version = version;
    this.partitionBy = partitionBy;
    this.fixedColumns = fixed;
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
      List<StructField> fields = new ArrayList<>();
      for (JsonNode c : root.get("columns")) {
        fields.add(DataTypes.createStructField(c.get("name").asText(), DataType.fromDDL(c.get("type").asText()), true));
      }
      List<String> partitions = new ArrayList<>();
      root.get("partition_by").forEach(p -> partitions.add(p.asText()));
      List<ColumnPattern> patterns = new ArrayList<>();
      if (root.has("column_patterns")) {
        for (JsonNode p : root.get("column_patterns")) {
          patterns.add(new ColumnPattern(p.get("pattern").asText(), Pattern.compile(p.get("regex").asText()),
              DataType.fromDDL(p.get("type").asText())));
        }
      }
      return new TableSchema(root.get("table").asText(), root.get("version").asInt(), List.copyOf(partitions),
          new StructType(fields.toArray(new StructField[0])), List.copyOf(patterns));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + res + ": " + e.getMessage(), e);
    }
  }

  public String table() { return table; }
  public int version() { return version; }
  public List<String> partitionBy() { return partitionBy; }
  public List<ColumnPattern> patterns() { return patterns; }

  /** The declared fixed columns, in the declared order (partition columns included). */
  public StructType fixedColumns() {
    return fixedColumns;
  }

  /** The fixed columns followed by the given pattern columns (e.g. hidden_l2 of type array&lt;float&gt;). */
  public StructType withPatternColumns(List<String> names) {
    StructType s = fixedColumns;
    for (String n : names) {
      ColumnPattern p = patterns.stream().filter(x -> x.regex().matcher(n).matches()).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("Column " + n + " matches no pattern of table " + table));
      s = s.add(n, p.type(), true);
    }
    return s;
  }

  /**
   * Checks a schema read back from storage against this description: same column names
   * and types (order and nullability aside, since Parquet readers move partition columns
   * last and mark every column nullable). Returns the problems found; empty when it matches.
   */
  public List<String> mismatches(StructType actual) {
    List<String> problems = new ArrayList<>();
    for (StructField f : fixedColumns.fields()) {
      if (!List.of(actual.fieldNames()).contains(f.name())) {
        problems.add("missing column " + f.name());
      } else if (!actual.apply(f.name()).dataType().sameType(f.dataType())) {
        problems.add("column " + f.name() + " is " + actual.apply(f.name()).dataType().simpleString()
            + ", described as " + f.dataType().simpleString());
      }
    }
    for (StructField f : actual.fields()) {
      boolean declared = List.of(fixedColumns.fieldNames()).contains(f.name());
      boolean patterned = patterns.stream().anyMatch(p -> p.regex().matcher(f.name()).matches()
          && p.type().sameType(f.dataType()));
      if (!declared && !patterned) {
        problems.add("undescribed column " + f.name() + " " + f.dataType().simpleString());
      }
    }
    return problems;
  }
}
