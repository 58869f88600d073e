package dev.knowable.probe;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * L2-regularised logistic regression, fitted in one JVM with L-BFGS, the strength of the
 * penalty chosen on the validation rows (docs/METHOD.md section 6). Used for the linear
 * probe on hidden states (dense features) and the context baselines (one-hot token
 * features), inside one Spark task per configuration like the MLP probe.
 *
 * <p>Objective, for each penalty {@code lambda} of the grid:
 * {@code (1/n) sum_i [log(1 + exp(m_i)) - y_i m_i] + (lambda/2) ||w||^2}, with
 * {@code m_i = w . x_i + b}; the intercept is not penalised. Dense features are
 * standardised with the train rows' mean and sample standard deviation first, so the
 * penalty treats every feature alike (the same objective as Spark MLlib's logistic
 * regression with standardization on); the returned coefficients are in the original
 * feature space. The fit with the lowest mean validation log-loss is kept (ties: the
 * larger penalty); without validation rows, the smallest penalty of the grid.
 *
 * <p>Why a penalty at all: on separable data the unregularised maximum-likelihood solution
 * does not exist (the weights grow without bound and the answer depends on when the
 * optimiser stops). Deterministic: the same rows in the same order give the same bits.
 */
public final class LogisticProbeTrainer {
  /** L-BFGS memory. */
  private static final int HISTORY = 10;
  private static final double ARMIJO = 1e-4;

  /** The fitted probe: P(class 1 | x) = sigmoid(weights . x + intercept) in the original feature space. */
  public record Fit(double[] weights, double intercept, double regParam, int iterations, boolean converged,
      double[] grid, double[] valLosses) {
    public double probabilityOfClass1(float[] x) {
      double m = intercept;
      for (int j = 0; j < x.length; j++) {
        m += weights[j] * x[j];
      }
      return sigmoid(m);
    }

    /** For one-hot rows given by their active feature indices (indices beyond the weights count as 0). */
    public double probabilityOfClass1(int[] active) {
      double m = intercept;
      for (int j : active) {
        if (j >= 0 && j < weights.length) {
          m += weights[j];
        }
      }
      return sigmoid(m);
    }
  }

  /** Rows of features, as the optimiser reads them. */
  public interface Design {
    int rows();

    int dim();

    /** out[i] = x_i . w + b. */
    void margins(double[] w, double b, double[] out);

    /** g[j] = sum_i r[i] x_ij (overwrites g). */
    void transposeTimes(double[] r, double[] g);
  }

  private LogisticProbeTrainer() {}

  /** Dense rows, standardised with the statistics of {@code reference} (the train rows). */
  public static Design standardised(float[][] x, float[][] reference) {
    return new Standardised(FeatureRows.of(x), Scaling.of(FeatureRows.of(reference)));
  }

  /** One-hot rows: each row lists its active feature indices (value 1), all in [0, dim). */
  public static Design oneHot(int[][] active, int dim) {
    for (int[] row : active) {
      for (int j : row) {
        if (j < 0 || j >= dim) {
          throw new IllegalArgumentException("feature index " + j + " outside [0, " + dim + ")");
        }
      }
    }
    return new OneHot(active, dim);
  }

  /** Fits dense features (standardised internally; the returned weights are in the original space). */
  public static Fit trainDense(float[][] trainX, int[] trainY, float[][] valX, int[] valY, double[] grid,
      int maxIter, double tolerance) {
    return trainDense(FeatureRows.of(trainX), trainY, FeatureRows.of(valX), valY, grid, maxIter, tolerance);
  }

