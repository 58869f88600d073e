package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TorchScriptModel#outputWeights}: the head read from the module's parameters,
 * applied in Java to the final hidden state the model returns, gives back the model's own
 * entropy and top-1 at every position (tolerance 1e-4 nats: fp32 on both sides; the model
 * reduces its logits in another order).
 */
class OutputWeightsTest {
  static List<Path> models() {
    return List.of(TestModels.demo("tiny-small"), TestModels.demo("bpe-small"), TestModels.fixture("random-small"),
        TestModels.fixture("tiny-small-v2"));
  }

  @ParameterizedTest
  @MethodSource("models")
  void headTimesFinalHiddenStateGivesTheModelsEntropy(Path dir) {
    ModelContract contract = ModelContract.read(dir);
    try (TorchScriptModel model = TorchScriptModel.load(contract, Device.cpu())) {
      int vocab = contract.vocabLimit();
      int d = contract.hiddenSize();
      TorchScriptModel.OutputWeights head = model.outputWeights(vocab);
      assertThat(head.weight()).hasSize(vocab * d);
      assertThat(head.vocab()).isEqualTo(vocab);
      Random random = new Random(7);
      int[] ids = new int[40];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = random.nextInt(vocab);
      }
      int topK = Math.min(vocab, contract.version() == 2 ? contract.topK() : 5);
      SequenceScores s = model.score(List.of(ids), new ScoreRequest(vocab, topK, List.of(contract.numLayers())))
          .get(0);
      double[] z = new double[vocab];
      for (int p = 0; p < ids.length; p++) {
        float[] h = s.hiddenAt(0, p, d);
        int arg = 0;
        for (int v = 0; v < vocab; v++) {
          double acc = head.bias() == null ? 0 : head.bias()[v];
          for (int i = 0; i < d; i++) {
            acc += (double) head.weight()[v * d + i] * h[i];
          }
          z[v] = acc;
          arg = z[v] > z[arg] ? v : arg;
        }
        double m = z[arg];
        double sum = 0;
        double t = 0;
        for (double x : z) {
          double e = Math.exp(x - m);
          sum += e;
          t += e * (x - m);
        }
        double entropy = Math.log(sum) - t / sum;
        assertThat(entropy).as("%s position %d", dir.getFileName(), p).isCloseTo(s.entropy()[p], within(1e-4));
        assertThat(arg).as("%s top-1 at %d", dir.getFileName(), p).isEqualTo(s.top1Id(p));
        assertThat(-Math.log(sum)).as("top-1 log-prob").isCloseTo(s.topkLogprobsAt(p)[0], within(1e-4));
      }
    }
  }
}
