package dev.knowable.jobs.runtime;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.unsafe.hash.Murmur3_x86_32;

/**
 * Exact placement of rows on partitions by an integer slot column (computed with
 * {@link dev.knowable.work.WorkPlacement}), where hashing would put expensive work items
 * together. Spark's hash partitioning sends a row to pmod(murmur3(key, 42), n), so each slot
 * is replaced by an integer key that this very function maps to the slot's partition: the
 * rows stay in Spark's binary row format through the shuffle (an RDD with its own
 * partitioner would serialize them as Java objects: 7 s more on the demo's probe rows).
 */
public final class Slots {
  /** Spark's seed for hash partitioning (HashPartitioning, Murmur3Hash). */
  private static final int SPARK_HASH_SEED = 42;

  private Slots() {}

  /**
   * Rows of {@code rows} on partition {@code slot} (0 .. partitions-1), same schema. Spark's
   * adaptive execution leaves a repartition with an explicit number of partitions as it is.
   */
  public static Dataset<Row> place(Dataset<Row> rows, String slotColumn, int partitions) {
    int[] keys = hashKeys(partitions);
    Column key = element_at(array(java.util.Arrays.stream(keys).mapToObj(k -> lit(k)).toArray(Column[]::new)),
        col(slotColumn).plus(1));
    Column checked = when(col(slotColumn).between(0, partitions - 1), key)
        .otherwise(raise_error(concat(lit("slot "), col(slotColumn).cast("string"),
            lit(" outside 0.." + (partitions - 1)))));
    return rows.withColumn(SLOT_KEY, checked).repartition(partitions, col(SLOT_KEY)).drop(SLOT_KEY);
  }

  private static final String SLOT_KEY = "_knowable_slot_key";

  /** For each partition p, the smallest int k >= 0 that Spark's hash partitioning sends to p. */
  static int[] hashKeys(int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    int[] keys = new int[partitions];
    java.util.Arrays.fill(keys, -1);
    int found = 0;
    for (int k = 0; found < partitions; k++) {
      int p = Math.floorMod(Murmur3_x86_32.hashInt(k, SPARK_HASH_SEED), partitions);
      if (keys[p] < 0) {
        keys[p] = k;
        found++;
      }
    }
    return keys;
  }
}
