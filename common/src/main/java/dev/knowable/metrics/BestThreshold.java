package dev.knowable.metrics;

import java.util.Arrays;

/**
 * Threshold classifiers on a score: accuracy at a given threshold and the best threshold
 * on a set (the paper's BET, best entropy threshold, with score = H_S).
 *
 * <p>A {@link Threshold} predicts class 1 when {@code score >= threshold} (direction +1)
 * or when {@code score < threshold} (direction -1): for BET the sign of the relation
 * between small-model entropy and the label is not known in advance, so both are tried.
 */
public final class BestThreshold {
  /** A decision rule and the accuracy it reached on the set it was chosen on. */
  public record Threshold(double threshold, int direction, double accuracy) {
    public Threshold {
      if (direction != 1 && direction != -1) {
        throw new IllegalArgumentException("direction must be +1 or -1, got " + direction);
      }
    }

    /** The class this rule predicts for a score. */
    public int predict(double score) {
      boolean atOrAbove = score >= threshold;
      return (direction == 1) == atOrAbove ? 1 : 0;
    }
  }

  private BestThreshold() {}

  /** Fraction of positions whose label the rule predicts; NaN on an empty set. */
  public static double accuracy(double[] scores, int[] labels, double threshold, int direction) {
    if (scores.length == 0) {
      return Double.NaN;
    }
    Threshold rule = new Threshold(threshold, direction, Double.NaN);
    long correct = 0;
    for (int i = 0; i < scores.length; i++) {
      if (rule.predict(scores[i]) == labels[i]) {
        correct++;
      }
    }
    return (double) correct / scores.length;
  }

  /**
   * The rule with the highest accuracy on this set, over every threshold at a distinct
   * score value plus +infinity, in both directions. Ties go to the lowest threshold, then
   * to direction +1, so the choice is deterministic.
   *
   * @return the best rule, or null on an empty set
   */
  public static Threshold best(double[] scores, int[] labels) {
    int n = scores.length;
    if (n == 0) {
      return null;
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    long positives = Arrays.stream(labels).filter(y -> y == 1).count();
    // Sweep thresholds upward: at threshold t, direction +1 is right on the positives at or
    // above t and on the negatives below t.
    long positivesBelow = 0;
    long negativesBelow = 0;
    Threshold best = null;
    int i = 0;
    while (i <= n) {
      double t = i < n ? scores[order[i]] : Double.POSITIVE_INFINITY;
      long correctUp = (positives - positivesBelow) + negativesBelow;
      double accUp = (double) correctUp / n;
      double accDown = (double) (n - correctUp) / n;
      if (best == null || accUp > best.accuracy()) {
        best = new Threshold(t, 1, accUp);
      }
      if (accDown > best.accuracy()) {
        best = new Threshold(t, -1, accDown);
      }
      if (i == n) {
        break;
      }
      int j = i;
      while (j < n && Double.compare(scores[order[j]], t) == 0) {
        if (labels[order[j]] == 1) {
          positivesBelow++;
        } else {
          negativesBelow++;
        }
        j++;
      }
      i = j;
    }
    return best;
  }
}
