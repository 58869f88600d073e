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

  /** The argument checks of {@link #scoreLast}, the same for every engine. */
  static void requireScoreLastArguments(ModelContract contract, int sequences, int vocabLimit, int topK,
      int[][] probeIds) {
    if (probeIds.length != sequences) {
      throw new IllegalArgumentException(probeIds.length + " probe rows for " + sequences + " sequences");
    }
    if (vocabLimit < 1 || vocabLimit > contract.vocabSize()) {
      throw new IllegalArgumentException("vocabLimit " + vocabLimit + " outside 1.." + contract.vocabSize());
    }
    if (topK < 1 || topK > vocabLimit) {
      throw new IllegalArgumentException("topK " + topK + " outside 1.." + vocabLimit + " (vocabLimit)");
    }
    for (int i = 0; i < sequences; i++) {
      for (int id : probeIds[i]) {
        if (id < 0 || id >= vocabLimit) {
          throw new IllegalArgumentException("Probe id " + id + " of sequence " + i + " outside 0.."
              + (vocabLimit - 1) + " (vocabLimit " + vocabLimit + ")");
        }
      }
    }
  }

  /**
   * Contract v2's probe_ids input: the rows as a [B, P] rectangle (row-major), P the longest
   * row (at least 1), short rows padded with id 0, which no caller reads back.
   */
  static long[] probeRectangle(int[][] probeIds, int p) {
    long[] probes = new long[probeIds.length * p];
    for (int i = 0; i < probeIds.length; i++) {
      for (int j = 0; j < probeIds[i].length; j++) {
        probes[i * p + j] = probeIds[i][j];
      }
    }
    return probes;
  }

  /** The width P of {@link #probeRectangle}: the longest probe row, at least 1. */
  static int probeWidth(int[][] probeIds) {
    int p = 1;
    for (int[] row : probeIds) {
      p = Math.max(p, row.length);
    }
    return p;
  }

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
