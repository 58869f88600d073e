package dev.knowable.hidden;

import java.util.Locale;

/**
 * How small_scores stores a hidden state ({@code knowable.score.hidden-dtype}).
 *
 * <ul>
 *   <li>{@code float32}: {@code array<float>}, the model's values as they are.</li>
 *   <li>{@code float16}: {@code binary}, 2 bytes per value, little-endian IEEE fp16 bit
 *       patterns (rounded to nearest even; relative error at most 2^-11 for |x| in
 *       [2^-14, 65504]). Finite values beyond +-65504 are clamped to +-65504 and counted.</li>
 *   <li>{@code bfloat16}: {@code binary}, 2 bytes per value, little-endian, the top 16 bits
 *       of the float (rounded to nearest even; relative error at most 2^-8, float32's range).</li>
 * </ul>
 *
 * <p>Why one binary value per state and not {@code array<smallint>} (Spark has no half type):
 * Spark's Parquet writer handles array elements one call at a time, with repetition levels and
 * dictionary hashing, which in the demo's score-small profile cost twice the model's forward
 * pass; one binary value per layer is a single call (BENCHMARKS.md section 2). The bytes are what
 * numpy's {@code frombuffer(b, '<f2')} and torch's {@code frombuffer} read. Tables written before
 * as {@code array<smallint>} (the 16 bits read as a signed integer) are still decoded
 * ({@link #decode}, {@link #decodeBits}).
 */
public enum HiddenDtype {
  FLOAT32("float32", "array<float>"),
  FLOAT16("float16", "binary"),
  BFLOAT16("bfloat16", "binary");

  private final String configName;
  private final String sqlType;

  HiddenDtype(String configName, String sqlType) {
    this.configName = configName;
    this.sqlType = sqlType;
  }

  /** The name used in settings and manifests: float32, float16 or bfloat16. */
  public String configName() {
    return configName;
  }

  /** The Spark SQL DDL type of a stored hidden-state column. */
  public String sqlType() {
    return sqlType;
  }

  public static HiddenDtype parse(String name) {
    for (HiddenDtype d : values()) {
      if (d.configName.equals(name.trim().toLowerCase(Locale.ROOT))) {
        return d;
      }
    }
    throw new IllegalArgumentException("must be float32, float16 or bfloat16, got '" + name + "'");
  }

  /**
   * The stored form of one hidden state: the array itself (float32) or a new byte[] of
   * 16-bit patterns, two bytes per value, little-endian.
   *
   * @param clamped its element 0 is increased by the number of finite values that were out
   *     of the dtype's range and stored as the largest finite value of their sign
   */
  public Object encode(float[] v, long[] clamped) {
    switch (this) {
      case FLOAT32:
        return v;
      case FLOAT16: {
        byte[] out = new byte[2 * v.length];
        for (int i = 0; i < v.length; i++) {
          float x = v[i];
          if (Math.abs(x) > Half.FLOAT16_MAX && !Float.isInfinite(x)) {
            // Out of fp16's range (about 65520 and beyond would round to an infinity): clamp.
            if (Half.toFloat16(x) != (short) (x > 0 ? 0x7bff : 0xfbff)) {
              clamped[0]++;
            }
            x = Math.copySign(Half.FLOAT16_MAX, x);
          }
          put(out, i, Half.toFloat16(x));
        }
        return out;
      }
      default: {
        byte[] out = new byte[2 * v.length];
        for (int i = 0; i < v.length; i++) {
          float x = v[i];
          if (Math.abs(x) > Half.BFLOAT16_MAX && !Float.isInfinite(x)) {
            if (Half.toBfloat16(x) != (short) (x > 0 ? 0x7f7f : 0xff7f)) {
              clamped[0]++;
            }
            x = Math.copySign(Half.BFLOAT16_MAX, x);
          }
          put(out, i, Half.toBfloat16(x));
        }
        return out;
      }
    }
  }

  private static void put(byte[] out, int i, short bits) {
    out[2 * i] = (byte) bits;
    out[2 * i + 1] = (byte) (bits >>> 8);
  }

  /** The 16-bit pattern of value {@code i} of a stored binary hidden state. */
  public static short bitsAt(byte[] stored, int i) {
    return (short) ((stored[2 * i] & 0xff) | (stored[2 * i + 1] << 8));
  }

  /** The float values of a stored binary hidden state (float16 or bfloat16 only). */
  public float[] decodeBytes(byte[] stored) {
    if (this == FLOAT32) {
      throw new IllegalStateException("float32 hidden states are stored as array<float>, not binary");
    }
    if (stored.length % 2 != 0) {
      throw new IllegalArgumentException("a " + configName + " hidden state has an odd number of bytes: " + stored.length);
    }
    float[] out = new float[stored.length / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = decodeBits(bitsAt(stored, i));
    }
    return out;
  }

  /** The float value of a stored element of an array column (a Float for float32, a Short for the older array&lt;smallint&gt; form). */
  public float decode(Object stored) {
    switch (this) {
      case FLOAT32:
        return (Float) stored;
      case FLOAT16:
        return Half.fromFloat16((Short) stored);
      default:
        return Half.fromBfloat16((Short) stored);
    }
  }

  /** The float value of a stored 16-bit pattern (float16 or bfloat16 only). */
  public float decodeBits(short bits) {
    if (this == FLOAT32) {
      throw new IllegalStateException("float32 hidden states are not stored as 16-bit patterns");
    }
    return this == FLOAT16 ? Half.fromFloat16(bits) : Half.fromBfloat16(bits);
  }
}
