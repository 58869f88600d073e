package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.knowable.tokenize.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java runtime against the Python reference outputs (same model, same text), and
 * padding/batching invariance. Tolerance 1e-4 absolute on entropies, probabilities,
 * log-probs and hidden states (fp32 on both sides; observed differences are ~1e-6).
 */
class TorchScriptModelTest {
  static final double TOL = 1e-4;

  @AfterAll
  static void close() {
    ModelRegistry.closeAll();
  }

  static LanguageModel model(Path dir, String engine) {
    return ModelRegistry.get(dir, engine, Device.cpu(), 1);
  }

  /** random-large ships no model.onnx (tools/make_fixtures.py), so only pytorch runs it. */
  @ParameterizedTest
  @CsvSource({"pytorch, random-small", "pytorch, random-large", "onnxruntime, random-small"})
  void matchesPythonReference(String engine, String name) {
    Path dir = TestModels.fixture(name);
    checkAgainstReference(dir, engine);
  }

  /** The trained models in demo/ (the embedded default's pair, the copy-trained small model, the synthetic check's model) against their Python reference. */
  @ParameterizedTest
  @MethodSource("demoFamilyOnEachEngine")
  void demoFamilyMatchesItsPythonReference(String engine, String name) {
    checkAgainstReference(TestModels.demo(name), engine);
  }

  static Stream<Arguments> demoFamilyOnEachEngine() {
    return ModelRegistry.ENGINES.stream().flatMap(e -> Stream.of("tiny-small", "tiny-large", "tiny-small-copy",
        "synthetic-qa", "bpe-small", "bpe-large").map(n -> Arguments.of(e, n)));
  }

  static Stream<Arguments> bpePairOnEachEngine() {
    return ModelRegistry.ENGINES.stream().flatMap(e -> Stream.of("bpe-small", "bpe-large").map(n -> Arguments.of(e, n)));
  }

  @Test
  void demoPairSharesOneTokenizer() {
    assertThat(ModelContract.read(TestModels.demo("tiny-small")).tokenizerSha256())
        .isEqualTo(ModelContract.read(TestModels.demo("tiny-large")).tokenizerSha256())
        .isEqualTo(ModelContract.read(TestModels.fixture("random-small")).tokenizerSha256());
  }

  /** The BPE pair shares one tokenizer, one that is not the byte family's, with 2,257 usable ids. */
  @Test
  void bpePairSharesItsOwnTokenizer() {
    ModelContract small = ModelContract.read(TestModels.demo("bpe-small"));
    ModelContract large = ModelContract.read(TestModels.demo("bpe-large"));
    assertThat(small.tokenizerSha256()).isEqualTo(large.tokenizerSha256())
        .isNotEqualTo(ModelContract.read(TestModels.demo("tiny-small")).tokenizerSha256());
    assertThat(small.vocabLimit()).isEqualTo(large.vocabLimit()).isEqualTo(257 + 2000);
    assertThat(small.vocabSize()).isEqualTo(large.vocabSize()).isEqualTo(2264);
    assertThat(small.maxContext()).isEqualTo(large.maxContext()).isEqualTo(288);
    assertThat(List.of(small.numLayers(), small.hiddenSize(), large.numLayers(), large.hiddenSize()))
        .containsExactly(2, 64, 6, 256);
  }

