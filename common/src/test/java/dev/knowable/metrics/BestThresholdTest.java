package dev.knowable.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BestThresholdTest {

  @Test
  void findsTheBestThresholdUpward() {
    // Class 1 above 2.5 except one negative at 3: threshold 2.5 -> 5/6 right.
    double[] s = {1, 2, 3, 2.5, 4, 5};
    int[] y = {0, 0, 0, 1, 1, 1};
    BestThreshold.Threshold t = BestThreshold.best(s, y);
    assertThat(t.threshold()).isEqualTo(2.5);
    assertThat(t.direction()).isEqualTo(1);
    assertThat(t.accuracy()).isEqualTo(5.0 / 6);
    assertThat(BestThreshold.accuracy(s, y, 2.5, 1)).isEqualTo(5.0 / 6);
  }

  @Test
  void findsTheDownwardDirection() {
    double[] s = {1, 2, 3, 4};
    int[] y = {1, 1, 0, 0};
    BestThreshold.Threshold t = BestThreshold.best(s, y);
    assertThat(t.direction()).isEqualTo(-1);
    assertThat(t.threshold()).isEqualTo(3.0);
    assertThat(t.accuracy()).isEqualTo(1.0);
    assertThat(t.predict(2.9)).isEqualTo(1);
    assertThat(t.predict(3.0)).isEqualTo(0);
  }

  @Test
  void tiedScoresCannotBeSplit() {
    // All scores equal: the best any threshold can do is the majority class.
    double[] s = {1, 1, 1};
    int[] y = {1, 0, 1};
    assertThat(BestThreshold.best(s, y).accuracy()).isEqualTo(2.0 / 3);
    assertThat(BestThreshold.best(new double[0], new int[0])).isNull();
    assertThat(BestThreshold.accuracy(new double[0], new int[0], 0, 1)).isNaN();
  }
}
