package dev.knowable.hidden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfTest {
  /** The value of fp16 bits from the definition (sign, 5-bit exponent, 10-bit fraction), in double. */
  private static double definitionFloat16(int h) {
    int e = (h >>> 10) & 0x1f;
    int m = h & 0x3ff;
    double s = (h & 0x8000) != 0 ? -1 : 1;
    if (e == 0x1f) {
      return m == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
    }
    return s * (e == 0 ? Math.scalb((double) m, -24) : Math.scalb((double) (1024 + m), e - 25));
  }

  @Test
  void everyFloat16SurvivesTheRoundTripAndMatchesItsDefinition() {
    for (int h = 0; h < 65536; h++) {
      float f = Half.fromFloat16((short) h);
      double want = definitionFloat16(h);
      if (Double.isNaN(want)) {
        assertThat(f).as("bits %04x", h).isNaN();
        short back = Half.toFloat16(f);
        // NaN stays NaN with its sign and payload (made quiet).
        assertThat(back & 0xfe00 | 0x0200).isEqualTo((h | 0x0200) & 0xfe00);
        assertThat(back & 0x1ff).isEqualTo(h & 0x1ff);
        assertThat(Float.isNaN(Half.fromFloat16(back))).isTrue();
      } else {
        assertThat((double) f).as("bits %04x", h).isEqualTo(want);
        assertThat(Float.floatToRawIntBits(f) >>> 31).isEqualTo(h >>> 15);
        assertThat(Half.toFloat16(f) & 0xffff).as("bits %04x", h).isEqualTo(h);
      }
    }
  }

  @Test
  void everyBfloat16SurvivesTheRoundTrip() {
    for (int b = 0; b < 65536; b++) {
      float f = Half.fromBfloat16((short) b);
      if (Float.isNaN(f)) {
        assertThat(Float.isNaN(Half.fromBfloat16(Half.toBfloat16(f)))).isTrue();
      } else {
        assertThat(Half.toBfloat16(f) & 0xffff).as("bits %04x", b).isEqualTo(b);
      }
    }
  }

  /**
   * Brute force: the finite value of the format nearest to x (ties to the even bit pattern),
   * or infinity where x is at least the midpoint between the largest finite value and the
   * next power of two (IEEE: rounding as if the exponent were unbounded).
   */
  private static int bruteForce(float x, boolean bfloat) {
    double best = Double.POSITIVE_INFINITY;
    int bestBits = -1;
    double maxFinite = bfloat ? Half.BFLOAT16_MAX : Half.FLOAT16_MAX;
    double overflow = bfloat ? Math.scalb(1.0, 128) : 65536.0;
    for (int h = 0; h < 65536; h++) {
      double v = bfloat ? Half.fromBfloat16((short) h) : definitionFloat16(h);
      if (Double.isNaN(v) || Double.isInfinite(v)) {
        continue;
      }
      double d = Math.abs(v - x);
      if (d < best || (d == best && (h & 1) == 0 && (bestBits & 1) == 1)) {
        best = d;
        bestBits = h;
      }
    }
    // The virtual next value after the largest finite one (even significand) stands for infinity.
    double dOver = Math.abs(Math.copySign(overflow, x) - x);
    if (Math.abs(x) > maxFinite && (dOver < best || dOver == best)) {
      return (x > 0 ? 0 : 0x8000) | (bfloat ? 0x7f80 : 0x7c00);
    }
    // Signed zeros: a negative x that rounds to zero gives -0.
    if (best == Math.abs(x) && (bestBits & 0x7fff) == 0) {
      return x < 0 || Float.floatToRawIntBits(x) < 0 ? 0x8000 : 0;
    }
    return bestBits;
  }

  private static float[] randomFloats(long seed, int n) {
    Random r = new Random(seed);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      float f;
      switch (i % 4) {
        case 0: // any bit pattern but NaN
          do {
            f = Float.intBitsToFloat(r.nextInt());
          } while (Float.isNaN(f));
          break;
        case 1: // log-uniform over fp16's range and beyond: subnormals, normals, overflow
          f = (float) (Math.scalb(1.0 + r.nextDouble(), r.nextInt(46) - 28) * (r.nextBoolean() ? 1 : -1));
          break;
        case 2: // exact midpoints between neighbouring fp16 values: ties
          int h = r.nextInt(0x7bff);
          f = (float) ((definitionFloat16(h) + definitionFloat16(h + 1)) / 2) * (r.nextBoolean() ? 1 : -1);
          break;
        default: // hidden-state-like values
          f = (float) (r.nextGaussian() * 4);
      }
      out[i] = f;
    }
    return out;
  }

  @Test
  void randomFloatsRoundToTheNearestFloat16TiesToEven() {
    for (float x : randomFloats(11, 800)) {
      assertThat(Half.toFloat16(x) & 0xffff).as("x = %s", x).isEqualTo(bruteForce(x, false));
    }
    // Edges: the overflow midpoint, the subnormal midpoint, the smallest normal.
    for (float x : new float[] {65504f, 65519.996f, 65520f, -65520f, 0x1p-25f, Math.nextUp(0x1p-25f), 0x1p-14f,
        Math.nextDown(0x1p-14f), 0x1.8p-24f, 0x1.4p-24f, Float.MIN_VALUE, -0f, 0f}) {
      assertThat(Half.toFloat16(x) & 0xffff).as("x = %s", x).isEqualTo(bruteForce(x, false));
    }
  }

  @Test
  void randomFloatsRoundToTheNearestBfloat16TiesToEven() {
    float[] xs = randomFloats(12, 400);
    for (float x : xs) {
      assertThat(Half.toBfloat16(x) & 0xffff).as("x = %s", x).isEqualTo(bruteForce(x, true));
    }
    // Ties: the midpoint between two bfloat16 values goes to the even one.
    assertThat(Half.toBfloat16(Float.intBitsToFloat(0x3f808000)) & 0xffff).isEqualTo(0x3f80);
    assertThat(Half.toBfloat16(Float.intBitsToFloat(0x3f818000)) & 0xffff).isEqualTo(0x3f82);
  }

  @Test
  void float16StorageClampsAndCountsOutOfRangeValues() {
    long[] clamped = new long[1];
    byte[] b = (byte[]) HiddenDtype.FLOAT16.encode(new float[] {1e5f, -7e4f, 65510f, 1f,
        Float.POSITIVE_INFINITY}, clamped);
    assertThat(clamped[0]).as("1e5 and -7e4 overflow; 65510 rounds to 65504 and infinity stays").isEqualTo(2);
    float[] s = HiddenDtype.FLOAT16.decodeBytes(b);
    assertThat(s[0]).isEqualTo(65504f);
    assertThat(s[1]).isEqualTo(-65504f);
    assertThat(s[2]).isEqualTo(65504f);
    assertThat(s[3]).isEqualTo(1f);
    assertThat(s[4]).isInfinite();
    long[] none = new long[1];
    HiddenDtype.BFLOAT16.encode(new float[] {1e5f, -7e4f, 3e38f}, none);
    assertThat(none[0]).isZero();
  }

  @Test
  void sixteenBitStatesAreTwoLittleEndianBytesPerValue() {
    // 1.0 = 0x3c00 in fp16 and 0x3f80 in bf16; -2.0 = 0xc000 and 0xc000: low byte first.
    assertThat((byte[]) HiddenDtype.FLOAT16.encode(new float[] {1f, -2f}, new long[1]))
        .containsExactly(0x00, 0x3c, 0x00, (byte) 0xc0);
    assertThat((byte[]) HiddenDtype.BFLOAT16.encode(new float[] {1f, -2f}, new long[1]))
        .containsExactly((byte) 0x80, 0x3f, 0x00, (byte) 0xc0);
    // Every pattern survives the byte form and decodes like its 16 bits.
    for (HiddenDtype dtype : new HiddenDtype[] {HiddenDtype.FLOAT16, HiddenDtype.BFLOAT16}) {
      byte[] all = new byte[2 * 65536];
      for (int p = 0; p < 65536; p++) {
        all[2 * p] = (byte) p;
        all[2 * p + 1] = (byte) (p >>> 8);
      }
      float[] got = dtype.decodeBytes(all);
      for (int p = 0; p < 65536; p++) {
        assertThat(HiddenDtype.bitsAt(all, p)).isEqualTo((short) p);
        assertThat(Float.floatToIntBits(got[p])).as("%s %04x", dtype, p)
            .isEqualTo(Float.floatToIntBits(dtype.decodeBits((short) p)));
      }
      float[] xs = randomFloats(3, 500);
      float[] back = dtype.decodeBytes((byte[]) dtype.encode(xs, new long[1]));
      for (int i = 0; i < xs.length; i++) {
        // Beyond the dtype's range values are clamped (tested above); inside it the bytes hold the rounded value.
        float max = dtype == HiddenDtype.FLOAT16 ? Half.FLOAT16_MAX : Half.BFLOAT16_MAX;
        if (Math.abs(xs[i]) <= max) {
          short bits = dtype == HiddenDtype.FLOAT16 ? Half.toFloat16(xs[i]) : Half.toBfloat16(xs[i]);
          assertThat(Float.floatToIntBits(back[i])).as("%s %s", dtype, xs[i])
              .isEqualTo(Float.floatToIntBits(dtype.decodeBits(bits)));
        }
      }
    }
    assertThatThrownBy(() -> HiddenDtype.FLOAT16.decodeBytes(new byte[3])).hasMessageContaining("odd number of bytes");
  }
}
