package dev.knowable.hidden;

import java.util.Locale;

/**
 * How small_scores stores a hidden state ({@code knowable.score.hidden-dtype}).
 *
 * <ul>
 *   <li>{@code float32}: {@code array<float>}, the model's values as they are.</li>
 *   <li>{@code float16}: {@code array<smallint>} holding IEEE fp16 bit patterns (rounded to
 *       nearest even; relative error at most 2^-11 for |x| in [2^-14, 65504]). Finite values
 *       beyond +-65504 are clamped to +-65504 and counted.</li>
 *   <li>{@code bfloat16}: {@code array<smallint>} holding the top 16 bits of the float
 *       (rounded to nearest even; relative error at most 2^-8, float32's range).</li>
 * </ul>
 *
 * <p>A smallint is the 16 bits read as a signed integer (Spark has no unsigned or half
 * type); {@link #decode} and the SQL of docs turn it back into a float exactly.
 */
public enum HiddenDtype {
  FLOAT32("float32", "array<float>"),
  FLOAT16("float16", "array<smallint>"),
  BFLOAT16("bfloat16", "array<smallint>");

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
   * The stored form of one hidden state: the array itself (float32) or a new short[] of
   * 16-bit patterns.
   *
   * @param clamped its element 0 is increased by the number of finite values that were out
   *     of the dtype's range and stored as the largest finite value of their sign
   */
  public Object encode(float[] v, long[] clamped) {
    switch (this) {
      case FLOAT32:
        return v;
      case FLOAT16: {
        short[] out = new short[v.length];
        for (int i = 0; i < v.length; i++) {
          float x = v[i];
          if (Math.abs(x) > Half.FLOAT16_MAX && !Float.isInfinite(x)) {
            // Out of fp16's range (about 65520 and beyond would round to an infinity): clamp.
            if (Half.toFloat16(x) != (short) (x > 0 ? 0x7bff : 0xfbff)) {
              clamped[0]++;
            }
            x = Math.copySign(Half.FLOAT16_MAX, x);
          }
          out[i] = Half.toFloat16(x);
        }
        return out;
      }
      default: {
        short[] out = new short[v.length];
        for (int i = 0; i < v.length; i++) {
          float x = v[i];
          if (Math.abs(x) > Half.BFLOAT16_MAX && !Float.isInfinite(x)) {
            if (Half.toBfloat16(x) != (short) (x > 0 ? 0x7f7f : 0xff7f)) {
              clamped[0]++;
            }
            x = Math.copySign(Half.BFLOAT16_MAX, x);
          }
          out[i] = Half.toBfloat16(x);
        }
        return out;
      }
    }
  }

  /** The float values of a stored element (a Float for float32, a Short otherwise). */
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
