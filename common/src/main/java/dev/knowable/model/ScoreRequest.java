package dev.knowable.model;

import java.io.Serializable;
import java.util.List;

/**
 * What to read back from a forward pass.
 *
 * @param vocabLimit entropy and top-k over the first vocabLimit logits only
 * @param topK how many most probable ids (and log-probs) per position; at least 1
 * @param layers hidden-state indices (0..L) to copy into the JVM; empty for none
 */
public record ScoreRequest(int vocabLimit, int topK, List<Integer> layers) implements Serializable {
  public ScoreRequest {
    if (topK < 1) {
      throw new IllegalArgumentException("topK must be >= 1, got " + topK);
    }
    layers = List.copyOf(layers);
  }
}
