package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MlpScorerTest {

  @Test
  void byHand() {
    // d = 1, h = 2: a = relu([1 * 2 + 0, -1 * 2 + 0.5]) = [2, 0]; logits = [0 + 1 * 2, 0 + 3 * 2].
    MlpScorer scorer = new MlpScorer(new MlpWeights(1, 2, new float[] {1, -1}, new float[] {0, 0.5f},
        new float[] {1, 5, 3, 7}, new float[] {0, 0}));
    assertThat(scorer.probabilityOfClass1(new float[] {2})).isEqualTo(1 / (1 + Math.exp(2.0 - 6.0)));
    assertThatThrownBy(() -> scorer.probabilityOfClass1(new float[] {1, 2})).hasMessageContaining("length 2");
  }

  /**
   * The scorer's numbers, bit for bit, are those of the textbook loop over the stored
   * (hidden-major) weights: each hidden unit summed over the inputs in order, in float, the
   * output layer in double over the positive units in order. Stored probes (probe_models)
   * and their metrics depend on these exact bits.
   */
  @Test
  void sameBitsAsTheTextbookLoop() {
    SplittableRandom random = new SplittableRandom(5);
    for (int[] shape : new int[][] {{64, 2048}, {7, 33}, {3, 1}}) {
      int d = shape[0];
      int h = shape[1];
      float[] w1 = floats(h * d, random);
      float[] b1 = floats(h, random);
      float[] w2 = floats(2 * h, random);
      float[] b2 = floats(2, random);
      MlpScorer scorer = new MlpScorer(new MlpWeights(d, h, w1, b1, w2, b2));
      for (int r = 0; r < 50; r++) {
        float[] x = floats(d, random);
        double expected = textbook(w1, b1, w2, b2, d, h, x);
        assertThat(Double.doubleToRawLongBits(scorer.probabilityOfClass1(x))).as("d=%d h=%d row %d", d, h, r)
            .isEqualTo(Double.doubleToRawLongBits(expected));
      }
    }
  }

  private static double textbook(float[] w1, float[] b1, float[] w2, float[] b2, int d, int h, float[] x) {
    double logit0 = b2[0];
    double logit1 = b2[1];
    for (int j = 0; j < h; j++) {
      float a = b1[j];
      for (int i = 0; i < d; i++) {
        a += w1[j * d + i] * x[i];
      }
      if (a > 0) {
        logit0 += w2[j] * a;
        logit1 += w2[h + j] * a;
      }
    }
    return 1.0 / (1.0 + Math.exp(logit0 - logit1));
  }

  private static float[] floats(int n, SplittableRandom random) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return out;
  }
}