  /** As {@link #trainDense(float[][], int[], float[][], int[], double[], int, double)}, rows held in any form. */
  public static Fit trainDense(FeatureRows trainX, int[] trainY, FeatureRows valX, int[] valY, double[] grid,
      int maxIter, double tolerance) {
    if (trainX.rows() == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    Scaling s = Scaling.of(trainX);
    Fit f = train(new Standardised(trainX, s), trainY, new Standardised(valX, s), valY, grid, maxIter, tolerance);
    double[] w = new double[f.weights().length];
    double b = f.intercept();
    for (int j = 0; j < w.length; j++) {
      w[j] = f.weights()[j] * s.inverseScale[j];
      b -= w[j] * s.mean[j];
    }
    return new Fit(w, b, f.regParam(), f.iterations(), f.converged(), f.grid(), f.valLosses());
  }

  /**
   * Fits one-hot features and dense features together (the combined control): row i is the
   * one-hot indices {@code active[i]} in [0, oneHotDim) followed by the dense values
   * {@code dense[i]}, standardised with the train rows' statistics (one-hot features as they
   * are, like {@link #oneHot}). Returned weights are in the original space: indices
   * [0, oneHotDim) the one-hot weights, then one per dense feature.
   */
  public static Fit trainMixed(int[][] trainActive, float[][] trainDense, int[] trainY, int[][] valActive,
      float[][] valDense, int[] valY, int oneHotDim, double[] grid, int maxIter, double tolerance) {
    if (trainActive.length == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    Scaling s = Scaling.of(FeatureRows.of(trainDense));
    Fit f = train(mixed(trainActive, trainDense, oneHotDim, s), trainY, mixed(valActive, valDense, oneHotDim, s),
        valY, grid, maxIter, tolerance);
    double[] w = f.weights().clone();
    double b = f.intercept();
    for (int j = 0; j < s.mean.length; j++) {
      w[oneHotDim + j] = f.weights()[oneHotDim + j] * s.inverseScale[j];
      b -= w[oneHotDim + j] * s.mean[j];
    }
    return new Fit(w, b, f.regParam(), f.iterations(), f.converged(), f.grid(), f.valLosses());
  }

  private static Design mixed(int[][] active, float[][] dense, int oneHotDim, Scaling s) {
    if (active.length != dense.length) {
      throw new IllegalArgumentException(active.length + " one-hot rows but " + dense.length + " dense rows");
    }
    Design oneHot = oneHot(active, oneHotDim);
    Design standardised = new Standardised(FeatureRows.of(dense), s);
    return new Design() {
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

  /** P(class 1) of a combined-control fit (original-space weights) for one row. */
  public static double mixedProbability(Fit fit, int oneHotDim, int[] active, float[] dense) {
    double m = fit.intercept();
    for (int j : active) {
      m += fit.weights()[j];
    }
    for (int j = 0; j < dense.length; j++) {
      m += fit.weights()[oneHotDim + j] * dense[j];
    }
    return sigmoid(m);
  }

  /**
   * Fits the design as given (no standardisation), one fit per penalty of the grid (largest
   * first, each warm-started from the previous), and keeps the one validation prefers.
   */
  public static Fit train(Design train, int[] trainY, Design val, int[] valY, double[] grid, int maxIter,
      double tolerance) {
    if (grid.length == 0) {
      throw new IllegalArgumentException("empty regularisation grid");
    }
    if (train.rows() != trainY.length || val.rows() != valY.length) {
      throw new IllegalArgumentException("rows and labels differ in count");
    }
    double[] sorted = grid.clone();
    Arrays.sort(sorted);
    double[] theta = new double[train.dim() + 1];
    double[] losses = new double[sorted.length];
    Fit best = null;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (int g = sorted.length - 1; g >= 0; g--) {
      double lambda = sorted[g];
      if (!(lambda >= 0) || Double.isInfinite(lambda)) {
        throw new IllegalArgumentException("regularisation must be finite and >= 0, got " + lambda);
      }
      Objective obj = new Objective(train, trainY, lambda);
      Result r = lbfgs(obj, theta, maxIter, tolerance);
      theta = r.theta;
      double loss = val.rows() == 0 ? Double.NaN : meanLogLoss(val, valY, theta);
      losses[g] = loss;
      boolean better = val.rows() == 0 ? g == 0 : loss < bestLoss;
      if (best == null || better) {
        bestLoss = val.rows() == 0 ? bestLoss : loss;
        best = new Fit(Arrays.copyOf(theta, train.dim()), theta[train.dim()], lambda, r.iterations, r.converged,
            sorted, null);
      }
    }
    return new Fit(best.weights(), best.intercept(), best.regParam(), best.iterations(), best.converged(), sorted,
        losses);
  }

  /** Mean log-loss of the rows under parameters theta = [w..., b]. */
  static double meanLogLoss(Design x, int[] y, double[] theta) {
    int d = x.dim();
    double[] m = new double[x.rows()];
    x.margins(Arrays.copyOf(theta, d), theta[d], m);
    double sum = 0;
    for (int i = 0; i < m.length; i++) {
      sum += softplus(m[i]) - y[i] * m[i];
    }
    return sum / m.length;
  }

  static double sigmoid(double m) {
    return m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
  }

  /** log(1 + exp(m)) without overflow. */
  static double softplus(double m) {
    return m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
  }

  /** The penalised mean log-loss and its gradient over theta = [w..., b]. */
  static final class Objective {
    private final Design x;
    private final int[] y;
    private final double lambda;
    private final double[] margins;
    private final double[] residual;
    private final double[] gw;

    Objective(Design x, int[] y, double lambda) {
      this.x = x;
      this.y = y;
      this.lambda = lambda;
      this.margins = new double[x.rows()];
      this.residual = new double[x.rows()];
      this.gw = new double[x.dim()];
    }

    /** Fills grad, returns the value. */
    double evaluate(double[] theta, double[] grad) {
      int d = x.dim();
      int n = x.rows();
      double[] w = Arrays.copyOf(theta, d);
      x.margins(w, theta[d], margins);
      double loss = 0;
      double gb = 0;
      for (int i = 0; i < n; i++) {
        loss += softplus(margins[i]) - y[i] * margins[i];
        residual[i] = (sigmoid(margins[i]) - y[i]) / n;
        gb += residual[i];
      }
      x.transposeTimes(residual, gw);
      double penalty = 0;
      for (int j = 0; j < d; j++) {
        penalty += w[j] * w[j];
        grad[j] = gw[j] + lambda * w[j];
      }
      grad[d] = gb;
      return loss / n + 0.5 * lambda * penalty;
    }
  }

  private record Result(double[] theta, int iterations, boolean converged) {}

  /**
   * Limited-memory BFGS with a backtracking (Armijo) line search; stops when the gradient's
   * largest component falls below {@code tolerance}, when the value stops changing
   * (relative 1e-12), or after maxIter iterations.
   */
  private static Result lbfgs(Objective f, double[] start, int maxIter, double tolerance) {
    int p = start.length;
    double[] theta = start.clone();
    double[] grad = new double[p];
    double value = f.evaluate(theta, grad);
    Deque<double[]> sHist = new ArrayDeque<>();
    Deque<double[]> yHist = new ArrayDeque<>();
    double[] next = new double[p];
    double[] nextGrad = new double[p];
    for (int iter = 0; iter < maxIter; iter++) {
      if (maxAbs(grad) < tolerance) {
        return new Result(theta, iter, true);
      }
      double[] dir = twoLoop(grad, sHist, yHist);
      double slope = dot(dir, grad);
      if (!(slope < 0)) {
        // Not a descent direction (numerical trouble): restart from steepest descent.
        sHist.clear();
        yHist.clear();
        dir = scaled(grad, -1);
        slope = dot(dir, grad);
      }
      double step = sHist.isEmpty() ? Math.min(1.0, 1.0 / Math.max(1e-12, norm(grad))) : 1.0;
      double nextValue = Double.NaN;
      for (int tries = 0; tries < 60; tries++) {
        for (int j = 0; j < p; j++) {
          next[j] = theta[j] + step * dir[j];
        }
        nextValue = f.evaluate(next, nextGrad);
        if (nextValue <= value + ARMIJO * step * slope) {
          break;
        }
        step *= 0.5;
      }
      if (!(nextValue <= value + ARMIJO * step * slope)) {
        return new Result(theta, iter, false);
      }
      double[] s = new double[p];
      double[] yv = new double[p];
      for (int j = 0; j < p; j++) {
        s[j] = next[j] - theta[j];
        yv[j] = nextGrad[j] - grad[j];
      }
      if (dot(s, yv) > 1e-12 * dot(yv, yv)) {
        sHist.addLast(s);
        yHist.addLast(yv);
        if (sHist.size() > HISTORY) {
          sHist.removeFirst();
          yHist.removeFirst();
        }
      }
      double change = Math.abs(value - nextValue) / Math.max(1.0, Math.max(Math.abs(value), Math.abs(nextValue)));
      System.arraycopy(next, 0, theta, 0, p);
      System.arraycopy(nextGrad, 0, grad, 0, p);
      value = nextValue;
      if (change < 1e-12) {
        return new Result(theta, iter + 1, true);
      }
    }
    return new Result(theta, maxIter, maxAbs(grad) < tolerance);
  }

  /** The L-BFGS direction -H grad from the stored pairs (oldest first). */
  private static double[] twoLoop(double[] grad, Deque<double[]> sHist, Deque<double[]> yHist) {
    double[] q = grad.clone();
    int m = sHist.size();
    double[][] s = sHist.toArray(new double[0][]);
    double[][] y = yHist.toArray(new double[0][]);
    double[] alpha = new double[m];
    for (int i = m - 1; i >= 0; i--) {
      alpha[i] = dot(s[i], q) / dot(y[i], s[i]);
      axpy(-alpha[i], y[i], q);
    }
    if (m > 0) {
      double gamma = dot(s[m - 1], y[m - 1]) / dot(y[m - 1], y[m - 1]);
      for (int j = 0; j < q.length; j++) {
        q[j] *= gamma;
      }
    }
    for (int i = 0; i < m; i++) {
      double beta = dot(y[i], q) / dot(y[i], s[i]);
      axpy(alpha[i] - beta, s[i], q);
    }
    for (int j = 0; j < q.length; j++) {
      q[j] = -q[j];
    }
    return q;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static void axpy(double a, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) {
      y[i] += a * x[i];
    }
  }

  private static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  private static double maxAbs(double[] a) {
    double m = 0;
    for (double v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  private static double[] scaled(double[] a, double c) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = c * a[i];
    }
    return out;
  }

  /** Per-feature mean and 1 / sample standard deviation of the train rows (0 for constant features). */
  private record Scaling(double[] mean, double[] inverseScale) {
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
  private static final class Standardised implements Design {
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

  private record OneHot(int[][] active, int dim) implements Design {
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
