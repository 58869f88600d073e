package dev.knowable.model;

import java.util.List;

/**
 * What every engine does the same way before its own work: the argument checks of
 * {@link #scoreLast} and the choice between the contract versions' graphs. Engines
 * (TorchScript, ONNX) only implement the two versions' bodies.
 */
abstract class ContractModel implements LanguageModel {

  @Override
  public final List<LastPosition> scoreLast(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds) {
    int b = sequences.size();
    LanguageModel.requireScoreLastArguments(contract(), b, vocabLimit, topK, probeIds);
    if (b == 0) {
      return List.of();
    }
    return contract().version() == 2
        ? scoreLastV2(sequences, vocabLimit, topK, probeIds)
        : scoreLastV1(sequences, vocabLimit, topK, probeIds);
  }

  /** Contract v1: the last real position's full-vocabulary logits, reduced here. Arguments checked, B > 0. */
  abstract List<LastPosition> scoreLastV1(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds);

  /** Contract v2: the scoring head inside the graph. Arguments checked, B > 0. */
  abstract List<LastPosition> scoreLastV2(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds);
}
