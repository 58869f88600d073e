package dev.knowable.probe;

import java.util.Arrays;

/**
 * Rows of features as {@link LogisticProbeTrainer}'s objective reads them: the margins
 * {@code X w + b} and the products {@code X^T r}, without materialising a standardised or
 * one-hot matrix. Three forms: dense rows standardised on the fly, one-hot rows given by their
 * active indices, and the two side by side (the combined control).
 */
public interface LogisticDesign {
  int rows();

  int dim();

  /** out[i] = x_i . w + b. */
  void margins(double[] w, double b, double[] out);

  /** g[j] = sum_i r[i] x_ij (overwrites g). */
  void transposeTimes(double[] r, double[] g);

  /** Dense rows standardised with the scaling s (the train rows' statistics). */
  static LogisticDesign standardised(FeatureRows x, Scaling s) {
    return new Standardised(x, s);
  }

  /** One-hot rows: each row lists its active feature indices (value 1), all in [0, dim). */
  static LogisticDesign oneHot(int[][] active, int dim) {
    for (int[] row : active) {
      for (int j : row) {
        if (j < 0 || j >= dim) {
          throw new IllegalArgumentException("feature index " + j + " outside [0, " + dim + ")");
        }
      }
    }
    return new OneHot(active, dim);
  }

  /** Row i: the one-hot indices active[i] in [0, oneHotDim), then dense[i] standardised with s. */
  static LogisticDesign mixed(int[][] active, float[][] dense, int oneHotDim, Scaling s) {
    if (active.length != dense.length) {
      throw new IllegalArgumentException(active.length + " one-hot rows but " + dense.length + " dense rows");
    }
    LogisticDesign oneHot = oneHot(active, oneHotDim);
    LogisticDesign standardised = new Standardised(FeatureRows.of(dense), s);
    return new LogisticDesign() {
      @Override
      public int rows() {
        return active.length;
      }

      @Override
      public int dim() {
        return oneHotDim + standardised.dim();
      }

      @Override
      public void margins(double[] w, double b, double[] out) {
        double[] part = new double[out.length];
        oneHot.margins(Arrays.copyOfRange(w, 0, oneHotDim), b, out);
        standardised.margins(Arrays.copyOfRange(w, oneHotDim, w.length), 0, part);
        for (int i = 0; i < out.length; i++) {
          out[i] += part[i];
        }
      }

      @Override
      public void transposeTimes(double[] r, double[] g) {
        double[] a = new double[oneHotDim];
        double[] c = new double[standardised.dim()];
        oneHot.transposeTimes(r, a);
        standardised.transposeTimes(r, c);
        System.arraycopy(a, 0, g, 0, a.length);
        System.arraycopy(c, 0, g, a.length, c.length);
      }
    };
  }

  /** Per-feature mean and 1 / sample standard deviation of the train rows (0 for constant features). */
  record Scaling(double[] mean, double[] inverseScale) {
    static Scaling of(FeatureRows x) {
      int d = x.dim();
      int n = x.rows();
      double[] mean = new double[d];
      double[] inv = new double[d];
      float[] row = new float[d];
      for (int i = 0; i < n; i++) {
        x.copyRow(i, row, 0);
        for (int j = 0; j < d; j++) {
          mean[j] += row[j];
        }
      }
      for (int j = 0; j < d; j++) {
        mean[j] /= n;
      }
      double[] ss = new double[d];
      for (int i = 0; i < n; i++) {
        x.copyRow(i, row, 0);
        for (int j = 0; j < d; j++) {
          double c = row[j] - mean[j];
          ss[j] += c * c;
        }
      }
      for (int j = 0; j < d; j++) {
        double sd = n > 1 ? Math.sqrt(ss[j] / (n - 1)) : 0;
        inv[j] = sd > 0 ? 1 / sd : 0;
      }
      return new Scaling(mean, inv);
    }
  }

  /** x_ij standardised on the fly: (x_ij - mean_j) * inverseScale_j. */
  final class Standardised implements LogisticDesign {
    private final FeatureRows x;
    private final Scaling s;
    private final int d;
    /** One decoded row at a time; a Design is used by one thread. */
    private final float[] row;

    Standardised(FeatureRows x, Scaling s) {
      this.x = x;
      this.s = s;
      this.d = s.mean.length;
      if (x.rows() > 0 && x.dim() != d) {
        throw new IllegalArgumentException("row of length " + x.dim() + ", expected " + d);
      }
      this.row = new float[d];
    }

    @Override
    public int rows() {
      return x.rows();
    }

    @Override
    public int dim() {
      return d;
    }

    @Override
    public void margins(double[] w, double b, double[] out) {
      double[] v = new double[d];
      double c = b;
      for (int j = 0; j < d; j++) {
        v[j] = w[j] * s.inverseScale[j];
        c -= v[j] * s.mean[j];
      }
      for (int i = 0; i < x.rows(); i++) {
        x.copyRow(i, row, 0);
        double m = c;
        for (int j = 0; j < d; j++) {
          m += row[j] * v[j];
        }
        out[i] = m;
      }
    }

    @Override
    public void transposeTimes(double[] r, double[] g) {
      Arrays.fill(g, 0);
      double total = 0;
      for (int i = 0; i < x.rows(); i++) {
        x.copyRow(i, row, 0);
        double ri = r[i];
        total += ri;
        for (int j = 0; j < d; j++) {
          g[j] += ri * row[j];
        }
      }
      for (int j = 0; j < d; j++) {
        g[j] = (g[j] - s.mean[j] * total) * s.inverseScale[j];
      }
    }
  }

  record OneHot(int[][] active, int dim) implements LogisticDesign {
    @Override
    public int rows() {
      return active.length;
    }

    @Override
    public void margins(double[] w, double b, double[] out) {
      for (int i = 0; i < active.length; i++) {
        double m = b;
        for (int j : active[i]) {
          m += w[j];
        }
        out[i] = m;
      }
    }

    @Override
    public void transposeTimes(double[] r, double[] g) {
      Arrays.fill(g, 0);
      for (int i = 0; i < active.length; i++) {
        for (int j : active[i]) {
          g[j] += r[i];
        }
      }
    }
  }
}
