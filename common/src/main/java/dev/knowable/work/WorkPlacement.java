package dev.knowable.work;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Places work items of unequal cost (probe fits, ICLT documents) on a fixed number of
 * partitions so that the partitions cost about the same. Spark hands out partitions in
 * index order; with hashed placement a few expensive items landing together make one task
 * run long after the others finished (on the demo: 8 s of a 2-core probe stage with one
 * core idle).
 */
public final class WorkPlacement {
  private WorkPlacement() {}

  /**
   * Longest processing time first: items in decreasing cost, each onto the partition with
   * the least cost so far (ties: the lower index). The largest partition costs at most
   * 4/3 of the best possible placement. Deterministic: equal costs keep their input order.
   *
   * @param costs the estimated cost of each item (finite, not negative)
   * @param partitions how many partitions (at least 1)
   * @return the partition of each item, in input order
   */
  public static int[] longestFirst(double[] costs, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    for (double c : costs) {
      if (!(c >= 0) || Double.isInfinite(c)) {
        throw new IllegalArgumentException("costs must be finite and not negative: " + Arrays.toString(costs));
      }
    }
    Integer[] order = IntStream.range(0, costs.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -costs[i]).thenComparingInt(i -> i));
    double[] load = new double[partitions];
    int[] out = new int[costs.length];
    for (int i : order) {
      int best = 0;
      for (int p = 1; p < partitions; p++) {
        if (load[p] < load[best]) {
          best = p;
        }
      }
      out[i] = best;
      load[best] += costs[i];
    }
    return out;
  }

  /**
   * The partition of the item ranked {@code rank} (0 = most expensive) when ranked items are
   * dealt back and forth over the partitions (0, 1, .., n-1, n-1, .., 0, 0, 1, ..): each
   * partition gets one item of every tier of 2n, so costs even out without a global view
   * of the loads. Used where the ranking is computed by Spark.
   */
  public static int serpentine(long rank, int partitions) {
    if (partitions < 1 || rank < 0) {
      throw new IllegalArgumentException("rank must be >= 0 and partitions >= 1, got " + rank + ", " + partitions);
    }
    int r = (int) (rank % (2L * partitions));
    return r < partitions ? r : 2 * partitions - 1 - r;
  }

  /** The cost of the most loaded partition of a placement. */
  public static double maxLoad(double[] costs, int[] placement, int partitions) {
    double[] load = new double[partitions];
    for (int i = 0; i < costs.length; i++) {
      load[placement[i]] += costs[i];
    }
    return Arrays.stream(load).max().orElse(0);
  }
}
