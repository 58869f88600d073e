package dev.knowable.probe;

/**
 * The dense feature rows of one probe's fit, as the trainers read them: one row at a time,
 * decoded into a caller's float buffer. Lets a task hold its rows compactly
 * ({@link HalfRows}: 2 bytes a value) instead of as float[][] (4) or Spark rows of boxed
 * Floats (about 20).
 */
public interface FeatureRows {
  int rows();

  int dim();

  /** Writes row i's d values to dst[offset .. offset + d). */
  void copyRow(int i, float[] dst, int offset);

  /** Rows given as float arrays, held as they are (all of length dim; dim 0 when there are none). */
  static FeatureRows of(float[][] x) {
    int d = x.length == 0 ? 0 : x[0].length;
    for (float[] row : x) {
      if (row.length != d) {
        throw new IllegalArgumentException("feature rows differ in length: " + row.length + " vs " + d);
      }
    }
    return new FeatureRows() {
      @Override
      public int rows() {
        return x.length;
      }

      @Override
      public int dim() {
        return d;
      }

      @Override
      public void copyRow(int i, float[] dst, int offset) {
        System.arraycopy(x[i], 0, dst, offset, d);
      }
    };
  }
}
