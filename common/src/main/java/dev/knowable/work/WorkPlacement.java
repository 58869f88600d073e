package dev.knowable.work;

/**
 * Places work items of unequal cost (ICLT documents) on a fixed number of partitions so that
 * the partitions cost about the same: with one partition per tokens shard, the demo's ICLT
 * tasks ran 6 to 21 s, leaving one core idle at the end.
 */
public final class WorkPlacement {
  private WorkPlacement() {}

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
}