  /**
   * Batch invariance on a trained BPE model with ids across the whole 2,257-id vocabulary and
   * lengths up to the full 288-token context (the fixtures' vocabulary has 257 ids).
   */
  @ParameterizedTest
  @MethodSource("bpePairOnEachEngine")
  void bpeModelGivesTheSameNumbersAloneAndInABatch(String engine, String name) {
    LanguageModel m = model(TestModels.demo(name), engine);
    ModelContract c = m.contract();
    ScoreRequest req = new ScoreRequest(c.vocabLimit(), 5, List.of(1, c.numLayers()));
    java.util.Random r = new java.util.Random(11);
    List<int[]> seqs = new ArrayList<>();
    for (int len : new int[] {288, 1, 40, 150, 7}) {
      int[] s = new int[len];
      for (int i = 0; i < len; i++) {
        s[i] = r.nextInt(c.vocabLimit());
      }
      seqs.add(s);
    }
    List<SequenceScores> batched = m.score(seqs, req);
    for (int i = 0; i < seqs.size(); i++) {
      SequenceScores alone = m.score(List.of(seqs.get(i)), req).get(0);
      SequenceScores inBatch = batched.get(i);
      assertThat(inBatch.length()).isEqualTo(seqs.get(i).length);
      for (int p = 0; p < alone.length(); p++) {
        assertThat(inBatch.entropy()[p]).as("entropy seq %d pos %d", i, p).isCloseTo(alone.entropy()[p], within(1e-5f));
        for (int j = 0; j < 5; j++) {
          assertThat(inBatch.topkLogprobsAt(p)[j]).as("top-k seq %d pos %d rank %d", i, p, j)
              .isCloseTo(alone.topkLogprobsAt(p)[j], within(1e-4f));
        }
      }
      for (int li = 0; li < 2; li++) {
        for (int x = 0; x < alone.hidden()[li].length; x++) {
          assertThat(inBatch.hidden()[li][x]).isCloseTo(alone.hidden()[li][x], within(1e-4f));
        }
      }
    }
  }

