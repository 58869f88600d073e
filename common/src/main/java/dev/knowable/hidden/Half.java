package dev.knowable.hidden;

/**
 * IEEE 754 binary16 (fp16) and bfloat16 conversions (Java 17 has no
 * {@code Float.floatToFloat16}). float -> half rounds to nearest, ties to even, with
 * subnormals, signed zeros, infinities and NaN (payload's top bits kept, made quiet);
 * half -> float is exact. Halves travel as the 16 bits in a {@code short}.
 */
public final class Half {
  /** The largest finite fp16 value, 65504. */
  public static final float FLOAT16_MAX = 65504f;
  /** The largest finite bfloat16 value, (2 - 2^-7) x 2^127. */
  public static final float BFLOAT16_MAX = Float.intBitsToFloat(0x7f7f0000);

  private Half() {}

  /** fp16 bits of {@code f}, rounded to nearest even; |f| >= 65520 gives an infinity. */
  public static short toFloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) {
      // Infinity, or NaN: keep the payload's top 10 bits and set the quiet bit.
      return (short) (abs == 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
    }
    if (abs >= 0x477ff000) {
      // >= 65520, the midpoint between 65504 and 2^16: rounds (to even) out of range.
      return (short) (sign | 0x7c00);
    }
    if (abs >= 0x38800000) {
      // Normal half (>= 2^-14): rebias the exponent (127 -> 15) and round off 13 bits.
      int v = abs - 0x38000000;
      return (short) (sign | ((v + 0xfff + ((v >>> 13) & 1)) >>> 13));
    }
    if (abs < 0x33000000) {
      // < 2^-25 (half the smallest subnormal; 2^-25 itself ties to 0): a signed zero.
      return (short) sign;
    }
    // Subnormal half: in units of 2^-24, the 24-bit significand shifted right by 126 - exponent.
    int shift = 126 - (abs >>> 23);
    int significand = (abs & 0x7fffff) | 0x800000;
    int q = significand >>> shift;
    int rest = significand & ((1 << shift) - 1);
    int halfway = 1 << (shift - 1);
    if (rest > halfway || (rest == halfway && (q & 1) == 1)) {
      q++;
    }
    return (short) (sign | q);
  }

  /** The float value of fp16 bits (exact). */
  public static float fromFloat16(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** bfloat16 bits of {@code f} (the top 16 bits of the float, rounded to nearest even). */
  public static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  /** The float value of bfloat16 bits (exact). */
  public static float fromBfloat16(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
