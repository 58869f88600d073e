package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.metrics.RocAuc;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MlpProbeTrainerTest {
  static final int D = 16;
  private static final MlpSettings SMALL = new MlpSettings(32, 0.1, 1e-2, 64, 15, 3);

  /** Gaussian features; class 1 shifts the first coordinates when separable, labels random otherwise. */
  static float[][] features(int n, int[] labels, boolean separable, Random random) {
    float[][] x = new float[n][D];
    for (int i = 0; i < n; i++) {
      labels[i] = random.nextInt(2);
      for (int j = 0; j < D; j++) {
        x[i][j] = (float) random.nextGaussian();
      }
      if (separable) {
        float shift = labels[i] == 1 ? 2.5f : -2.5f;
        x[i][0] += shift;
        x[i][1] -= shift;
      }
    }
    return x;
  }

  private static double heldOutAuc(boolean separable, long seed) {
    Random random = new Random(seed);
    int[] yTrain = new int[800];
    int[] yVal = new int[200];
    int[] yTest = new int[600];
    float[][] xTrain = features(800, yTrain, separable, random);
    float[][] xVal = features(200, yVal, separable, random);
    float[][] xTest = features(600, yTest, separable, random);
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(xTrain, yTrain, xVal, yVal, SMALL, 3);
    assertThat(fit.bestEpoch()).isBetween(1, fit.epochsRun());
    double[] scores = new double[xTest.length];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = fit.weights().probabilityOfClass1(xTest[i]);
    }
    return RocAuc.exact(scores, yTest);
  }

  @Test
  void separableSetIsLearned() {
    assertThat(heldOutAuc(true, 1)).isGreaterThan(0.95);
  }

  @Test
  void shuffledLabelsStayAtChance() {
    assertThat(heldOutAuc(false, 2)).isBetween(0.4, 0.6);
  }

  @Test
  void sameSeedSameWeights() {
    Random random = new Random(5);
    int[] y = new int[100];
    float[][] x = features(100, y, true, random);
    MlpProbeTrainer.Fit a = MlpProbeTrainer.train(x, y, x, y, SMALL, 9);
    MlpProbeTrainer.Fit b = MlpProbeTrainer.train(x, y, x, y, SMALL, 9);
    assertThat(a.weights().w1()).containsExactly(b.weights().w1());
    assertThat(a.bestValLoss()).isEqualTo(b.bestValLoss());
  }

  @Test
  void javaScoringMatchesTheTrainedNetwork() {
    // The best checkpoint's validation loss (computed by DJL in eval mode) must equal the
    // cross-entropy of the exported weights scored in Java: checks the weight layout.
    Random random = new Random(8);
    int[] y = new int[300];
    float[][] x = features(300, y, true, random);
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(x, y, x, y, SMALL, 4);
    double loss = 0;
    for (int i = 0; i < x.length; i++) {
      double p1 = fit.weights().probabilityOfClass1(x[i]);
      loss -= Math.log(y[i] == 1 ? p1 : 1 - p1);
    }
    assertThat(loss / x.length).isCloseTo(fit.bestValLoss(), org.assertj.core.api.Assertions.within(1e-4));
  }
}
