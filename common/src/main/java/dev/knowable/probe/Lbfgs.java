package dev.knowable.probe;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Limited-memory BFGS (memory 10) with a backtracking Armijo line search, for smooth
 * unconstrained minimisation in one JVM. General: it knows nothing of probes; the logistic
 * probe ({@link LogisticProbeTrainer}) is its one user today. Deterministic: the same
 * function and start give the same bits.
 *
 * <p>Stops when the gradient's largest component falls below {@code tolerance}
 * (converged), when the value stops changing (relative change below 1e-12: converged), when
 * no step along the search direction satisfies the Armijo condition after 60 halvings (not
 * converged), or after {@code maxIter} iterations (converged only if the gradient is then
 * below the tolerance).
 */
public final class Lbfgs {
  /** Number of (s, y) pairs kept. */
  private static final int HISTORY = 10;
  /** Sufficient-decrease constant of the line search. */
  private static final double ARMIJO = 1e-4;
  private static final int MAX_HALVINGS = 60;

  /** A smooth function of a vector. */
  public interface Function {
    /** Writes the gradient at x into grad (same length) and returns the value at x. */
    double evaluate(double[] x, double[] grad);
  }

  /** The last point, the iterations taken and whether a stopping rule other than the cap held. */
  public record Result(double[] x, int iterations, boolean converged) {}

  private Lbfgs() {}

  /** Minimises f from start (not modified). */
  public static Result minimize(Function f, double[] start, int maxIter, double tolerance) {
    int p = start.length;
    double[] x = start.clone();
    double[] grad = new double[p];
    double value = f.evaluate(x, grad);
    Deque<double[]> sHist = new ArrayDeque<>();
    Deque<double[]> yHist = new ArrayDeque<>();
    double[] next = new double[p];
    double[] nextGrad = new double[p];
    for (int iter = 0; iter < maxIter; iter++) {
      if (maxAbs(grad) < tolerance) {
        return new Result(x, iter, true);
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
      for (int tries = 0; tries < MAX_HALVINGS; tries++) {
        for (int j = 0; j < p; j++) {
          next[j] = x[j] + step * dir[j];
        }
        nextValue = f.evaluate(next, nextGrad);
        if (nextValue <= value + ARMIJO * step * slope) {
          break;
        }
        step *= 0.5;
      }
      if (!(nextValue <= value + ARMIJO * step * slope)) {
        return new Result(x, iter, false);
      }
      double[] s = new double[p];
      double[] yv = new double[p];
      for (int j = 0; j < p; j++) {
        s[j] = next[j] - x[j];
        yv[j] = nextGrad[j] - grad[j];
      }
      // Keep the pair only under positive curvature, so the implied Hessian stays positive definite.
      if (dot(s, yv) > 1e-12 * dot(yv, yv)) {
        sHist.addLast(s);
        yHist.addLast(yv);
        if (sHist.size() > HISTORY) {
          sHist.removeFirst();
          yHist.removeFirst();
        }
      }
      double change = Math.abs(value - nextValue) / Math.max(1.0, Math.max(Math.abs(value), Math.abs(nextValue)));
      System.arraycopy(next, 0, x, 0, p);
      System.arraycopy(nextGrad, 0, grad, 0, p);
      value = nextValue;
      if (change < 1e-12) {
        return new Result(x, iter + 1, true);
      }
    }
    return new Result(x, maxIter, maxAbs(grad) < tolerance);
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
}
