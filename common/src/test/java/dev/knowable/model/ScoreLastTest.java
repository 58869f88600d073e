package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link LanguageModel#scoreLast} against score(), the Python reference, and batching; the entropy helper. */
class ScoreLastTest {
  static final double TOL = 1e-4;

  @AfterAll
  static void close() {
    ModelRegistry.closeAll();
  }

  static LanguageModel model(Path dir, String engine) {
    return ModelRegistry.get(dir, engine, Device.cpu(), 1);
  }

  static List<int[]> randomSequences(long seed, int vocab, int... lengths) {
    Random r = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int len : lengths) {
      int[] s = new int[len];
      for (int i = 0; i < len; i++) {
        s[i] = r.nextInt(vocab);
      }
      out.add(s);
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"pytorch", "onnxruntime"})
  void agreesWithScoreAtTheLastPosition(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small"), engine);
    int v = m.contract().vocabLimit();
    List<int[]> seqs = randomSequences(11, v, 1, 17, 64, 5, 128, 33);
    List<SequenceScores> full = m.score(seqs, new ScoreRequest(v, 5, List.of()));
    List<LastPosition> last = m.scoreLast(seqs, v, 5, new int[seqs.size()][0]);
    for (int i = 0; i < seqs.size(); i++) {
      int p = seqs.get(i).length - 1;
      LastPosition lp = last.get(i);
      assertThat((double) lp.entropy()).as("entropy seq %d", i).isCloseTo(full.get(i).entropy()[p], within(1e-5));
      assertThat(lp.topkIds()).as("top-k ids seq %d", i).containsExactly(full.get(i).topkIdsAt(p));
      for (int j = 0; j < 5; j++) {
        assertThat((double) lp.topkLogprobs()[j]).isCloseTo(full.get(i).topkLogprobsAt(p)[j], within(1e-5));
      }
      assertThat(lp.probeLogprobs()).isEmpty();
    }
  }

  @ParameterizedTest
  @CsvSource({"pytorch, random-small", "pytorch, random-large", "pytorch, demo:tiny-small",
      "onnxruntime, random-small", "onnxruntime, demo:tiny-small", "onnxruntime, demo:tiny-large"})
  void matchesPythonReferenceAtTheLastPosition(String engine, String name) {
    Path dir = name.startsWith("demo:") ? TestModels.demo(name.substring(5)) : TestModels.fixture(name);
    LanguageModel m = model(dir, engine);
    List<ReferenceCase> cases = ReferenceCase.read(dir);
    List<int[]> seqs = new ArrayList<>();
    cases.forEach(c -> seqs.add(c.inputIds()));
    List<LastPosition> got = m.scoreLast(seqs, m.contract().vocabLimit(), 10, new int[seqs.size()][0]);
    for (int ci = 0; ci < cases.size(); ci++) {
      ReferenceCase rc = cases.get(ci);
      int p = rc.inputIds().length - 1;
      LastPosition lp = got.get(ci);
      assertThat((double) lp.entropy()).as("entropy case %d", ci).isCloseTo(rc.entropy()[p], within(TOL));
      for (int j = 0; j < 10; j++) {
        assertThat((double) lp.topkLogprobs()[j]).as("top-k logprob case %d rank %d", ci, j)
            .isCloseTo(rc.topkLogprobs()[p][j], within(TOL));
        // Ids can swap only between near-equal probabilities; compare where the gaps are clear.
        boolean clear = (j == 0 || rc.topkLogprobs()[p][j - 1] - rc.topkLogprobs()[p][j] > 1e-4)
            && (j == 9 || rc.topkLogprobs()[p][j] - rc.topkLogprobs()[p][j + 1] > 1e-4);
        if (clear) {
          assertThat(lp.topkIds()[j]).as("top-k id case %d rank %d", ci, j).isEqualTo(rc.topkIds()[p][j]);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pytorch", "onnxruntime"})
  void batchOfOneAndBatchOfManyGiveTheSameNumbers(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small"), engine);
    int v = m.contract().vocabLimit();
    List<int[]> seqs = randomSequences(5, v, 40, 1, 90, 7, 128);
    int[][] probes = {{1, 2, 3}, {}, {256, 0}, {5}, {9, 9, 100}};
    List<LastPosition> batched = m.scoreLast(seqs, v, 4, probes);
    for (int i = 0; i < seqs.size(); i++) {
      LastPosition alone = m.scoreLast(List.of(seqs.get(i)), v, 4, new int[][] {probes[i]}).get(0);
      LastPosition in = batched.get(i);
      assertThat(in.entropy()).isCloseTo(alone.entropy(), within(1e-5f));
      assertThat(in.topkIds()).containsExactly(alone.topkIds());
      assertThat(in.probeLogprobs()).hasSize(probes[i].length);
      for (int j = 0; j < probes[i].length; j++) {
        assertThat(in.probeLogprobs()[j]).isCloseTo(alone.probeLogprobs()[j], within(1e-5f));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pytorch", "onnxruntime"})
  void probeLogprobsAreTheLogSoftmaxValues(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small"), engine);
    int v = m.contract().vocabLimit();
    List<int[]> seqs = randomSequences(3, v, 12, 30, 2);
    int[][] probes = {{0, 256, 17, 17}, {42}, {}};
    // score() with top-k over the whole vocabulary lists every id's log-softmax value.
    List<SequenceScores> full = m.score(seqs, new ScoreRequest(v, v, List.of()));
    List<LastPosition> last = m.scoreLast(seqs, v, 1, probes);
    for (int i = 0; i < seqs.size(); i++) {
      int p = seqs.get(i).length - 1;
      Map<Integer, Float> logp = new HashMap<>();
      int[] ids = full.get(i).topkIdsAt(p);
      float[] vals = full.get(i).topkLogprobsAt(p);
      for (int j = 0; j < v; j++) {
        logp.put(ids[j], vals[j]);
      }
      assertThat(logp).hasSize(v);
      for (int j = 0; j < probes[i].length; j++) {
        assertThat(last.get(i).probeLogprobs()[j]).as("seq %d probe %d", i, probes[i][j])
            .isCloseTo(logp.get(probes[i][j]), within(1e-5f));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pytorch", "onnxruntime"})
  void badArgumentsAreRejected(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small"), engine);
    int v = m.contract().vocabLimit();
    List<int[]> one = List.of(new int[] {1, 2});
    assertThatThrownBy(() -> m.scoreLast(one, v, 1, new int[][] {{v}}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Probe id " + v);
    assertThatThrownBy(() -> m.scoreLast(one, v, 1, new int[0][]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("probe rows");
    assertThatThrownBy(() -> m.scoreLast(one, v, v + 1, new int[1][0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topK");
    assertThat(m.scoreLast(List.of(), v, 1, new int[0][])).isEmpty();
  }

  /** The onnxruntime engine's Java reduction on the same two rows as the torch helper below. */
  @Test
  void javaReductionCountsZeroTimesLogZeroAsZero() {
    float inf = Float.NEGATIVE_INFINITY;
    int[] ids = new int[2];
    float[] vals = new float[2];
    assertThat(OnnxModel.reduce(new float[] {0, 0, inf}, 3, 2, ids, vals, 0)).isCloseTo(0.6931472f, within(1e-6f));
    assertThat(OnnxModel.reduce(new float[] {0, (float) Math.log(3), inf}, 3, 2, ids, vals, 0))
        .isCloseTo(0.5623351f, within(1e-6f));
    assertThat(ids).containsExactly(1, 0);
    assertThat(vals[0]).isCloseTo((float) Math.log(0.75), within(1e-6f));
    assertThat(vals[1]).isCloseTo((float) Math.log(0.25), within(1e-6f));
  }

  @Test
  void entropyCountsZeroTimesLogZeroAsZero() {
    try (NDManager nd = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      float inf = Float.NEGATIVE_INFINITY;
      // Row 0: logits (0, 0, -inf) -> p = (1/2, 1/2, 0), H = ln 2 = 0.6931472.
      // Row 1: logits (0, ln 3, -inf) -> p = (1/4, 3/4, 0), H = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.5623351.
      NDArray logits = nd.create(new float[] {0, 0, inf, 0, (float) Math.log(3), inf}, new Shape(2, 3));
      NDArray logp = logits.logSoftmax(1);
      float[] h = TorchScriptModel.entropy(logp).toFloatArray();
      assertThat(h[0]).isCloseTo((float) Math.log(2), within(1e-6f));
      assertThat(h[1]).isCloseTo(0.5623351f, within(1e-6f));
      // The formula this replaces: 0 * -inf = NaN.
      assertThat(logp.exp().mul(logp).sum(new int[] {1}).neg().toFloatArray()[0]).isNaN();
    }
  }
}
