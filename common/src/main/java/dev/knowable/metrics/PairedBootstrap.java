package dev.knowable.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
    String[] ids = groups.clone();
    Arrays.sort(ids);
    for (String g : ids) {
      byGroup.putIfAbsent(g, new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      byGroup.get(groups[i]).add(i);
    }
    List<int[]> members = new ArrayList<>();
    byGroup.values().forEach(rows -> members.add(rows.stream().mapToInt(Integer::intValue).toArray()));
    int g = members.size();
    if (resamples <= 0 || Double.isNaN(aucA) || Double.isNaN(aucB)) {
      return new Difference(aucA, aucB, aucA - aucB, Double.NaN, Double.NaN, g);
    }
    SplittableRandom random = new SplittableRandom(seed);
    double[] diffs = new double[resamples];
    int valid = 0;
    double[] sa = new double[n * 2];
    double[] sb = new double[n * 2];
    int[] sy = new int[n * 2];
    for (int r = 0; r < resamples; r++) {
      int m = 0;
      for (int k = 0; k < g; k++) {
        for (int row : members.get(random.nextInt(g))) {
          if (m == sy.length) {
            sa = Arrays.copyOf(sa, m * 2);
            sb = Arrays.copyOf(sb, m * 2);
            sy = Arrays.copyOf(sy, m * 2);
          }
          sa[m] = a[row];
          sb[m] = b[row];
          sy[m] = labels[row];
          m++;
        }
      }
      double da = RocAuc.exact(Arrays.copyOf(sa, m), Arrays.copyOf(sy, m));
      double db = RocAuc.exact(Arrays.copyOf(sb, m), Arrays.copyOf(sy, m));
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
