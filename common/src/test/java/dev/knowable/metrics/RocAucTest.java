package dev.knowable.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RocAucTest {

  /** Independent O(n^2) definition: P(score of a positive > score of a negative), ties count 1/2. */
  private static double pairCount(double[] s, int[] y) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < s.length; i++) {
      for (int j = 0; j < s.length; j++) {
        if (y[i] == 1 && y[j] == 0) {
          pairs++;
          wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
        }
      }
    }
    return wins / pairs;
  }

  @Test
  void handComputedWithTies() {
    // Negatives 0.1, 0.4, 0.6; positives 0.4, 0.8. Pairs won by the positives:
    // 0.4 vs (0.1 win, 0.4 tie, 0.6 loss) = 1.5; 0.8 vs all = 3 -> 4.5 / 6 = 0.75.
    double[] s = {0.1, 0.4, 0.6, 0.4, 0.8};
    int[] y = {0, 0, 0, 1, 1};
    assertThat(RocAuc.exact(s, y)).isEqualTo(0.75);
  }

  @Test
  void perfectInvertedAndConstantScores() {
    assertThat(RocAuc.exact(new double[] {1, 2, 3, 4}, new int[] {0, 0, 1, 1})).isEqualTo(1.0);
    assertThat(RocAuc.exact(new double[] {1, 2, 3, 4}, new int[] {1, 1, 0, 0})).isEqualTo(0.0);
    assertThat(RocAuc.exact(new double[] {7, 7, 7, 7}, new int[] {1, 0, 1, 0})).isEqualTo(0.5);
  }

  @Test
  void undefinedWithOneClass() {
    assertThat(RocAuc.exact(new double[] {1, 2}, new int[] {1, 1})).isNaN();
    assertThat(RocAuc.exact(new double[0], new int[0])).isNaN();
  }

  @Test
  void equalsPairCountOnRandomDataWithTies() {
    Random random = new Random(42);
    for (int trial = 0; trial < 50; trial++) {
      int n = 2 + random.nextInt(300);
      double[] s = new double[n];
      int[] y = new int[n];
      for (int i = 0; i < n; i++) {
        // Few distinct values: many ties, within and across classes.
        s[i] = random.nextInt(1 + random.nextInt(20)) / 4.0;
        y[i] = random.nextInt(3) == 0 ? 1 : 0;
      }
      y[0] = 0;
      y[1] = 1;
      assertThat(RocAuc.exact(s, y)).as("trial %d", trial).isCloseTo(pairCount(s, y), within(1e-12));
    }
  }

  @Test
  void preparedWeightedAucEqualsExactOnTheRepeatedRows() {
    Random random = new Random(8);
    for (int trial = 0; trial < 50; trial++) {
      int n = 1 + random.nextInt(40);
      double[] s = new double[n];
      int[] y = new int[n];
      int[] w = new int[n];
      List<Double> rs = new ArrayList<>();
      List<Integer> ry = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        s[i] = random.nextInt(6) / 2.0;
        y[i] = random.nextInt(2);
        w[i] = random.nextInt(4);
        for (int k = 0; k < w[i]; k++) {
          rs.add(s[i]);
          ry.add(y[i]);
        }
      }
      double expected = RocAuc.exact(rs.stream().mapToDouble(Double::doubleValue).toArray(),
          ry.stream().mapToInt(Integer::intValue).toArray());
      double got = new RocAuc.Prepared(s, y).auc(w);
      if (Double.isNaN(expected)) {
        assertThat(got).isNaN();
      } else {
        assertThat(got).as("trial %d", trial).isEqualTo(expected);
      }
    }
  }
}
