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
    RocAuc.Prepared prepared = new RocAuc.Prepared(scores, labels);
    double[] aucs = new double[resamples];
    int valid = 0;
    int[] weights = new int[n];
    for (int r = 0; r < resamples; r++) {
      java.util.Arrays.fill(weights, 0);
      for (int i = 0; i < n; i++) {
        weights[random.nextInt(n)]++;
      }
      double auc = prepared.auc(weights);
      // A resample holding one class only has no AUC: it is left out, not counted as 0.5.
      if (!Double.isNaN(auc)) {
        aucs[valid++] = auc;
      }
    }
    return interval(aucs, valid);
  }

  /** The percentile interval of the first {@code valid} resampled AUCs. */
  static Interval interval(double[] aucs, int valid) {
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
    int[] groupOfRow = groupIndex(groups);
    int g = 0;
    for (int x : groupOfRow) {
      g = Math.max(g, x + 1);
    }
    SplittableRandom random = new SplittableRandom(seed);
    RocAuc.Prepared prepared = new RocAuc.Prepared(scores, labels);
    double[] aucs = new double[resamples];
    int valid = 0;
    int[] drawn = new int[g];
    int[] weights = new int[n];
    for (int r = 0; r < resamples; r++) {
      java.util.Arrays.fill(drawn, 0);
      for (int k = 0; k < g; k++) {
        drawn[random.nextInt(g)]++;
      }
      for (int i = 0; i < n; i++) {
        weights[i] = drawn[groupOfRow[i]];
      }
      double auc = prepared.auc(weights);
      if (!Double.isNaN(auc)) {
        aucs[valid++] = auc;
      }
    }
    return interval(aucs, valid);
  }

  /** Each row's group as an index into the sorted distinct group ids. */
  static int[] groupIndex(String[] groups) {
    String[] ids = java.util.Arrays.stream(groups).distinct().sorted().toArray(String[]::new);
    java.util.Map<String, Integer> index = new java.util.HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      index.put(ids[i], i);
    }
    int[] out = new int[groups.length];
    for (int i = 0; i < groups.length; i++) {
      out[i] = index.get(groups[i]);
    }
    return out;
  }

  /** Linear interpolation between order statistics (the common "type 7" quantile). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
