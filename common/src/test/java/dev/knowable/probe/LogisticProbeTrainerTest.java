package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LogisticProbeTrainerTest {
  private static final int MAX_ITER = 500;
  private static final double TOL = 1e-9;

  @Test
  void oneBinaryFeatureRecoversTheClassFrequencies() {
    // x = 0: labels 0, 0, 1 -> P = 1/3; x = 1: labels 1, 1, 1, 0 -> P = 3/4. With an
    // intercept and a negligible penalty the maximum-likelihood fit reproduces them.
    float[][] x = {{0}, {0}, {0}, {1}, {1}, {1}, {1}};
    int[] y = {0, 0, 1, 1, 1, 1, 0};
    LogisticProbeTrainer.Fit dense = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0],
        new double[] {1e-10}, MAX_ITER, TOL);
    assertThat(dense.probabilityOfClass1(new float[] {0})).isCloseTo(1.0 / 3, offset(1e-6));
    assertThat(dense.probabilityOfClass1(new float[] {1})).isCloseTo(3.0 / 4, offset(1e-6));
    // The same data one-hot (slot 0: x = 0, slot 1: x = 1): the same probabilities.
    int[][] active = {{0}, {0}, {0}, {1}, {1}, {1}, {1}};
    LogisticProbeTrainer.Fit oneHot = LogisticProbeTrainer.train(LogisticProbeTrainer.oneHot(active, 2), y,
        LogisticProbeTrainer.oneHot(new int[0][], 2), new int[0], new double[] {1e-10}, MAX_ITER, TOL);
    assertThat(oneHot.probabilityOfClass1(new int[] {0})).isCloseTo(1.0 / 3, offset(1e-5));
    assertThat(oneHot.probabilityOfClass1(new int[] {1})).isCloseTo(3.0 / 4, offset(1e-5));
  }

  @Test
  void fitSatisfiesTheOptimalityConditionsOfThePenalisedObjective() {
    // Recomputed here, in the original feature space: the gradient of
    // mean log-loss + lambda/2 sum_j (w_j sd_j)^2 must vanish at the returned weights.
    Random random = new Random(4);
    int n = 500;
    int d = 6;
    float[][] x = new float[n][d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      double m = 0;
      for (int j = 0; j < d; j++) {
        x[i][j] = (float) (random.nextGaussian() * (j + 1) + j);
        m += (j % 2 == 0 ? 0.4 : -0.3) * x[i][j];
      }
      y[i] = random.nextDouble() < 1 / (1 + Math.exp(-m + 1)) ? 1 : 0;
    }
    double lambda = 0.05;
    LogisticProbeTrainer.Fit fit = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0],
        new double[] {lambda}, MAX_ITER, TOL);
    double[] mean = new double[d];
    double[] sd2 = new double[d];
    for (float[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j] / (double) n;
      }
    }
    for (float[] row : x) {
      for (int j = 0; j < d; j++) {
        sd2[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / (n - 1.0);
      }
    }
    double[] grad = new double[d];
    double gradB = 0;
    for (int i = 0; i < n; i++) {
      double r = fit.probabilityOfClass1(x[i]) - y[i];
      gradB += r / n;
      for (int j = 0; j < d; j++) {
        grad[j] += r * x[i][j] / n;
      }
    }
    assertThat(gradB).isCloseTo(0, offset(1e-7));
    for (int j = 0; j < d; j++) {
      assertThat(grad[j] + lambda * fit.weights()[j] * sd2[j]).as("d/dw_%d", j).isCloseTo(0, offset(1e-6));
    }
    assertThat(fit.converged()).isTrue();
  }

  @Test
  void rescalingAFeatureDoesNotChangeThePredictions() {
    Random random = new Random(5);
    int n = 300;
    float[][] x = new float[n][3];
    float[][] scaled = new float[n][3];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = random.nextInt(2);
      for (int j = 0; j < 3; j++) {
        x[i][j] = (float) (random.nextGaussian() + (j == 0 ? y[i] : 0));
        scaled[i][j] = j == 0 ? x[i][j] * 1000 : x[i][j];
      }
    }
    LogisticProbeTrainer.Fit a = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0],
        new double[] {0.01}, MAX_ITER, TOL);
    LogisticProbeTrainer.Fit b = LogisticProbeTrainer.trainDense(scaled, y, new float[0][], new int[0],
        new double[] {0.01}, MAX_ITER, TOL);
    for (int i = 0; i < 20; i++) {
      assertThat(b.probabilityOfClass1(scaled[i])).isCloseTo(a.probabilityOfClass1(x[i]), offset(1e-6));
    }
  }

  @Test
  void separableDataGivesFiniteWeightsAndValidationPicksThePenalty() {
    // Perfectly separable train rows: without a penalty the weights would grow without
    // bound. Every grid value gives a finite fit; the kept one has the lowest val loss.
    Random random = new Random(6);
    float[][] train = new float[200][2];
    int[] ty = new int[200];
    float[][] val = new float[200][2];
    int[] vy = new int[200];
    for (float[][] set : new float[][][] {train, val}) {
      int[] labels = set == train ? ty : vy;
      for (int i = 0; i < set.length; i++) {
        labels[i] = i % 2;
        // Val has label noise: overconfident fits pay for it.
        set[i][0] = (float) ((labels[i] == 1 ? 1 : -1) * (0.5 + random.nextDouble()));
        set[i][1] = (float) random.nextGaussian();
        if (set == val && i % 10 == 0) {
          labels[i] = 1 - labels[i];
        }
      }
    }
    double[] grid = {1e-4, 1e-3, 1e-2, 1e-1, 1};
    LogisticProbeTrainer.Fit fit = LogisticProbeTrainer.trainDense(train, ty, val, vy, grid, MAX_ITER, TOL);
    for (double w : fit.weights()) {
      assertThat(Double.isFinite(w)).isTrue();
    }
    int argmin = 0;
    for (int g = 1; g < grid.length; g++) {
      if (fit.valLosses()[g] < fit.valLosses()[argmin]) {
        argmin = g;
      }
    }
    assertThat(fit.regParam()).isEqualTo(grid[argmin]);
    // The val losses differ across the grid (the choice is not vacuous), and the kept
    // fit's val loss is the one a fit at that penalty alone gives.
    assertThat(fit.valLosses()[0]).isNotCloseTo(fit.valLosses()[4], offset(1e-3));
    LogisticProbeTrainer.Fit alone = LogisticProbeTrainer.trainDense(train, ty, val, vy,
        new double[] {fit.regParam()}, MAX_ITER, TOL);
    for (int i = 0; i < 10; i++) {
      assertThat(alone.probabilityOfClass1(val[i])).isCloseTo(fit.probabilityOfClass1(val[i]), offset(1e-5));
    }
  }

  @Test
  void deterministicAndWithoutValTheSmallestPenalty() {
    float[][] x = {{0, 1}, {1, 0}, {1, 1}, {0, 0}, {2, 1}, {1, 2}};
    int[] y = {0, 1, 1, 0, 1, 0};
    double[] grid = {0.1, 0.001, 1};
    LogisticProbeTrainer.Fit a = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0], grid, 100, 1e-8);
    LogisticProbeTrainer.Fit b = LogisticProbeTrainer.trainDense(x, y, new float[0][], new int[0], grid, 100, 1e-8);
    assertThat(a.weights()).isEqualTo(b.weights());
    assertThat(a.intercept()).isEqualTo(b.intercept());
    assertThat(a.regParam()).isEqualTo(0.001);
  }

  @Test
  void badInputIsRefused() {
    assertThatThrownBy(() -> LogisticProbeTrainer.oneHot(new int[][] {{3}}, 2))
        .hasMessageContaining("feature index 3 outside [0, 2)");
    assertThatThrownBy(() -> LogisticProbeTrainer.trainDense(new float[0][], new int[0], new float[0][], new int[0],
        new double[] {1}, 10, 1e-6)).hasMessageContaining("no training rows");
  }
}
