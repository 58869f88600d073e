package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.hidden.Half;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfRowsTest {
  /** Random rows whose values are fp16 already (as hidden states stored as float16 are). */
  private static float[][] halfExact(int n, int d, int[] labels, Random random) {
    float[][] x = ProbeFeatureFixtures.features(n, labels, true, random);
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        out[i][j] = Half.fromFloat16(Half.toFloat16(x[i][j % x[i].length] * (1 + j / 7f)));
      }
    }
    return out;
  }

  private static HalfRows held(float[][] x) {
    HalfRows rows = new HalfRows(x.length == 0 ? 0 : x[0].length, 1);
    for (float[] r : x) {
      rows.add(r);
    }
    return rows;
  }

  @Test
  void everyPatternDecodesAsHalfDoesAndFloatsRoundWithinHalfAnUlp() {
    HalfRows rows = new HalfRows(1, 4);
    Random random = new Random(5);
    for (int k = 0; k < 20000; k++) {
      // Normal fp16 range: relative rounding error at most 2^-11 (half a unit in the last of 11 bits).
      float v = (float) ((random.nextBoolean() ? 1 : -1) * Math.exp(random.nextDouble() * 20 - 9));
      rows.add(new float[] {v});
      float back = rows.row(k)[0];
      assertThat(Math.abs(back - v)).isLessThanOrEqualTo(Math.abs(v) * 0x1p-11f);
    }
    HalfRows all = new HalfRows(1, 1 << 16);
    for (int b = 0; b < 1 << 16; b++) {
      all.add(new float[] {Half.fromFloat16((short) b)});
      float expected = Half.fromFloat16((short) b);
      float got = all.row(b)[0];
      // Same value; NaN patterns stay NaN.
      assertThat(Float.isNaN(got) ? Float.isNaN(expected) : Float.floatToIntBits(got) == Float.floatToIntBits(expected))
          .as("pattern %04x", b).isTrue();
    }
  }

  @Test
  void clampsBeyondTheRangeAndCountsIt() {
    HalfRows rows = new HalfRows(3, 1);
    rows.add(new float[] {1e6f, -70000f, 65504f});
    assertThat(rows.row(0)).containsExactly(65504f, -65504f, 65504f);
    assertThat(rows.clamped()).isEqualTo(2);
    assertThatThrownBy(() -> rows.add(new float[2])).hasMessageContaining("expected 3");
  }

  @Test
  void reorderedSharesTheRowsInTheNewOrder() {
    int[] y = new int[5];
    float[][] x = halfExact(5, 6, y, new Random(1));
    HalfRows rows = held(x);
    HalfRows r = rows.reordered(new int[] {4, 0, 2});
    assertThat(r.rows()).isEqualTo(3);
    assertThat(r.row(0)).containsExactly(x[4]);
    assertThat(r.row(1)).containsExactly(x[0]);
    assertThat(r.row(2)).containsExactly(x[2]);
    assertThat(HalfRows.bytes(1_000_000, 4096)).isEqualTo(1_000_000L * (2 * 4096 + 20));
  }

  @Test
  void storedFloat16BytesGiveTheSameRowsAsTheirFloats() {
    int[] y = new int[40];
    float[][] x = halfExact(40, 9, y, new Random(3));
    HalfRows fromBytes = new HalfRows(9, 1);
    for (float[] row : x) {
      fromBytes.addHalfBytes((byte[]) dev.knowable.hidden.HiddenDtype.FLOAT16.encode(row, new long[1]));
    }
    for (int i = 0; i < x.length; i++) {
      assertThat(fromBytes.row(i)).containsExactly(x[i]);
    }
    assertThatThrownBy(() -> fromBytes.addHalfBytes(new byte[17])).hasMessageContaining("expected 18");
  }

  /** fp16-exact features: the compact rows give the trainers the same numbers, so the same bits out. */
  @Test
  void trainersGiveTheSameBitsFromHalfRowsAsFromFloats() {
    Random random = new Random(11);
    int[] ty = new int[600];
    int[] vy = new int[150];
    float[][] tx = halfExact(600, 24, ty, random);
    float[][] vx = halfExact(150, 24, vy, random);
    double[] grid = {1.0, 0.01};
    LogisticProbeTrainer.Fit a = LogisticProbeTrainer.trainDense(tx, ty, vx, vy, grid, 50, 1e-7);
    LogisticProbeTrainer.Fit b = LogisticProbeTrainer.trainDense(held(tx), ty, held(vx), vy, grid, 50, 1e-7);
    assertThat(b.weights()).containsExactly(a.weights());
    assertThat(b.intercept()).isEqualTo(a.intercept());
    assertThat(b.regParam()).isEqualTo(a.regParam());

    MlpSettings mlp = new MlpSettings(16, 0.1, 1e-2, 64, 3, 2, 0);
    MlpProbeTrainer.Fit m = MlpProbeTrainer.train(tx, ty, vx, vy, mlp, 7);
    MlpProbeTrainer.Fit h = MlpProbeTrainer.train(held(tx), ty, held(vx), vy, mlp, 7, ai.djl.Device.cpu());
    assertThat(h.weights().w1()).containsExactly(m.weights().w1());
    assertThat(h.weights().b2()).containsExactly(m.weights().b2());
    assertThat(h.bestValLoss()).isEqualTo(m.bestValLoss());
    assertThat(Arrays.equals(h.weights().w2(), m.weights().w2())).isTrue();
  }
}
