package dev.knowable.jobs.probe;

import java.io.Serializable;
import org.apache.spark.ml.linalg.SparseVector;

/**
 * One-hot features of the last k input tokens for the context baseline (docs/METHOD.md section 6):
 * slot j (0 = current token, 1 = previous) owns {@code buckets / maxK} feature indices,
 * and token id t lands on index {@code j * slotSize + floorMod(t + 1, slotSize)}: exact
 * one-hot while ids stay below slotSize - 1, shared by modulo beyond. Index 0 of a slot
 * stands for "no token" (id -1, before the document start).
 */
public final class ContextFeatures implements Serializable {
  private static final long serialVersionUID = 1L;
  private final int k;
  private final int slotSize;

  /**
   * @param k how many of the last tokens to encode (1..maxK)
   * @param buckets total feature count shared by all slots
   * @param maxK the largest k configured, so every k uses the same layout
   */
  public ContextFeatures(int k, int buckets, int maxK) {
    if (k < 1 || k > maxK) {
      throw new IllegalArgumentException("k must be in [1, " + maxK + "], got " + k);
    }
    this.k = k;
    this.slotSize = buckets / maxK;
    if (slotSize < 2) {
      throw new IllegalArgumentException("buckets must be at least 2 per slot, got " + buckets + " for k <= " + maxK);
    }
  }

  /** The feature count of every vector. */
  public int size() {
    return slotSize * k;
  }

  /**
   * @param lastTokens the current token first, then the previous ones (at least k)
   */
  public SparseVector encode(int... lastTokens) {
    int[] indices = new int[k];
    double[] values = new double[k];
    for (int j = 0; j < k; j++) {
      indices[j] = j * slotSize + Math.floorMod(lastTokens[j] + 1, slotSize);
      values[j] = 1.0;
    }
    // Slots are laid out in increasing j, so the indices are already sorted and distinct.
    return new SparseVector(size(), indices, values);
  }
}
