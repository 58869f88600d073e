package dev.knowable.probe;

import dev.knowable.hidden.Half;
import java.util.Arrays;

/**
 * Feature rows held as IEEE fp16 (2 bytes a value, one short[] per row so a row can pass
 * 2^31 values in total and rows can be reordered without copying their values). Hidden
 * states stored as float16 (score.hidden-dtype's default) come back exactly; float32 ones
 * are rounded to nearest even (relative error at most 2^-11); values beyond +-65504 are
 * held as +-65504 and counted ({@link #clamped}), as score-small does. bfloat16 values are
 * exact for |x| in [2^-14, 65504] (8 significant bits fit fp16's 11).
 */
public final class HalfRows implements FeatureRows {
  /** Array header and the reference to it, per row (64-bit JVM, compressed references). */
  public static final long ROW_OVERHEAD_BYTES = 16 + 4;
  /** fp16 bits -> float, every pattern: decoding is one table read. */
  private static final float[] DECODE = new float[1 << 16];

  static {
    for (int b = 0; b < DECODE.length; b++) {
      DECODE[b] = Half.fromFloat16((short) b);
    }
  }

  private final int d;
  private short[][] rows;
  private int n;
  private long clamped;

  /** Empty rows of d values each, room for {@code expected} before growing. */
  public HalfRows(int d, int expected) {
    if (d < 0) {
      throw new IllegalArgumentException("negative dimension " + d);
    }
    this.d = d;
    this.rows = new short[Math.max(1, expected)][];
  }

  /** Heap bytes of n rows of d values. */
  public static long bytes(long n, int d) {
    return n * (2L * d + ROW_OVERHEAD_BYTES);
  }

  /** Appends one row (rounded to fp16) and returns its index. */
  public int add(float[] x) {
    if (x.length != d) {
      throw new IllegalArgumentException("feature row of length " + x.length + ", expected " + d);
    }
    short[] bits = new short[d];
    for (int j = 0; j < d; j++) {
      float v = x[j];
      if (Math.abs(v) > Half.FLOAT16_MAX && !Float.isInfinite(v)) {
        clamped++;
        v = Math.copySign(Half.FLOAT16_MAX, v);
      }
      bits[j] = Half.toFloat16(v);
    }
    return append(bits);
  }

  /**
   * Appends one row given as fp16 bit patterns, two bytes a value, little-endian (the form
   * {@code HiddenDtype.FLOAT16} stores), and returns its index.
   */
  public int addHalfBytes(byte[] stored) {
    if (stored.length != 2 * d) {
      throw new IllegalArgumentException("fp16 feature row of " + stored.length + " bytes, expected " + 2 * d);
    }
    short[] bits = new short[d];
    for (int j = 0; j < d; j++) {
      bits[j] = (short) ((stored[2 * j] & 0xff) | (stored[2 * j + 1] << 8));
    }
    return append(bits);
  }

  private int append(short[] bits) {
    if (n == rows.length) {
      rows = Arrays.copyOf(rows, Math.max(n + 1, n + (n >> 1)));
    }
    rows[n] = bits;
    return n++;
  }

  /** Finite values held as +-65504 because they were beyond fp16's range. */
  public long clamped() {
    return clamped;
  }

  /** These rows in the given order (order[k] = the row that becomes row k); values shared, not copied. */
  public HalfRows reordered(int[] order) {
    HalfRows out = new HalfRows(d, order.length);
    for (int i : order) {
      if (i < 0 || i >= n) {
        throw new IndexOutOfBoundsException("row " + i + " of " + n);
      }
      out.append(rows[i]);
    }
    out.clamped = clamped;
    return out;
  }

  @Override
  public int rows() {
    return n;
  }

  @Override
  public int dim() {
    return d;
  }

  @Override
  public void copyRow(int i, float[] dst, int offset) {
    if (i >= n) {
      throw new IndexOutOfBoundsException("row " + i + " of " + n);
    }
    short[] bits = rows[i];
    for (int j = 0; j < d; j++) {
      dst[offset + j] = DECODE[bits[j] & 0xffff];
    }
  }

  /** Row i as a new float array. */
  public float[] row(int i) {
    float[] out = new float[d];
    copyRow(i, out, 0);
    return out;
  }
}
