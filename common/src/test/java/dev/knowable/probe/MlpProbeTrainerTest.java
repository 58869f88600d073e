package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.metrics.RocAuc;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MlpProbeTrainerTest {
  static final int D = ProbeFeatureFixtures.D;
  private static final MlpSettings SMALL = new MlpSettings(32, 0.1, 1e-2, 64, 15, 3);

  private static double heldOutAuc(boolean separable, long seed) {
    Random random = new Random(seed);
    int[] yTrain = new int[800];
    int[] yVal = new int[200];
    int[] yTest = new int[600];
    float[][] xTrain = ProbeFeatureFixtures.features(800, yTrain, separable, random);
    float[][] xVal = ProbeFeatureFixtures.features(200, yVal, separable, random);
    float[][] xTest = ProbeFeatureFixtures.features(600, yTest, separable, random);
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(xTrain, yTrain, xVal, yVal, SMALL, 3);
    // The returned weights are the kept checkpoint: their val cross-entropy, recomputed
    // here from the weights, is the reported best; training stopped by patience or the cap.
    double loss = 0;
    for (int i = 0; i < xVal.length; i++) {
      double p = fit.weights().probabilityOfClass1(xVal[i]);
      loss -= Math.log(yVal[i] == 1 ? p : 1 - p);
    }
    assertThat(loss / xVal.length).isCloseTo(fit.bestValLoss(), org.assertj.core.data.Offset.offset(1e-4));
    assertThat(fit.epochsRun() == SMALL.maxEpochs() || fit.epochsRun() - fit.bestEpoch() == SMALL.patience())
        .as("stopped after %d epochs, best %d", fit.epochsRun(), fit.bestEpoch()).isTrue();
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
    float[][] x = ProbeFeatureFixtures.features(100, y, true, random);
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
    float[][] x = ProbeFeatureFixtures.features(300, y, true, random);
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(x, y, x, y, SMALL, 4);
    double loss = 0;
    for (int i = 0; i < x.length; i++) {
      double p1 = fit.weights().probabilityOfClass1(x[i]);
      loss -= Math.log(y[i] == 1 ? p1 : 1 - p1);
    }
    assertThat(loss / x.length).isCloseTo(fit.bestValLoss(), org.assertj.core.api.Assertions.within(1e-4));
  }

  @Test
  void nonFiniteValidationLossFailsWithAMessage() {
    java.util.Random random = new java.util.Random(5);
    int[] y = new int[64];
    float[][] x = ProbeFeatureFixtures.features(64, y, true, random);
    float[][] val = new float[16][];
    int[] valY = new int[16];
    for (int i = 0; i < val.length; i++) {
      val[i] = x[i].clone();
      val[i][0] = Float.NaN;
      valY[i] = y[i];
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MlpProbeTrainer.train(x, y, val, valY, SMALL, 1))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("validation loss was not finite")
        .hasMessageContaining("16 val rows");
  }
}
