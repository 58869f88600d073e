package dev.knowable.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapCiTest {

  @Test
  void seededIntervalIsReproducibleAndBracketsTheEstimate() {
    Random random = new Random(7);
    int n = 400;
    double[] s = new double[n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
      s[i] = random.nextGaussian() + y[i];
    }
    BootstrapCi.Interval a = BootstrapCi.auc(s, y, 300, 11);
    BootstrapCi.Interval b = BootstrapCi.auc(s, y, 300, 11);
    double auc = RocAuc.exact(s, y);
    assertThat(a).as("same seed, same interval").isEqualTo(b);
    assertThat(a.low()).isLessThan(auc);
    assertThat(a.high()).isGreaterThan(auc);
    // Standard error of AUC ~0.75 with 200 per class is about 0.024: the 95% width is near 0.1.
    assertThat(a.high() - a.low()).isBetween(0.04, 0.2);
  }

  @Test
  void undefinedWithoutResamplesOrWithOneClass() {
    assertThat(BootstrapCi.auc(new double[] {1, 2}, new int[] {0, 1}, 0, 1).low()).isNaN();
    assertThat(BootstrapCi.auc(new double[] {1, 2}, new int[] {1, 1}, 50, 1).high()).isNaN();
  }

  @Test
  void quantileInterpolates() {
    assertThat(BootstrapCi.quantile(new double[] {0, 1, 2, 3, 4}, 0.5)).isEqualTo(2.0);
    assertThat(BootstrapCi.quantile(new double[] {0, 10}, 0.025)).isEqualTo(0.25);
  }
}
