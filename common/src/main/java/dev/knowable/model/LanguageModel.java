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

  /**
   * Scores sequences as one right-padded batch but reads back only the last position of
   * each: B x (topK + probes) numbers cross into the JVM instead of B x T x topK.
   *
   * @param sequences token ids, each of length 1..maxContext
   * @param vocabLimit softmax, entropy, top-k and probes over the first vocabLimit logits
   * @param topK how many most probable ids at the last position; 1..vocabLimit
   * @param probeIds per sequence, ids (each below vocabLimit) whose log-probabilities to
   *     read back at its last position; an empty row for none
   * @throws ModelException when the model's outputs break the contract
   */
  List<LastPosition> scoreLast(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds);

  @Override
  void close();
}
