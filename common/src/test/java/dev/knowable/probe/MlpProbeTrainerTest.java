package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.metrics.RocAuc;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MlpProbeTrainerTest {
  static final int D = ProbeFeatureFixtures.D;
  private static final MlpSettings SMALL = new MlpSettings(32, 0.1, 1e-2, 64, 15, 3, 0);

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
    // min-delta 0: every lower loss is an improvement, so patience counts from the best epoch.
    assertThat(fit.epochsRun() == SMALL.maxEpochs() || fit.epochsRun() - fit.bestEpoch() == SMALL.patience())
        .as("stopped after %d epochs, best %d", fit.epochsRun(), fit.bestEpoch()).isTrue();
    assertThat(fit.converged()).isEqualTo(fit.epochsRun() - fit.bestEpoch() == SMALL.patience());
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
  void minDeltaStopsEarlyAndCapIsRecorded() {
    Random random = new Random(6);
    int[] y = new int[200];
    float[][] x = ProbeFeatureFixtures.features(200, y, true, random);
    // No epoch after the first can beat it by 10 nats: early stopping ends training after
    // exactly 1 + patience epochs, converged.
    MlpSettings coarse = new MlpSettings(32, 0.1, 1e-2, 64, 50, 3, 10.0);
    MlpProbeTrainer.Fit stopped = MlpProbeTrainer.train(x, y, x, y, coarse, 2);
    assertThat(stopped.epochsRun()).isEqualTo(4);
    assertThat(stopped.converged()).isTrue();
    // A cap of 2 epochs with patience 3 cannot stop early: recorded as not converged.
    MlpSettings capped = new MlpSettings(32, 0.1, 1e-2, 64, 2, 3, 0);
    MlpProbeTrainer.Fit cut = MlpProbeTrainer.train(x, y, x, y, capped, 2);
    assertThat(cut.epochsRun()).isEqualTo(2);
    assertThat(cut.converged()).isFalse();
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

  @Test
  void writtenOutGradientsEqualDjlAutograd() {
    // The trainer's forward + backward against DJL's autograd (PyTorch engine) on one
    // minibatch with a dropout mask: loss and every parameter gradient within 1e-5.
    Random random = new Random(21);
    int b = 6;
    int d = 5;
    int h = 4;
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
      ai.djl.ndarray.NDArray x = m.create(gaussian(random, b * d), new ai.djl.ndarray.types.Shape(b, d));
      float[] onehot = new float[b * 2];
      for (int i = 0; i < b; i++) {
        onehot[i * 2 + (i % 3 == 0 ? 1 : 0)] = 1f;
      }
      ai.djl.ndarray.NDArray y = m.create(onehot, new ai.djl.ndarray.types.Shape(b, 2));
      float[] maskValues = new float[b * h];
      for (int i = 0; i < maskValues.length; i++) {
        maskValues[i] = random.nextDouble() < 0.8 ? 1.25f : 0f;
      }
      ai.djl.ndarray.NDArray mask = m.create(maskValues, new ai.djl.ndarray.types.Shape(b, h));
      ai.djl.ndarray.NDArray w1 = m.create(gaussian(random, h * d), new ai.djl.ndarray.types.Shape(h, d));
      ai.djl.ndarray.NDArray b1 = m.create(gaussian(random, h), new ai.djl.ndarray.types.Shape(h));
      ai.djl.ndarray.NDArray w2 = m.create(gaussian(random, 2 * h), new ai.djl.ndarray.types.Shape(2, h));
      ai.djl.ndarray.NDArray b2 = m.create(gaussian(random, 2), new ai.djl.ndarray.types.Shape(2));
      ai.djl.ndarray.NDList ours = MlpProbeTrainer.gradients(x, y, mask, w1, b1, w2, b2);
      ai.djl.ndarray.NDArray[] params = {w1, b1, w2, b2};
      for (ai.djl.ndarray.NDArray p : params) {
        p.setRequiresGradient(true);
      }
      float autogradLoss;
      try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getEngine("PyTorch")
          .newGradientCollector()) {
        // The reference formulation: PyTorch's own cross-entropy on logits.
        ai.djl.ndarray.NDArray logits = x.matMul(w1.transpose()).add(b1).mul(mask).maximum(0f)
            .matMul(w2.transpose()).add(b2);
        ai.djl.ndarray.NDArray loss = ai.djl.training.loss.Loss.softmaxCrossEntropyLoss()
            .evaluate(new ai.djl.ndarray.NDList(y.argMax(1)), new ai.djl.ndarray.NDList(logits));
        autogradLoss = loss.getFloat();
        gc.backward(loss);
      }
      assertThat(ours.get(0).getFloat()).isCloseTo(autogradLoss, org.assertj.core.api.Assertions.within(1e-5f));
      for (int k = 0; k < params.length; k++) {
        float[] expected = params[k].getGradient().toFloatArray();
        float[] got = ours.get(k + 1).toFloatArray();
        assertThat(got).hasSameSizeAs(expected);
        for (int j = 0; j < got.length; j++) {
          assertThat(got[j]).as("parameter %d, entry %d", k, j)
              .isCloseTo(expected[j], org.assertj.core.api.Assertions.within(1e-5f));
        }
      }
    }
  }

  private static float[] gaussian(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) random.nextGaussian();
    }
    return out;
  }

  @Test
  void fastScorerAgreesWithTheReferenceScoring() {
    Random random = new Random(31);
    int[] y = new int[200];
    float[][] x = ProbeFeatureFixtures.features(200, y, true, random);
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(x, y, x, y, SMALL, 6);
    MlpScorer scorer = new MlpScorer(fit.weights());
    for (float[] row : x) {
      assertThat(scorer.probabilityOfClass1(row))
          .isCloseTo(fit.weights().probabilityOfClass1(row), org.assertj.core.api.Assertions.within(1e-5));
    }
  }
}
