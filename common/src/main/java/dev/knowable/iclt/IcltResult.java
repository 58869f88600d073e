package dev.knowable.iclt;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ICLT results of one prompt.
 *
 * @param promptLength tokens of the prompt after capping (what the model saw)
 * @param candidates the top-k next-token ids after the prompt, most probable first
 * @param candidateProbs their probabilities p(c_j)
 * @param promptEntropy H(p), the full next-token entropy after the prompt, nats
 * @param bySeparator scores per separator name, in the scorer's separator order
 */
public record IcltResult(int promptLength, int[] candidates, double[] candidateProbs, double promptEntropy,
    Map<String, IcltScores> bySeparator) {
  public IcltResult {
    candidates = candidates.clone();
    candidateProbs = candidateProbs.clone();
    bySeparator = Collections.unmodifiableMap(new LinkedHashMap<>(bySeparator));
  }

  /** The scores under one separator. */
  public IcltScores scores(String separatorName) {
    IcltScores s = bySeparator.get(separatorName);
    if (s == null) {
      throw new IllegalArgumentException("No separator '" + separatorName + "'; have " + bySeparator.keySet());
    }
    return s;
  }
}
