package dev.knowable.metrics;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap confidence interval of the exact ROC AUC: resample the evaluation
 * positions with replacement, recompute the AUC, take the 2.5% and 97.5% quantiles.
 * Seeded, so a rerun gives the same interval.
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

  /** Linear interpolation between order statistics (the common "type 7" quantile). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
