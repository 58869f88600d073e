package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Contract v2 (scoring head in the graph) against contract v1 on the same weights, on each
 * engine: the v2 fixtures are re-exports of random-small, random-large and the demo's
 * tiny-small (tools/make_fixtures.py, knowable_lm.export --from-export). Tolerance 1e-4
 * absolute on entropies, log-probs and hidden states, fp32 on the CPU on both sides.
 */
class ContractV2Test {
  static final double TOL = 1e-4;

  @AfterAll
  static void close() {
    ModelRegistry.closeAll();
  }

  static LanguageModel model(Path dir, String engine) {
    return ModelRegistry.get(dir, engine, Device.cpu(), 1);
  }

  /** (engine, v1 directory, v2 directory): random-large-v2 has no model.onnx, like random-large. */
  static Stream<Arguments> pairs() {
    Path small = TestModels.fixture("random-small");
    Path smallV2 = TestModels.fixture("random-small-v2");
    Path tiny = TestModels.demo("tiny-small");
    Path tinyV2 = TestModels.fixture("tiny-small-v2");
    return Stream.of(Arguments.of("pytorch", small, smallV2), Arguments.of("onnxruntime", small, smallV2),
        Arguments.of("pytorch", TestModels.fixture("random-large"), TestModels.fixture("random-large-v2")),
        Arguments.of("pytorch", tiny, tinyV2), Arguments.of("onnxruntime", tiny, tinyV2));
  }

