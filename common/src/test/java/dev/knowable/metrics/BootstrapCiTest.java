package dev.knowable.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapCiTest {

  /** Hanley and McNeil (1982): the standard error of an AUC A with n1 positives and n0 negatives. */
  private static double hanleyMcNeil(double a, int n1, int n0) {
    double q1 = a / (2 - a);
    double q2 = 2 * a * a / (1 + a);
    return Math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / ((double) n1 * n0));
  }

  @Test
  void widthMatchesTheAnalyticalStandardError() {
    // Binormal scores, 400 per class, AUC about 0.76: the 95% interval should be close to
    // +-1.96 standard errors. A 90% interval (5/95 percentiles) would be 16% narrower and fail.
    Random random = new Random(7);
    int n = 800;
    double[] s = new double[n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
      s[i] = random.nextGaussian() + 1.0 * y[i];
    }
    double auc = RocAuc.exact(s, y);
    BootstrapCi.Interval a = BootstrapCi.auc(s, y, 4000, 11);
    assertThat(a).as("same seed, same interval").isEqualTo(BootstrapCi.auc(s, y, 4000, 11));
    double expected = 2 * 1.96 * hanleyMcNeil(auc, 400, 400);
    assertThat((a.high() - a.low()) / expected).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.08));
    assertThat((a.low() + a.high()) / 2).isCloseTo(auc, org.assertj.core.data.Offset.offset(0.01));
  }

  @Test
  void singletonGroupsReproduceThePositionBootstrapExactly() {
    // One row per group, group ids in row order: the same draws, the same interval.
    Random random = new Random(3);
    int n = 300;
    double[] s = new double[n];
    int[] y = new int[n];
    String[] g = new String[n];
    for (int i = 0; i < n; i++) {
      y[i] = random.nextInt(2);
      s[i] = random.nextGaussian() + 0.7 * y[i];
      g[i] = String.format("doc%05d", i);
    }
    assertThat(BootstrapCi.auc(s, y, g, 500, 5)).isEqualTo(BootstrapCi.auc(s, y, 500, 5));
  }

  @Test
  void documentsWiderThanPositionsWhenPositionsRepeat() {
    // Each document holds 5 copies of one scored row: 5 positions carry the information of
    // one. Resampling positions pretends there are 5x as many independent rows, so its
    // interval is about sqrt(5) = 2.24 times too narrow; resampling documents is not.
    Random random = new Random(9);
    int docs = 200;
    int copies = 5;
    double[] s = new double[docs * copies];
    int[] y = new int[docs * copies];
    String[] g = new String[docs * copies];
    double[] sDoc = new double[docs];
    int[] yDoc = new int[docs];
    for (int d = 0; d < docs; d++) {
      yDoc[d] = d % 2;
      sDoc[d] = random.nextGaussian() + yDoc[d];
      for (int c = 0; c < copies; c++) {
        s[d * copies + c] = sDoc[d];
        y[d * copies + c] = yDoc[d];
        g[d * copies + c] = "d" + d;
      }
    }
    BootstrapCi.Interval byDoc = BootstrapCi.auc(s, y, g, 2000, 1);
    BootstrapCi.Interval byPos = BootstrapCi.auc(s, y, 2000, 1);
    BootstrapCi.Interval oneRowPerDoc = BootstrapCi.auc(sDoc, yDoc, 2000, 1);
    double wDoc = byDoc.high() - byDoc.low();
    assertThat(wDoc / (byPos.high() - byPos.low())).isBetween(1.9, 2.6);
    // And it matches the honest interval of one row per document.
    assertThat(wDoc / (oneRowPerDoc.high() - oneRowPerDoc.low())).isCloseTo(1.0,
        org.assertj.core.data.Offset.offset(0.1));
  }

  @Test
  void groupIntervalDoesNotDependOnRowOrderWithinSortedGroups() {
    double[] s = {0.1, 0.9, 0.4, 0.6, 0.3, 0.8, 0.2, 0.7};
    int[] y = {0, 1, 0, 1, 1, 0, 0, 1};
    String[] g = {"a", "a", "b", "b", "c", "c", "d", "d"};
    // Groups given in another order, rows within each group kept in the same order.
    int[] perm = {6, 7, 2, 3, 0, 1, 4, 5};
    double[] s2 = new double[8];
    int[] y2 = new int[8];
    String[] g2 = new String[8];
    for (int i = 0; i < 8; i++) {
      s2[i] = s[perm[i]];
      y2[i] = y[perm[i]];
      g2[i] = g[perm[i]];
    }
    assertThat(BootstrapCi.auc(s2, y2, g2, 300, 2)).isEqualTo(BootstrapCi.auc(s, y, g, 300, 2));
  }

  @Test
  void undefinedWithoutResamplesOrWithOneClass() {
    assertThat(BootstrapCi.auc(new double[] {1, 2}, new int[] {0, 1}, 0, 1).low()).isNaN();
    assertThat(BootstrapCi.auc(new double[] {1, 2}, new int[] {1, 1}, 50, 1).high()).isNaN();
    assertThat(BootstrapCi.auc(new double[] {1, 2}, new int[] {1, 1}, new String[] {"a", "b"}, 50, 1).high())
        .isNaN();
  }

  @Test
  void quantileInterpolates() {
    assertThat(BootstrapCi.quantile(new double[] {0, 1, 2, 3, 4}, 0.5)).isEqualTo(2.0);
    assertThat(BootstrapCi.quantile(new double[] {0, 10}, 0.025)).isEqualTo(0.25);
  }
}
