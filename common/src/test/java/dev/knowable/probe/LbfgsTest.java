package dev.knowable.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The general minimiser on functions whose minimum is known in closed form. */
class LbfgsTest {
  /** Rosenbrock, minimum 0 at (1, 1): curved valley where steepest descent crawls. */
  private static final Lbfgs.Function ROSENBROCK = (x, g) -> {
    double a = 1 - x[0];
    double b = x[1] - x[0] * x[0];
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
  };

  @Test
  void findsTheRosenbrockMinimum() {
    double[] start = {-1.2, 1.0};
    Lbfgs.Result r = Lbfgs.minimize(ROSENBROCK, start, 500, 1e-8);
    assertTrue(r.converged());
    assertArrayEquals(new double[] {1, 1}, r.x(), 1e-5);
    assertArrayEquals(new double[] {-1.2, 1.0}, start, 0.0, "the start is not modified");
    assertTrue(r.iterations() > 10 && r.iterations() < 200, "iterations " + r.iterations());
  }

  @Test
  void solvesAnIllConditionedQuadratic() {
    // f = 1/2 sum_j c_j (x_j - j)^2 with curvatures over four orders of magnitude.
    double[] c = {1e-2, 1, 10, 100};
    Lbfgs.Function f = (x, g) -> {
      double v = 0;
      for (int j = 0; j < x.length; j++) {
        double d = x[j] - j;
        g[j] = c[j] * d;
        v += 0.5 * c[j] * d * d;
      }
      return v;
    };
    Lbfgs.Result r = Lbfgs.minimize(f, new double[4], 200, 1e-10);
    assertTrue(r.converged());
    assertArrayEquals(new double[] {0, 1, 2, 3}, r.x(), 1e-6);
  }

  @Test
  void reportsTheCapWhenItStopsThere() {
    Lbfgs.Result r = Lbfgs.minimize(ROSENBROCK, new double[] {-1.2, 1.0}, 3, 1e-12);
    assertEquals(3, r.iterations());
    assertFalse(r.converged());
  }

  @Test
  void startsConvergedAtAStationaryPoint() {
    Lbfgs.Result r = Lbfgs.minimize(ROSENBROCK, new double[] {1, 1}, 100, 1e-8);
    assertEquals(0, r.iterations());
    assertTrue(r.converged());
  }
}