  @Test
  void manifestDeclaresVersionTwoAndItsTopK() {
    ModelContract v1 = ModelContract.read(TestModels.fixture("random-small"));
    ModelContract v2 = ModelContract.read(TestModels.fixture("random-small-v2"));
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.topK()).isZero();
    assertThat(v2.version()).isEqualTo(2);
    assertThat(v2.topK()).isEqualTo(10);
    assertThat(v2.tokenizerSha256()).isEqualTo(v1.tokenizerSha256());
  }

  /** The fixtures' reference.json (eager fp32 Python, the v1 module) read through the v2 graph. */
  @ParameterizedTest
  @CsvSource({"pytorch, random-small-v2", "onnxruntime, random-small-v2", "pytorch, random-large-v2"})
  void v2MatchesThePythonReference(String engine, String name) {
    TorchScriptModelTest.checkAgainstReference(TestModels.fixture(name), engine);
  }

  @ParameterizedTest
  @MethodSource("pairs")
  void v2ScoresEqualV1Scores(String engine, Path v1Dir, Path v2Dir) {
    LanguageModel v1 = model(v1Dir, engine);
    LanguageModel v2 = model(v2Dir, engine);
    ModelContract c = v1.contract();
    List<Integer> layers = new ArrayList<>();
    for (int l = c.numLayers(); l >= 0; l--) {
      layers.add(l); // every layer, in an order other than 0..L
    }
    ScoreRequest req = new ScoreRequest(c.vocabLimit(), 10, layers);
    // ids over the whole embedding (some at or above vocab_limit), lengths up to max_context
    List<int[]> seqs = ScoreLastTest.randomSequences(3, c.vocabSize(), 1, 17, c.maxContext(), 5, 64);
    List<SequenceScores> a = v1.score(seqs, req);
    List<SequenceScores> b = v2.score(seqs, req);
    double worst = 0;
    for (int i = 0; i < seqs.size(); i++) {
      SequenceScores s1 = a.get(i);
      SequenceScores s2 = b.get(i);
      assertThat(s2.length()).isEqualTo(s1.length());
      assertThat(s1.nextLogprob()).as("v1 models report no next-token log-prob").isNull();
      for (int p = 0; p < s1.length(); p++) {
        worst = Math.max(worst, Math.abs(s1.entropy()[p] - s2.entropy()[p]));
        assertThat((double) s2.entropy()[p]).as("entropy seq %d pos %d", i, p).isCloseTo(s1.entropy()[p], within(TOL));
        float[] l1 = s1.topkLogprobsAt(p);
        float[] l2 = s2.topkLogprobsAt(p);
        int[] i1 = s1.topkIdsAt(p);
        int[] i2 = s2.topkIdsAt(p);
        for (int j = 0; j < 10; j++) {
          assertThat((double) l2[j]).as("top-k log-prob seq %d pos %d rank %d", i, p, j).isCloseTo(l1[j], within(TOL));
          // ids may swap only between near-equal log-probs
          boolean clear = (j == 0 || l1[j - 1] - l1[j] > TOL) && (j == 9 || l1[j] - l1[j + 1] > TOL);
          if (clear) {
            assertThat(i2[j]).as("top-k id seq %d pos %d rank %d", i, p, j).isEqualTo(i1[j]);
          }
        }
        for (int li = 0; li < layers.size(); li++) {
          float[] h1 = s1.hiddenAt(li, p, c.hiddenSize());
          float[] h2 = s2.hiddenAt(li, p, c.hiddenSize());
          for (int x = 0; x < h1.length; x++) {
            assertThat((double) h2[x]).as("hidden l%d seq %d pos %d dim %d", layers.get(li), i, p, x)
                .isCloseTo(h1[x], within(TOL));
          }
        }
      }
    }
    assertThat(worst).as("largest |entropy v1 - v2|").isLessThan(TOL);
  }

  /**
   * v2's next-token log-prob at position p equals v1's log-prob of token p + 1 read as a
   * probe at the last position of the prefix 0..p; NaN at the last position, -Infinity for
   * an id at or above vocab_limit.
   */
  @ParameterizedTest
  @MethodSource("pairs")
  void nextTokenLogprobEqualsV1ProbeOfTheNextToken(String engine, Path v1Dir, Path v2Dir) {
    LanguageModel v1 = model(v1Dir, engine);
    LanguageModel v2 = model(v2Dir, engine);
    int vl = v1.contract().vocabLimit();
    int[] seq = ScoreLastTest.randomSequences(5, vl, 40).get(0);
    seq[20] = v1.contract().vocabSize() - 1; // an id past vocab_limit (a padding row of the matrix)
    SequenceScores s = v2.score(List.of(seq), new ScoreRequest(vl, 1, List.of())).get(0);
    List<int[]> prefixes = new ArrayList<>();
    int[][] probes = new int[seq.length - 1][];
    for (int p = 0; p + 1 < seq.length; p++) {
      prefixes.add(java.util.Arrays.copyOf(seq, p + 1));
      probes[p] = new int[] {Math.min(seq[p + 1], vl - 1)};
    }
    List<LastPosition> last = v1.scoreLast(prefixes, vl, 1, probes);
    for (int p = 0; p + 1 < seq.length; p++) {
      if (seq[p + 1] >= vl) {
        assertThat(s.nextLogprob()[p]).as("next id past vocab_limit at %d", p).isEqualTo(Float.NEGATIVE_INFINITY);
      } else {
        assertThat((double) s.nextLogprob()[p]).as("next-token log-prob at %d", p)
            .isCloseTo(last.get(p).probeLogprobs()[0], within(TOL));
      }
    }
    assertThat(s.nextLogprob()[seq.length - 1]).as("no next token at the end").isNaN();
  }

  @ParameterizedTest
  @MethodSource("pairs")
  void scoreLastOfV2EqualsV1(String engine, Path v1Dir, Path v2Dir) {
    LanguageModel v1 = model(v1Dir, engine);
    LanguageModel v2 = model(v2Dir, engine);
    int vl = v1.contract().vocabLimit();
    List<int[]> seqs = ScoreLastTest.randomSequences(9, vl, 1, 33, 7, 90);
    int[][] probes = {{0, vl - 1, 5}, {}, {3}, {vl - 2, 1}};
    List<LastPosition> a = v1.scoreLast(seqs, vl, 5, probes);
    List<LastPosition> b = v2.scoreLast(seqs, vl, 5, probes);
    for (int i = 0; i < seqs.size(); i++) {
      assertThat((double) b.get(i).entropy()).as("entropy %d", i).isCloseTo(a.get(i).entropy(), within(TOL));
      assertThat(b.get(i).probeLogprobs()).hasSameSizeAs(probes[i]);
      for (int j = 0; j < probes[i].length; j++) {
        assertThat((double) b.get(i).probeLogprobs()[j]).as("probe %d of %d", j, i)
            .isCloseTo(a.get(i).probeLogprobs()[j], within(TOL));
      }
      for (int j = 0; j < 5; j++) {
        assertThat((double) b.get(i).topkLogprobs()[j]).isCloseTo(a.get(i).topkLogprobs()[j], within(TOL));
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"pytorch", "onnxruntime"})
  void v2GivesTheSameNumbersAloneAndInABatch(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small-v2"), engine);
    ScoreRequest req = new ScoreRequest(m.contract().vocabLimit(), 3, List.of(0, 2));
    List<int[]> seqs = ScoreLastTest.randomSequences(7, 257, 1, 17, 64, 5, 128, 33);
    List<SequenceScores> batched = m.score(seqs, req);
    for (int i = 0; i < seqs.size(); i++) {
      SequenceScores alone = m.score(List.of(seqs.get(i)), req).get(0);
      SequenceScores inBatch = batched.get(i);
      for (int p = 0; p < alone.length(); p++) {
        assertThat(inBatch.entropy()[p]).isCloseTo(alone.entropy()[p], within(1e-5f));
        if (p + 1 < alone.length()) {
          assertThat(inBatch.nextLogprob()[p]).isCloseTo(alone.nextLogprob()[p], within(1e-4f));
        }
      }
      for (int li = 0; li < 2; li++) {
        for (int x = 0; x < alone.hidden()[li].length; x++) {
          assertThat(inBatch.hidden()[li][x]).isCloseTo(alone.hidden()[li][x], within(1e-4f));
        }
      }
      assertThat(inBatch.topkIds()).containsExactly(alone.topkIds());
    }
  }

  /** The v2 graph fixes vocab_limit and top_k at export: other requests fail naming the fix. */
  @ParameterizedTest
  @CsvSource({"pytorch", "onnxruntime"})
  void requestsTheV2GraphCannotServeFailWithTheFix(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small-v2"), engine);
    int vl = m.contract().vocabLimit();
    List<int[]> one = List.of(new int[] {1, 2, 3});
    assertThatThrownBy(() -> m.score(one, new ScoreRequest(vl - 1, 1, List.of())))
        .isInstanceOf(ModelException.class).hasMessageContaining("vocab_limit " + vl)
        .hasMessageContaining("--vocab-limit " + (vl - 1));
    assertThatThrownBy(() -> m.score(one, new ScoreRequest(vl, 11, List.of())))
        .isInstanceOf(ModelException.class).hasMessageContaining("returns 10 ids").hasMessageContaining("--top-k 11");
    assertThatThrownBy(() -> m.scoreLast(one, vl, 11, new int[1][0]))
        .isInstanceOf(ModelException.class).hasMessageContaining("--top-k 11");
  }

  @Test
  void aContractVersionThatContradictsTheContractIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path src = TestModels.fixture("random-small-v2");
    for (String f : List.of("model.pt", "tokenizer.json", "config.json")) {
      Files.copy(src.resolve(f), tmp.resolve(f));
    }
    String manifest = Files.readString(src.resolve("knowable.json"));
    Files.writeString(tmp.resolve("knowable.json"), manifest.replace("\"contract_version\": 2", "\"contract_version\": 1"));
    assertThatThrownBy(() -> ModelContract.read(tmp)).isInstanceOf(ModelException.class)
        .hasMessageContaining("contradicts");
    Files.writeString(tmp.resolve("knowable.json"), manifest.replace("knowable-causal-lm/2", "knowable-causal-lm/3"));
    assertThatThrownBy(() -> ModelContract.read(tmp)).isInstanceOf(ModelException.class)
        .hasMessageContaining("knowable-causal-lm/3").hasMessageContaining("knowable-causal-lm/2");
    Files.writeString(tmp.resolve("knowable.json"), manifest.replaceAll("\"top_k\"\\s*:\\s*10,", ""));
    assertThatThrownBy(() -> ModelContract.read(tmp)).isInstanceOf(ModelException.class)
        .hasMessageContaining("top_k");
  }
}
