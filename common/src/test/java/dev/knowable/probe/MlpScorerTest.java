package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MlpScorerTest {

  @Test
  void blocksOfRowsGiveTheRowByRowNumbersBitForBit() {
    SplittableRandom random = new SplittableRandom(11);
    for (int[] shape : new int[][] {{64, 2048}, {7, 33}, {1, 1}}) {
      int d = shape[0];
      int h = shape[1];
      MlpScorer scorer = new MlpScorer(new MlpWeights(d, h, floats(h * d, random), floats(h, random),
          floats(2 * h, random), floats(2, random)));
      for (int n : new int[] {0, 1, MlpScorer.BLOCK - 1, MlpScorer.BLOCK, 2 * MlpScorer.BLOCK + 3}) {
        float[][] rows = new float[n][];
        for (int r = 0; r < n; r++) {
          rows[r] = floats(d, random);
        }
        double[] batched = scorer.probabilitiesOfClass1(rows);
        assertThat(batched).hasSize(n);
        for (int r = 0; r < n; r++) {
          assertThat(Double.doubleToRawLongBits(batched[r])).as("d=%d h=%d n=%d row %d", d, h, n, r)
              .isEqualTo(Double.doubleToRawLongBits(scorer.probabilityOfClass1(rows[r])));
        }
      }
    }
  }

  @Test
  void hand() {
    // h = 2: a = relu(W1 x + b1) = relu([1*2 + 0, -1*2 + 0.5]) = [2, 0]; logits = b2 + W2 a = [0 + 1*2, 0 + 3*2].
    MlpScorer scorer = new MlpScorer(new MlpWeights(1, 2, new float[] {1, -1}, new float[] {0, 0.5f},
        new float[] {1, 5, 3, 7}, new float[] {0, 0}));
    double expected = 1 / (1 + Math.exp(2.0 - 6.0));
    assertThat(scorer.probabilityOfClass1(new float[] {2})).isEqualTo(expected);
    assertThat(scorer.probabilitiesOfClass1(new float[][] {{2}, {2}})).containsExactly(expected, expected);
    assertThatThrownBy(() -> scorer.probabilitiesOfClass1(new float[][] {{1, 2}})).hasMessageContaining("length 2");
  }

  private static float[] floats(int n, SplittableRandom random) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return out;
  }
}
