package dev.knowable.jobs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Exact placement of rows on partitions by an integer slot column (computed with
 * {@link dev.knowable.work.WorkPlacement}), where hashing would put expensive work items
 * together: Spark's hash partitioning maps slot values to partitions by their hash, not
 * one to one, so the rows go through an RDD with the identity partitioner.
 */
public final class Slots {
  private Slots() {}

  /** Rows of {@code rows} on partition {@code slot} (0 .. partitions-1), same schema. */
  public static Dataset<Row> place(Dataset<Row> rows, String slotColumn, int partitions) {
    int index = rows.schema().fieldIndex(slotColumn);
    JavaRDD<Row> placed = rows.javaRDD().keyBy(r -> r.getInt(index)).partitionBy(new Identity(partitions)).values();
    return rows.sparkSession().createDataFrame(placed, rows.schema());
  }

  /** Partition p holds the rows whose key is p. */
  static final class Identity extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    Identity(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
      }
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      int slot = (Integer) key;
      if (slot < 0 || slot >= partitions) {
        throw new IllegalArgumentException("slot " + slot + " outside 0.." + (partitions - 1));
      }
      return slot;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Identity other && other.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /**
   * A group function over a partition whose rows are sorted so that each group's rows are
   * consecutive: calls {@code fn} once per group (its rows buffered, as a grouped shuffle
   * would hand them over) and concatenates the outputs.
   */
  public static MapPartitionsFunction<Row, Row> consecutiveGroups(MapFunction<Row, String> key,
      FlatMapGroupsFunction<String, Row, Row> fn) {
    return input -> new Iterator<>() {
      private Row pendingFirst;
      private Iterator<Row> out = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        try {
          while (!out.hasNext()) {
            if (pendingFirst == null && !input.hasNext()) {
              return false;
            }
            Row first = pendingFirst != null ? pendingFirst : input.next();
            pendingFirst = null;
            String k = key.call(first);
            List<Row> group = new ArrayList<>();
            group.add(first);
            while (input.hasNext()) {
              Row r = input.next();
              if (!key.call(r).equals(k)) {
                pendingFirst = r;
                break;
              }
              group.add(r);
            }
            out = fn.call(k, group.iterator());
          }
          return true;
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return out.next();
      }
    };
  }
}
