package dev.knowable.iclt;

/**
 * ICLT scores of one prompt under one separator. With k candidates c_1..c_k (the prompt's
 * top-k next tokens), p(c_j) their probabilities after the prompt and q_j the next-token
 * distribution after {@code prompt + c_j + separator + prompt}:
 *
 * <pre>
 *   P(x=j)         = p(c_j) / sum_j' p(c_j')
 *   P(y=m | x=j)   = q_j(c_m) / sum_m' q_j(c_m')
 *   P(y=m)         = sum_j P(x=j) P(y=m | x=j)
 *   H(Y)           = -sum_m P(y=m) ln P(y=m)
 *   H(Y|X)         = sum_j P(x=j) H(P(y | x=j))
 *   mi             = H(Y) - H(Y|X)
 *   miRatio        = mi / H(Y), defined as 0 when H(Y) = 0 (a single certain outcome)
 *   minEntropy     = min_j H(q_j), the full next-token entropy over the vocabulary
 *   hintRepeat     = sum_j P(x=j) q_j(c_j)
 * </pre>
 *
 * All in nats; 0 ln 0 counts as 0. A candidate with p(c_j) = 0 has P(x=j) = 0 and adds
 * nothing to mi or hintRepeat (it still counts in minEntropy, which ranges over all hints).
 * A row with q_j(c_m) = 0 for every m is read as uniform over the k candidates: the
 * model gave the support no mass, so it says nothing about which candidate follows.
 * Rounding can make H(Y) - H(Y|X) a hair below 0; mi is clamped to [0, H(Y)], where the
 * exact value always lies.
 *
 * @param hY H(Y), entropy of the marginal over candidates
 * @param hYGivenX H(Y|X)
 */
public record IcltScores(double mi, double miRatio, double hY, double hYGivenX, double minEntropy,
    double hintRepeat) {

  /**
   * Computes the scores.
   *
   * @param candidateProbs p(c_j), length k >= 1, not all 0
   * @param q q[j][m] = q_j(c_m), k x k
   * @param qEntropy full next-token entropy of each q_j, length k
   * @throws IllegalArgumentException on mismatched shapes, negative or non-finite inputs,
   *     or candidate probabilities that are all 0
   */
  public static IcltScores of(double[] candidateProbs, double[][] q, double[] qEntropy) {
    int k = candidateProbs.length;
    if (k == 0 || q.length != k || qEntropy.length != k) {
      throw new IllegalArgumentException("Need k >= 1 candidates with a k x k q and k entropies; got k = " + k
          + ", " + q.length + " q rows, " + qEntropy.length + " entropies");
    }
    double[] px = normalized(candidateProbs, "candidate probabilities");
    if (px == null) {
      throw new IllegalArgumentException("All candidate probabilities are 0");
    }
    double[] py = new double[k];
    double hYGivenX = 0;
    double hintRepeat = 0;
    double minEntropy = Double.POSITIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      if (q[j].length != k) {
        throw new IllegalArgumentException("q row " + j + " has " + q[j].length + " entries, expected " + k);
      }
      double[] row = normalized(q[j], "q row " + j);
      if (row == null) {
        row = new double[k];
        java.util.Arrays.fill(row, 1.0 / k);
      }
      for (int m = 0; m < k; m++) {
        py[m] += px[j] * row[m];
      }
      hYGivenX += px[j] * entropy(row);
      hintRepeat += px[j] * q[j][j];
      minEntropy = Math.min(minEntropy, qEntropy[j]);
    }
    double hY = entropy(py);
    double mi = Math.min(hY, Math.max(0, hY - hYGivenX));
    double ratio = hY == 0 ? 0 : mi / hY;
    return new IcltScores(mi, ratio, hY, hYGivenX, minEntropy, hintRepeat);
  }

  /** The vector divided by its sum; null when the sum is 0. */
  private static double[] normalized(double[] v, String what) {
    double sum = 0;
    for (double x : v) {
      if (!(x >= 0) || Double.isInfinite(x)) {
        throw new IllegalArgumentException(what + " must be finite and >= 0, got " + x);
      }
      sum += x;
    }
    if (sum == 0) {
      return null;
    }
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] / sum;
    }
    return out;
  }

  /** Entropy in nats of a distribution, 0 ln 0 = 0. */
  static double entropy(double[] dist) {
    double h = 0;
    for (double x : dist) {
      if (x > 0) {
        h -= x * Math.log(x);
      }
    }
    return h;
  }
}
