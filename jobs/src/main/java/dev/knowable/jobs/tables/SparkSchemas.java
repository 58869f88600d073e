package dev.knowable.jobs.tables;

import dev.knowable.schema.TableSchema;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Spark row layouts of the tables described in data-schemas/ ({@link TableSchema}). */
public final class SparkSchemas {
  private SparkSchemas() {}

  /** The declared fixed columns of a table, in the declared order (partition columns included). */
  public static StructType of(String table) {
    return fixedColumns(TableSchema.of(table));
  }

  /** {@link #of(String)} of a registry table. */
  public static StructType of(Table table) {
    return fixedColumns(table.schema());
  }

  public static StructType fixedColumns(TableSchema schema) {
    StructType s = new StructType();
    for (TableSchema.Column c : schema.columns()) {
      s = s.add(c.name(), DataType.fromDDL(c.type()), true);
    }
    return s;
  }

  /** The fixed columns followed by the given pattern columns (e.g. hidden_l2 of type array&lt;float&gt;). */
  public static StructType withPatternColumns(TableSchema schema, List<String> names) {
    return withPatternColumns(schema, names, null);
  }

  /**
   * The fixed columns followed by the given pattern columns, of {@code type} (one of the
   * pattern's declared types) or, when null, the pattern's first type.
   */
  public static StructType withPatternColumns(TableSchema schema, List<String> names, String type) {
    StructType s = fixedColumns(schema);
    for (String n : names) {
      TableSchema.ColumnPattern p = schema.patternOf(n).orElseThrow(() -> new IllegalArgumentException(
          "Column " + n + " matches no pattern of table " + schema.table()));
      if (type != null && !p.types().contains(type)) {
        throw new IllegalArgumentException("Column " + n + " of table " + schema.table() + " is declared as one of "
            + p.types() + ", not " + type);
      }
      s = s.add(n, DataType.fromDDL(type == null ? p.type() : type), true);
    }
    return s;
  }

  /**
   * Checks a schema read back from storage against the description: same column names
   * and types (order and nullability aside, since Parquet readers move partition columns
   * last and mark every column nullable). Returns the problems found; empty when it matches.
   */
  public static List<String> mismatches(TableSchema schema, StructType actual) {
    StructType fixed = fixedColumns(schema);
    List<String> problems = new ArrayList<>();
    List<String> actualNames = List.of(actual.fieldNames());
    for (StructField f : fixed.fields()) {
      if (!actualNames.contains(f.name())) {
        problems.add("missing column " + f.name());
      } else if (!actual.apply(f.name()).dataType().sameType(f.dataType())) {
        problems.add("column " + f.name() + " is " + actual.apply(f.name()).dataType().simpleString()
            + ", described as " + f.dataType().simpleString());
      }
    }
    List<String> declared = List.of(fixed.fieldNames());
    for (StructField f : actual.fields()) {
      boolean patterned = schema.patternOf(f.name())
          .map(p -> p.types().stream().anyMatch(t -> DataType.fromDDL(t).sameType(f.dataType()))).orElse(false);
      if (!declared.contains(f.name()) && !patterned) {
        problems.add("undescribed column " + f.name() + " " + f.dataType().simpleString());
      }
    }
    return problems;
  }

  /** {@link #mismatches(TableSchema, StructType)} for a registry table. */
  public static List<String> mismatches(Table table, StructType actual) {
    return mismatches(table.schema(), actual);
  }

  /** {@link #mismatches(TableSchema, StructType)} for a table by name. */
  public static List<String> mismatches(String table, StructType actual) {
    return mismatches(TableSchema.of(table), actual);
  }
}
