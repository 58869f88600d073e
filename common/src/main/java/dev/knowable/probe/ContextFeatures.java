package dev.knowable.probe;

import java.io.Serializable;

/**
 * One-hot features of the last k input tokens for the context baseline (docs/METHOD.md
 * section 6). Slot j (0 = current token, 1 = previous, ...) owns {@code slotSize} feature
 * indices and token id t lands on {@code j * slotSize + t + 1}; index 0 of a slot stands for
 * "no token" (id -1, before the document start). The slot is sized to the largest id in
 * the data, so no two ids share a feature whatever the vocabulary (a hashed layout with a
 * fixed number of buckets collides on a 50k-id vocabulary).
 */
public final class ContextFeatures implements Serializable {
  private static final long serialVersionUID = 2L;
  private final int k;
  private final int slotSize;

  /**
   * @param k how many of the last tokens to encode
   * @param maxTokenId the largest token id that can occur
   */
  public ContextFeatures(int k, int maxTokenId) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    if (maxTokenId < 0) {
      throw new IllegalArgumentException("maxTokenId must be >= 0, got " + maxTokenId);
    }
    this.k = k;
    this.slotSize = Math.addExact(maxTokenId, 2);
    Math.multiplyExact(slotSize, k);
  }

  /** The feature count: k slots. */
  public int size() {
    return slotSize * k;
  }

  /**
   * @param lastTokens the current token first, then the previous ones (at least k; -1 = none)
   * @return the k active feature indices, increasing
   */
  public int[] active(int... lastTokens) {
    if (lastTokens.length < k) {
      throw new IllegalArgumentException("need the last " + k + " token ids, got " + lastTokens.length);
    }
    int[] out = new int[k];
    for (int j = 0; j < k; j++) {
      int id = lastTokens[j];
      if (id < -1 || id > slotSize - 2) {
        throw new IllegalArgumentException("token id " + id + " outside [-1, " + (slotSize - 2) + "]");
      }
      out[j] = j * slotSize + id + 1;
    }
    return out;
  }
}
