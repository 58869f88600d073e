package dev.knowable.probe;

import java.util.Random;

/** Probe training data with a known answer, shared by the MLP (common) and MLlib (jobs) probe tests. */
public final class ProbeFeatureFixtures {
  public static final int D = 16;

  private ProbeFeatureFixtures() {}

  /** Gaussian features; class 1 shifts the first coordinates when separable, labels random otherwise. */
  public static float[][] features(int n, int[] labels, boolean separable, Random random) {
    float[][] x = new float[n][D];
    for (int i = 0; i < n; i++) {
      labels[i] = random.nextInt(2);
      for (int j = 0; j < D; j++) {
        x[i][j] = (float) random.nextGaussian();
      }
      if (separable) {
        float shift = labels[i] == 1 ? 2.5f : -2.5f;
        x[i][0] += shift;
        x[i][1] -= shift;
      }
    }
    return x;
  }
}
