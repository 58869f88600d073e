package dev.knowable.probe;

import java.util.Arrays;

/**
 * L2-regularised logistic regression, fitted in one JVM with L-BFGS ({@link Lbfgs}), the strength of the
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

  private LogisticProbeTrainer() {}

  /** Dense rows, standardised with the statistics of {@code reference} (the train rows). */
  public static LogisticDesign standardised(float[][] x, float[][] reference) {
    return LogisticDesign.standardised(FeatureRows.of(x), LogisticDesign.Scaling.of(FeatureRows.of(reference)));
  }

  /** One-hot rows: each row lists its active feature indices (value 1), all in [0, dim). */
  public static LogisticDesign oneHot(int[][] active, int dim) {
    return LogisticDesign.oneHot(active, dim);
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
    LogisticDesign.Scaling s = LogisticDesign.Scaling.of(trainX);
    Fit f = train(LogisticDesign.standardised(trainX, s), trainY, LogisticDesign.standardised(valX, s), valY, grid, maxIter, tolerance);
    double[] w = new double[f.weights().length];
    double b = f.intercept();
    for (int j = 0; j < w.length; j++) {
      w[j] = f.weights()[j] * s.inverseScale()[j];
      b -= w[j] * s.mean()[j];
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
    LogisticDesign.Scaling s = LogisticDesign.Scaling.of(FeatureRows.of(trainDense));
    Fit f = train(LogisticDesign.mixed(trainActive, trainDense, oneHotDim, s), trainY,
        LogisticDesign.mixed(valActive, valDense, oneHotDim, s), valY, grid, maxIter, tolerance);
    double[] w = f.weights().clone();
    double b = f.intercept();
    for (int j = 0; j < s.mean().length; j++) {
      w[oneHotDim + j] = f.weights()[oneHotDim + j] * s.inverseScale()[j];
      b -= w[oneHotDim + j] * s.mean()[j];
    }
    return new Fit(w, b, f.regParam(), f.iterations(), f.converged(), f.grid(), f.valLosses());
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
  public static Fit train(LogisticDesign train, int[] trainY, LogisticDesign val, int[] valY, double[] grid,
      int maxIter, double tolerance) {
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
      Lbfgs.Result r = Lbfgs.minimize(obj, theta, maxIter, tolerance);
      theta = r.x();
      double loss = val.rows() == 0 ? Double.NaN : meanLogLoss(val, valY, theta);
      losses[g] = loss;
      boolean better = val.rows() == 0 ? g == 0 : loss < bestLoss;
      if (best == null || better) {
        bestLoss = val.rows() == 0 ? bestLoss : loss;
        best = new Fit(Arrays.copyOf(theta, train.dim()), theta[train.dim()], lambda, r.iterations(), r.converged(),
            sorted, null);
      }
    }
    return new Fit(best.weights(), best.intercept(), best.regParam(), best.iterations(), best.converged(), sorted,
        losses);
  }

  /** Mean log-loss of the rows under parameters theta = [w..., b]. */
  static double meanLogLoss(LogisticDesign x, int[] y, double[] theta) {
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
  static final class Objective implements Lbfgs.Function {
    private final LogisticDesign x;
    private final int[] y;
    private final double lambda;
    private final double[] margins;
    private final double[] residual;
    private final double[] gw;

    Objective(LogisticDesign x, int[] y, double lambda) {
      this.x = x;
      this.y = y;
      this.lambda = lambda;
      this.margins = new double[x.rows()];
      this.residual = new double[x.rows()];
      this.gw = new double[x.dim()];
    }

    @Override
    public double evaluate(double[] theta, double[] grad) {
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
}
