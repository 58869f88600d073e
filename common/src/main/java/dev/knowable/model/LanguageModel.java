package dev.knowable.model;

import java.util.List;

/**
 * A loaded causal language model that meets the model contract. Implementations compute
 * entropy and top-k on the engine's device and copy only [B,T] scalars, the top-k and
 * the requested hidden-state layers of unpadded positions into the JVM.
 *
 * <p>Thread-safe: one instance per executor JVM and device serves every task thread.
 */
public interface LanguageModel extends AutoCloseable {

  ModelContract contract();

  /**
   * Scores sequences as one right-padded batch.
   *
   * @param sequences token ids, each of length 1..maxContext
   * @throws ModelException when the model's outputs break the contract
   */
  List<SequenceScores> score(List<int[]> sequences, ScoreRequest request);

  @Override
  void close();
}
