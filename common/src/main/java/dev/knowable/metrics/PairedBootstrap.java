package dev.knowable.metrics;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Paired comparison of two scores on the same evaluation rows: AUC(a) - AUC(b), with a
 * percentile bootstrap interval that resamples <b>groups</b> (documents), not rows.
 * Positions of one document are correlated, so resampling them one by one understates
 * the uncertainty; both scores are recomputed on the same resampled rows, so what the two
 * share (which documents happened to be drawn) cancels out of the difference.
 *
 * <p>Seeded and independent of row order: groups are taken in sorted order of their ids
 * before resampling.
 */
public final class PairedBootstrap {

  /**
   * @param difference AUC(a) - AUC(b) on all rows
   * @param low 2.5% percentile of the resampled differences (NaN when undefined)
   * @param high 97.5% percentile
   * @param groups the number of groups (documents) resampled
   */
  public record Difference(double aucA, double aucB, double difference, double low, double high, int groups) {}

  private PairedBootstrap() {}

  /**
   * @param a the first score per row
   * @param b the second score per row (the baseline)
   * @param labels 0/1 per row (positive = 1)
   * @param groups the group (document) of each row
   * @param resamples bootstrap resamples; 0 gives a NaN interval
   */
  public static Difference aucDifference(double[] a, double[] b, int[] labels, String[] groups, int resamples,
      long seed) {
    int n = labels.length;
    if (a.length != n || b.length != n || groups.length != n) {
      throw new IllegalArgumentException("a, b, labels and groups must have one entry per row; got " + a.length
          + ", " + b.length + ", " + n + ", " + groups.length);
    }
    double aucA = RocAuc.exact(a, labels);
    double aucB = RocAuc.exact(b, labels);
    int[] groupOfRow = BootstrapCi.groupIndex(groups);
    int g = 0;
    for (int x : groupOfRow) {
      g = Math.max(g, x + 1);
    }
    if (resamples <= 0 || Double.isNaN(aucA) || Double.isNaN(aucB)) {
      return new Difference(aucA, aucB, aucA - aucB, Double.NaN, Double.NaN, g);
    }
    SplittableRandom random = new SplittableRandom(seed);
    RocAuc.Prepared pa = new RocAuc.Prepared(a, labels);
    RocAuc.Prepared pb = new RocAuc.Prepared(b, labels);
    double[] diffs = new double[resamples];
    int valid = 0;
    int[] drawn = new int[g];
    int[] weights = new int[n];
    for (int r = 0; r < resamples; r++) {
      Arrays.fill(drawn, 0);
      for (int k = 0; k < g; k++) {
        drawn[random.nextInt(g)]++;
      }
      for (int i = 0; i < n; i++) {
        weights[i] = drawn[groupOfRow[i]];
      }
      double da = pa.auc(weights);
      double db = pb.auc(weights);
      // A resample holding one class only has no AUC: it is left out.
      if (!Double.isNaN(da) && !Double.isNaN(db)) {
        diffs[valid++] = da - db;
      }
    }
    if (valid == 0) {
      return new Difference(aucA, aucB, aucA - aucB, Double.NaN, Double.NaN, g);
    }
    double[] sorted = Arrays.copyOf(diffs, valid);
    Arrays.sort(sorted);
    double tail = (1 - BootstrapCi.LEVEL) / 2;
    return new Difference(aucA, aucB, aucA - aucB, BootstrapCi.quantile(sorted, tail),
        BootstrapCi.quantile(sorted, 1 - tail), g);
  }
}
