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
    // U statistic by a merge of the two sorted classes: each positive counts the negatives
    // below it, and half of those tied with it (the average-rank rule). Integer and
    // half-integer sums are exact in a double.
    double[] pos = new double[(int) n1];
    double[] neg = new double[(int) n0];
    int p = 0;
    int q = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] == 1) {
        pos[p++] = scores[i];
      } else {
        neg[q++] = scores[i];
      }
    }
    Arrays.sort(pos);
    Arrays.sort(neg);
    double u = 0;
    int below = 0;
    int belowOrTied = 0;
    for (double s : pos) {
      while (below < n0 && Double.compare(neg[below], s) < 0) {
        below++;
      }
      if (belowOrTied < below) {
        belowOrTied = below;
      }
      while (belowOrTied < n0 && Double.compare(neg[belowOrTied], s) <= 0) {
        belowOrTied++;
      }
      u += below + 0.5 * (belowOrTied - below);
    }
    return u / ((double) n0 * n1);
  }

  /**
   * Scores and labels sorted once, for many AUCs of the same rows under different integer
   * weights (bootstrap resamples: a row's weight is how often it was drawn). Each AUC is
   * then one pass over the tie groups, with no sort. Equal to {@link #exact} on the rows
   * repeated by their weights.
   */
  public static final class Prepared {
    private final int[] tieGroup;
    private final int[] labels;
    private final double[] posW;
    private final double[] negW;

    public Prepared(double[] scores, int[] labels) {
      if (scores.length != labels.length) {
        throw new IllegalArgumentException("scores and labels differ in length: " + scores.length + " vs "
            + labels.length);
      }
      int n = scores.length;
      double[] sorted = scores.clone();
      Arrays.sort(sorted);
      // Distinct values in Double.compare order: the tie groups.
      int distinct = 0;
      for (int i = 0; i < n; i++) {
        if (i == 0 || Double.compare(sorted[i], sorted[distinct - 1]) != 0) {
          sorted[distinct++] = sorted[i];
        }
      }
      double[] values = Arrays.copyOf(sorted, distinct);
      this.tieGroup = new int[n];
      for (int i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1) {
          throw new IllegalArgumentException("labels must be 0 or 1, got " + labels[i]);
        }
        tieGroup[i] = Arrays.binarySearch(values, scores[i]);
      }
      this.labels = labels.clone();
      this.posW = new double[distinct];
      this.negW = new double[distinct];
    }

    /** The AUC with each row counted weights[i] times; NaN when a class has no weight. Not thread-safe. */
    public double auc(int[] weights) {
      Arrays.fill(posW, 0);
      Arrays.fill(negW, 0);
      double totalPos = 0;
      double totalNeg = 0;
      for (int i = 0; i < tieGroup.length; i++) {
        int w = weights[i];
        if (w == 0) {
          continue;
        }
        if (labels[i] == 1) {
          posW[tieGroup[i]] += w;
          totalPos += w;
        } else {
          negW[tieGroup[i]] += w;
          totalNeg += w;
        }
      }
      if (totalPos == 0 || totalNeg == 0) {
        return Double.NaN;
      }
      double u = 0;
      double negBelow = 0;
      for (int t = 0; t < posW.length; t++) {
        u += posW[t] * (negBelow + 0.5 * negW[t]);
        negBelow += negW[t];
      }
      return u / (totalPos * totalNeg);
    }
  }
}
