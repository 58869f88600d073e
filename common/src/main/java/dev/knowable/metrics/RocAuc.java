package dev.knowable.metrics;

import java.util.Arrays;

/**
 * Exact area under the ROC curve, positive class = 1 (the aleatoric class of the gap
 * labels), computed with the rank (Mann-Whitney) formula: no binning, ties between scores
 * get their average rank, which counts a tied positive/negative pair as one half.
 *
 * <pre>AUC = (sum of positive ranks - n1 (n1 + 1) / 2) / (n0 n1)</pre>
 */
public final class RocAuc {
  private RocAuc() {}

  /**
   * @param scores higher means "more likely class 1"
   * @param labels 0 or 1, same length as scores
   * @return the AUC, or NaN when one class is absent (the AUC is undefined then)
   * @throws IllegalArgumentException when lengths differ or a label is not 0/1
   */
  public static double exact(double[] scores, int[] labels) {
    if (scores.length != labels.length) {
      throw new IllegalArgumentException("scores and labels differ in length: " + scores.length + " vs "
          + labels.length);
    }
    int n = scores.length;
    long n1 = 0;
    for (int y : labels) {
      if (y != 0 && y != 1) {
        throw new IllegalArgumentException("labels must be 0 or 1, got " + y);
      }
      n1 += y;
    }
    long n0 = n - n1;
    if (n0 == 0 || n1 == 0) {
      return Double.NaN;
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    double positiveRankSum = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && Double.compare(scores[order[j + 1]], scores[order[i]]) == 0) {
        j++;
      }
      // Ranks i+1 .. j+1 (1-based) shared by the tie group: each gets their mean.
      double averageRank = (i + 1 + j + 1) / 2.0;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] == 1) {
          positiveRankSum += averageRank;
        }
      }
      i = j + 1;
    }
    return (positiveRankSum - n1 * (n1 + 1) / 2.0) / ((double) n0 * n1);
  }
}