  /** Also used for the trained demo family. */
  static void checkAgainstReference(Path dir, String engine) {
    LanguageModel m = model(dir, engine);
    ModelContract c = m.contract();
    TextTokenizer tok = TextTokenizer.get(dir.resolve("tokenizer.json"));
    List<Integer> layers = new ArrayList<>();
    for (int l = 0; l <= c.numLayers(); l++) {
      layers.add(l);
    }
    List<ReferenceCase> cases = ReferenceCase.read(dir);
    assertThat(cases).as("reference cases in %s", dir).isNotEmpty();
    List<int[]> seqs = new ArrayList<>();
    for (ReferenceCase rc : cases) {
      assertThat(tok.encode(rc.text())).as("Java tokenizer ids equal Python's for %s", rc.text())
          .containsExactly(rc.inputIds());
      seqs.add(rc.inputIds());
    }
    // All cases in one padded batch: the reference was computed one text at a time.
    List<SequenceScores> got = m.score(seqs, new ScoreRequest(c.vocabLimit(), 10, layers));
    for (int ci = 0; ci < cases.size(); ci++) {
      ReferenceCase rc = cases.get(ci);
      SequenceScores s = got.get(ci);
      assertThat(s.length()).isEqualTo(rc.inputIds().length);
      for (int p = 0; p < s.length(); p++) {
        assertThat((double) s.entropy()[p]).as("entropy case %d pos %d", ci, p).isCloseTo(rc.entropy()[p], within(TOL));
        assertThat((double) s.top1Prob(p)).as("top1 prob case %d pos %d", ci, p).isCloseTo(rc.top1Prob()[p], within(TOL));
        for (int j = 0; j < 10; j++) {
          assertThat((double) s.topkLogprobsAt(p)[j]).as("top-k logprob case %d pos %d rank %d", ci, p, j)
              .isCloseTo(rc.topkLogprobs()[p][j], within(TOL));
        }
        // Ids can swap only between near-equal probabilities; compare where the gap is clear.
        if (rc.topkLogprobs()[p][0] - rc.topkLogprobs()[p][1] > 1e-4) {
          assertThat(s.top1Id(p)).as("top1 id case %d pos %d", ci, p).isEqualTo(rc.top1Id()[p]);
        }
        for (int li = 0; li < layers.size(); li++) {
          float[] want = rc.hidden().get(layers.get(li))[p];
          float[] have = s.hiddenAt(li, p, c.hiddenSize());
          for (int x = 0; x < want.length; x++) {
            assertThat((double) have[x]).as("hidden layer %d case %d pos %d dim %d", layers.get(li), ci, p, x)
                .isCloseTo(want[x], within(TOL));
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pytorch", "onnxruntime"})
  void batchOfOneAndBatchOfManyGiveTheSameNumbers(String engine) {
    LanguageModel m = model(TestModels.fixture("random-small"), engine);
    ScoreRequest req = new ScoreRequest(m.contract().vocabLimit(), 3, List.of(0, 2));
    java.util.Random r = new java.util.Random(7);
    List<int[]> seqs = new ArrayList<>();
    for (int len : new int[] {1, 17, 64, 5, 128, 33}) {
      int[] s = new int[len];
      for (int i = 0; i < len; i++) {
        s[i] = r.nextInt(257);
      }
      seqs.add(s);
    }
    List<SequenceScores> batched = m.score(seqs, req);
    for (int i = 0; i < seqs.size(); i++) {
      SequenceScores alone = m.score(List.of(seqs.get(i)), req).get(0);
      SequenceScores inBatch = batched.get(i);
      assertThat(inBatch.length()).isEqualTo(seqs.get(i).length);
      for (int p = 0; p < alone.length(); p++) {
        assertThat(inBatch.entropy()[p]).as("entropy seq %d pos %d", i, p).isCloseTo(alone.entropy()[p], within(1e-5f));
      }
      for (int li = 0; li < 2; li++) {
        for (int x = 0; x < alone.hidden()[li].length; x++) {
          assertThat(inBatch.hidden()[li][x]).isCloseTo(alone.hidden()[li][x], within(1e-4f));
        }
      }
      assertThat(inBatch.topkIds()).containsExactly(alone.topkIds());
    }
  }

  @Test
  void modelThatBreaksTheContractFailsWithAClearMessage() {
    assertThatThrownBy(() -> model(TestModels.fixture("bad-contract"), "pytorch"))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("returned 1 output(s)")
        .hasMessageContaining("MODEL_CONTRACT");
  }

  @Test
  void unknownEngineOrMissingOnnxFailsWithAClearMessage() {
    assertThatThrownBy(() -> model(TestModels.fixture("random-small"), "tensorflow"))
        .isInstanceOf(ModelException.class).hasMessageContaining("Unknown model engine 'tensorflow'")
        .hasMessageContaining("onnxruntime");
    assertThatThrownBy(() -> model(TestModels.fixture("random-large"), "onnxruntime"))
        .isInstanceOf(ModelException.class).hasMessageContaining("has no model.onnx");
  }

  @Test
  void missingOrIncompleteModelDirectoryIsNamed(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> ModelContract.read(tmp.resolve("nope")))
        .isInstanceOf(ModelException.class).hasMessageContaining("Model directory not found");
    Files.writeString(tmp.resolve("knowable.json"), "{}");
    assertThatThrownBy(() -> ModelContract.read(tmp))
        .isInstanceOf(ModelException.class).hasMessageContaining("lacks model.pt, tokenizer.json");
  }

  @Test
  void aModelWithoutOrWithAnotherTokenizerFingerprintIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path src = TestModels.fixture("random-small");
    for (String f : List.of("model.pt", "tokenizer.json", "config.json")) {
      Files.copy(src.resolve(f), tmp.resolve(f));
    }
    String manifest = Files.readString(src.resolve("knowable.json"));
    Files.writeString(tmp.resolve("knowable.json"),
        manifest.replaceAll("\"tokenizer_sha256\"\\s*:\\s*\"[0-9a-f]+\",?", ""));
    assertThatThrownBy(() -> ModelContract.read(tmp)).isInstanceOf(ModelException.class)
        .hasMessageContaining("lacks 'tokenizer_sha256'");
    Files.writeString(tmp.resolve("knowable.json"), manifest);
    assertThat(ModelContract.read(tmp).tokenizerSha256()).as("the original files pass").isNotEmpty();
    Files.writeString(tmp.resolve("tokenizer.json"), Files.readString(src.resolve("tokenizer.json")) + " ");
    assertThatThrownBy(() -> ModelContract.read(tmp)).isInstanceOf(ModelException.class)
        .hasMessageContaining("is not the one the model was exported with");
  }

  @Test
  void layersResolveFromTheEndAndOutOfRangeIsAnError() {
    ModelContract c = ModelContract.read(TestModels.fixture("random-small"));
    assertThat(c.resolveLayers(List.of(-1, 0, 1))).containsExactly(2, 0, 1);
    assertThatThrownBy(() -> c.resolveLayers(List.of(3))).hasMessageContaining("out of range");
  }
}
