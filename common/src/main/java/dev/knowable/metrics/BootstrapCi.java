package dev.knowable.metrics;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap confidence interval of the exact ROC AUC: resample with
 * replacement, recompute the AUC, take the 2.5% and 97.5% quantiles. Seeded, so a rerun
 * gives the same interval.
 *
 * <p>{@link #auc(double[], int[], String[], int, long)} resamples <b>groups</b>
 * (documents): positions of one document are correlated, and resampling them one by one
 * understates the uncertainty. Groups are taken in sorted order of their ids and rows
 * within a group in the order given, so the interval does not depend on how the rows
 * were delivered once the caller sorts them.
 */
public final class BootstrapCi {
  /** Two-sided 95% interval. */
  public static final double LEVEL = 0.95;

  /** The interval's bounds; NaN when it is undefined (no resamples, or one class only). */
  public record Interval(double low, double high) {}

  private BootstrapCi() {}

  /**
   * @param resamples number of bootstrap resamples; 0 gives (NaN, NaN)
   * @param seed the resampling seed
   */
  public static Interval auc(double[] scores, int[] labels, int resamples, long seed) {
    if (resamples <= 0 || Double.isNaN(RocAuc.exact(scores, labels))) {
      return new Interval(Double.NaN, Double.NaN);
    }
    int n = scores.length;
    SplittableRandom random = new SplittableRandom(seed);
    double[] aucs = new double[resamples];
    int valid = 0;
    double[] s = new double[n];
    int[] y = new int[n];
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < n; i++) {
        int pick = random.nextInt(n);
        s[i] = scores[pick];
        y[i] = labels[pick];
      }
      double auc = RocAuc.exact(s, y);
      // A resample holding one class only has no AUC: it is left out, not counted as 0.5.
      if (!Double.isNaN(auc)) {
        aucs[valid++] = auc;
      }
    }
    if (valid == 0) {
      return new Interval(Double.NaN, Double.NaN);
    }
    double[] sorted = Arrays.copyOf(aucs, valid);
    Arrays.sort(sorted);
    double tail = (1 - LEVEL) / 2;
    return new Interval(quantile(sorted, tail), quantile(sorted, 1 - tail));
  }

  /**
   * The document-level interval: each resample draws as many groups as there are, with
   * replacement, and takes all rows of each drawn group.
   *
   * @param groups the group (document) of each row
   */
  public static Interval auc(double[] scores, int[] labels, String[] groups, int resamples, long seed) {
    int n = scores.length;
    if (labels.length != n || groups.length != n) {
      throw new IllegalArgumentException("scores, labels and groups must have one entry per row; got " + n + ", "
          + labels.length + ", " + groups.length);
    }
    if (resamples <= 0 || Double.isNaN(RocAuc.exact(scores, labels))) {
      return new Interval(Double.NaN, Double.NaN);
    }
    java.util.TreeMap<String, java.util.List<Integer>> byGroup = new java.util.TreeMap<>();
    for (int i = 0; i < n; i++) {
      byGroup.computeIfAbsent(groups[i], k -> new java.util.ArrayList<>()).add(i);
    }
    int[][] members = byGroup.values().stream()
        .map(rows -> rows.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
    int g = members.length;
    SplittableRandom random = new SplittableRandom(seed);
    double[] aucs = new double[resamples];
    int valid = 0;
    double[] s = new double[n * 2];
    int[] y = new int[n * 2];
    for (int r = 0; r < resamples; r++) {
      int m = 0;
      for (int k = 0; k < g; k++) {
        for (int row : members[random.nextInt(g)]) {
          if (m == y.length) {
            s = Arrays.copyOf(s, m * 2);
            y = Arrays.copyOf(y, m * 2);
          }
          s[m] = scores[row];
          y[m] = labels[row];
          m++;
        }
      }
      double auc = RocAuc.exact(Arrays.copyOf(s, m), Arrays.copyOf(y, m));
      if (!Double.isNaN(auc)) {
        aucs[valid++] = auc;
      }
    }
    if (valid == 0) {
      return new Interval(Double.NaN, Double.NaN);
    }
    double[] sorted = Arrays.copyOf(aucs, valid);
    Arrays.sort(sorted);
    double tail = (1 - LEVEL) / 2;
    return new Interval(quantile(sorted, tail), quantile(sorted, 1 - tail));
  }

  /** Linear interpolation between order statistics (the common "type 7" quantile). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
