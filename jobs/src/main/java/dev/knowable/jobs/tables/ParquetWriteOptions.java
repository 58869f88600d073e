package dev.knowable.jobs.tables;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Per-column Parquet writer settings for the project's tables. Float and double columns
 * (entropies, probabilities, log-probs) hold almost only distinct values: Parquet's writer
 * still builds a dictionary for each of their pages until it gives up and falls back to
 * plain encoding, so the files end up the same and the hashing is wasted. In the demo's
 * score-large profile that hashing (fastutil Float2IntLinkedOpenHashMap) was about a third of
 * the executors' Java samples. Binary columns (small_scores' 16-bit hidden states, one value
 * per position and layer) are all distinct as well. Dictionary encoding stays on for every
 * other column (ids, strings).
 */
public final class ParquetWriteOptions {
  private ParquetWriteOptions() {}

  /** Writer options ("parquet.enable.dictionary#column.path" = false) for the float and binary columns of {@code schema}. */
  public static Map<String, String> of(StructType schema) {
    Map<String, String> options = new LinkedHashMap<>();
    for (StructField f : schema.fields()) {
      if (isFloating(f.dataType()) || f.dataType().equals(DataTypes.BinaryType)) {
        options.put("parquet.enable.dictionary#" + f.name(), "false");
      } else if (f.dataType() instanceof ArrayType a && isFloating(a.elementType())) {
        // Spark writes arrays in Parquet's three-level list layout: <name>.list.element.
        options.put("parquet.enable.dictionary#" + f.name() + ".list.element", "false");
      }
    }
    return options;
  }

  private static boolean isFloating(DataType t) {
    return t.equals(DataTypes.FloatType) || t.equals(DataTypes.DoubleType);
  }
}
