package dev.knowable.iclt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ReferenceCase;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IcltScorer on the trained tiny-small demo model (vocab limit 257, max context 512). */
class IcltScorerTest {
  static final Separator DOT_EOS = new Separator("dot-eos", new int[] {'.', 256});
  static final Separator NONE = new Separator("none", new int[0]);
  static final List<Separator> SEPARATORS = List.of(DOT_EOS, NONE);
  static final int K = IcltScorer.DEFAULT_K;
  static final int BUDGET = 1 << 14;

  static LanguageModel model;
  static int vocabLimit;
  /** The reference texts' tokens end to end: prompts are its prefixes tokens[0..i]. */
  static int[] stream;

  @BeforeAll
  static void load() {
    Path dir = TestModels.demo("tiny-small");
    model = ModelRegistry.get(dir, "pytorch", Device.cpu(), 1);
    vocabLimit = model.contract().vocabLimit();
    stream = ReferenceCase.read(dir).stream().map(ReferenceCase::inputIds).flatMapToInt(Arrays::stream).toArray();
  }

  @AfterAll
  static void close() {
    ModelRegistry.closeAll();
  }

  static int[] prefix(int end) {
    return Arrays.copyOf(stream, end);
  }

  /** Short, medium and one longer than the 254-token cap (512 context, 2-token separator). */
  static List<int[]> prompts() {
    assertThat(stream.length).isGreaterThan(300);
    return List.of(prefix(1), prefix(9), prefix(44), prefix(120), prefix(300));
  }

  @Test
  void resultsAreFiniteAndMiLiesBetweenZeroAndHy() {
    IcltScorer scorer = new IcltScorer(model, vocabLimit, K, SEPARATORS, BUDGET);
    List<IcltResult> results = scorer.score(prompts());
    assertThat(results).hasSize(5);
    assertThat(results.get(4).promptLength()).isEqualTo((512 - 2 - 1) / 2);
    for (IcltResult r : results) {
      assertThat(r.candidates()).hasSize(K).doesNotHaveDuplicates();
      assertThat(r.promptEntropy()).isFinite().isPositive();
      assertThat(r.bySeparator().keySet()).containsExactly("dot-eos", "none");
      for (int j = 1; j < K; j++) {
        assertThat(r.candidateProbs()[j]).as("candidates are p's top k, most probable first")
            .isLessThanOrEqualTo(r.candidateProbs()[j - 1]);
      }
      for (IcltScores s : r.bySeparator().values()) {
        // The scores' definitions tie them together: MI = H(Y) - H(Y|X), ratio = MI / H(Y).
        assertThat(s.mi()).isCloseTo(s.hY() - s.hYGivenX(), within(1e-12));
        assertThat(s.miRatio()).isCloseTo(s.hY() == 0 ? 0 : s.mi() / s.hY(), within(1e-12));
        assertThat(s.minEntropy()).isFinite().isPositive();
        assertThat(s.mi()).isLessThanOrEqualTo(s.hY());
        assertThat(s.hY()).isLessThanOrEqualTo(Math.log(K) + 1e-12);
        assertThat(s.miRatio()).isLessThanOrEqualTo(1);
        assertThat(s.hintRepeat()).isLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void batchingSeveralPromptsGivesTheSameNumbersAsOneByOne() {
    IcltScorer scorer = new IcltScorer(model, vocabLimit, K, SEPARATORS, BUDGET);
    List<IcltResult> together = scorer.score(prompts());
    for (int i = 0; i < prompts().size(); i++) {
      IcltResult alone = scorer.score(prompts().get(i));
      IcltResult in = together.get(i);
      assertThat(in.candidates()).containsExactly(alone.candidates());
      assertThat(in.promptEntropy()).isCloseTo(alone.promptEntropy(), within(1e-5));
      for (Separator sep : SEPARATORS) {
        assertClose(in.scores(sep.name()), alone.scores(sep.name()), "prompt " + i + " " + sep.name());
      }
    }
  }

  /**
   * An independent path: score() over each hand-built sequence with top-k over the whole
   * vocabulary (every id's log-prob), and the scores in the KL form
   * MI = sum_j P(x=j) sum_m P(y=m|x=j) ln(P(y=m|x=j) / P(y=m)).
   */
  @Test
  void equalsScoresComputedByHandFromScore() {
    IcltScorer scorer = new IcltScorer(model, vocabLimit, K, SEPARATORS, BUDGET);
    ScoreRequest all = new ScoreRequest(vocabLimit, vocabLimit, List.of());
    for (int[] prompt : List.of(prefix(30), prefix(300))) {
      IcltResult got = scorer.score(prompt);
      int[] capped = prompt.length > 254 ? Arrays.copyOfRange(prompt, prompt.length - 254, prompt.length) : prompt;
      SequenceScores first = model.score(List.of(capped), all).get(0);
      int last = capped.length - 1;
      int[] candidates = Arrays.copyOf(first.topkIdsAt(last), K);
      double[] p = new double[K];
      for (int j = 0; j < K; j++) {
        p[j] = Math.exp(first.topkLogprobsAt(last)[j]);
      }
      assertThat(got.candidates()).containsExactly(candidates);
      assertThat(got.promptEntropy()).isCloseTo(first.entropy()[last], within(1e-5));
      for (Separator sep : SEPARATORS) {
        double[][] q = new double[K][K];
        double[] qEntropy = new double[K];
        for (int j = 0; j < K; j++) {
          int[] seq = new int[2 * capped.length + 1 + sep.length()];
          System.arraycopy(capped, 0, seq, 0, capped.length);
          seq[capped.length] = candidates[j];
          System.arraycopy(sep.ids(), 0, seq, capped.length + 1, sep.length());
          System.arraycopy(capped, 0, seq, capped.length + 1 + sep.length(), capped.length);
          SequenceScores s = model.score(List.of(seq), all).get(0);
          Map<Integer, Double> logp = new HashMap<>();
          for (int r = 0; r < vocabLimit; r++) {
            logp.put(s.topkIdsAt(seq.length - 1)[r], (double) s.topkLogprobsAt(seq.length - 1)[r]);
          }
          for (int m = 0; m < K; m++) {
            q[j][m] = Math.exp(logp.get(candidates[m]));
          }
          qEntropy[j] = s.entropy()[seq.length - 1];
        }
        assertClose(got.scores(sep.name()), byHand(p, q, qEntropy), "prompt " + prompt.length + " " + sep.name());
      }
    }
  }

  /** The ICLT scores written out directly (no zero rows occur on this model). */
  static IcltScores byHand(double[] p, double[][] q, double[] qEntropy) {
    int k = p.length;
    double pSum = Arrays.stream(p).sum();
    double[][] cond = new double[k][k];
    double[] py = new double[k];
    for (int j = 0; j < k; j++) {
      double rowSum = Arrays.stream(q[j]).sum();
      for (int m = 0; m < k; m++) {
        cond[j][m] = q[j][m] / rowSum;
        py[m] += p[j] / pSum * cond[j][m];
      }
    }
    double hy = 0;
    for (double y : py) {
      hy -= y * Math.log(y);
    }
    double mi = 0;
    double hint = 0;
    for (int j = 0; j < k; j++) {
      for (int m = 0; m < k; m++) {
        mi += p[j] / pSum * cond[j][m] * Math.log(cond[j][m] / py[m]);
      }
      hint += p[j] / pSum * q[j][j];
    }
    return new IcltScores(mi, mi / hy, hy, hy - mi, Arrays.stream(qEntropy).min().orElseThrow(), hint);
  }

  static void assertClose(IcltScores a, IcltScores b, String what) {
    assertThat(a.mi()).as("MI %s", what).isCloseTo(b.mi(), within(1e-5));
    assertThat(a.miRatio()).as("MI ratio %s", what).isCloseTo(b.miRatio(), within(1e-5));
    assertThat(a.hY()).as("H(Y) %s", what).isCloseTo(b.hY(), within(1e-5));
    assertThat(a.minEntropy()).as("min entropy %s", what).isCloseTo(b.minEntropy(), within(1e-5));
    assertThat(a.hintRepeat()).as("hint repeat %s", what).isCloseTo(b.hintRepeat(), within(1e-5));
  }

  /**
   * The bundled copy-trained small model, demo/models/tiny-small-copy, copies in context
   * (docs/ICLT.md, "Copying in context"); the embedded default's tiny-small does not. Held-out
   * natural text (the first 10 probe documents of each domain with at least 300 bytes, prompt
   * = their first 150 tokens): the expected probability of repeating the hint, hint_repeat =
   * sum_j P(x=j) q_j(c_j), against the same candidate's probability without a hint,
   * sum_j P(x=j)^2 (P renormalised over the top k). A model that ignores the hint gives
   * hint_repeat at or below the no-hint value (q_j(c_j) is then p(c_j) <= P(x=j)): tiny-small
   * gives 0.383 against 0.402, above it in 4 of 50 prompts, and fails this check.
   * tiny-small-copy, measured: 0.639 against 0.528, above in 37 of 50 ("." + end-of-text; 36
   * with no separator). The bar, at least 0.08 above on the mean and above in 34 of the 50
   * prompts, says "clearly copies" with room for a retrained model of the same recipe.
   */
  @Test
  void theCopyTrainedSmallModelCopiesTheHintOnHeldOutText() throws java.io.IOException {
    LanguageModel copier = ModelRegistry.get(TestModels.demo("tiny-small-copy"), "pytorch", Device.cpu(), 1);
    List<int[]> prompts = heldOutPrompts();
    for (Separator sep : SEPARATORS) {
      double[] c = copying(copier, prompts, sep);
      assertThat(c[0]).as("mean hint_repeat, separator %s", sep.name()).isGreaterThan(c[1] + 0.08);
      assertThat(c[2]).as("prompts whose hint_repeat exceeds the no-hint value, %s", sep.name())
          .isGreaterThanOrEqualTo(34);
      // the same check on the default pair's tiny-small, which does not copy: it fails there
      double[] t = copying(model, prompts, sep);
      assertThat(t[0]).as("tiny-small's mean hint_repeat, %s", sep.name()).isLessThan(t[1] + 0.08);
      assertThat(t[2]).as("tiny-small's prompts above, %s", sep.name()).isLessThan(34);
    }
  }

  /** The first 150 tokens of the first 10 probe documents of each domain with at least 300 tokens. */
  static List<int[]> heldOutPrompts() throws java.io.IOException {
    dev.knowable.tokenize.TextTokenizer tok =
        dev.knowable.tokenize.TextTokenizer.get(TestModels.demo("tiny-small").resolve("tokenizer.json"));
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<int[]> prompts = new ArrayList<>();
    for (String d : List.of("code", "legal", "reference", "scripture", "speech")) {
      Path file = TestModels.repoRoot().resolve("demo/corpora/probe/" + d + ".jsonl");
      int n = 0;
      for (String line : java.nio.file.Files.readAllLines(file)) {
        int[] ids = tok.encode(json.readTree(line).get("text").asText());
        if (ids.length >= 300 && n++ < 10) {
          prompts.add(Arrays.copyOf(ids, 150));
        }
      }
    }
    assertThat(prompts).hasSize(50);
    return prompts;
  }

  /** {mean hint_repeat, mean no-hint value sum_j P(x=j)^2, prompts where the first is higher}. */
  static double[] copying(LanguageModel m, List<int[]> prompts, Separator sep) {
    IcltScorer scorer = new IcltScorer(m, m.contract().vocabLimit(), K, List.of(sep), BUDGET);
    List<IcltResult> results = scorer.score(prompts);
    double hint = 0;
    double noHint = 0;
    int above = 0;
    for (IcltResult r : results) {
      double sum = Arrays.stream(r.candidateProbs()).sum();
      double self = Arrays.stream(r.candidateProbs()).map(x -> (x / sum) * (x / sum)).sum();
      double h = r.scores(sep.name()).hintRepeat();
      hint += h / results.size();
      noHint += self / results.size();
      above += h > self ? 1 : 0;
    }
    System.out.printf("copy check, %s, separator %s, %d held-out prompts: hint_repeat %.3f, no hint %.3f, "
        + "hint above no hint in %d%n", m.contract().name(), sep.name(), results.size(), hint, noHint, above);
    return new double[] {hint, noHint, above};
  }

  @Test
  void badSettingsAreRejected() {
    assertThatThrownBy(() -> new IcltScorer(model, vocabLimit, 0, SEPARATORS, BUDGET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k 0");
    assertThatThrownBy(() -> new IcltScorer(model, vocabLimit, K, List.of(NONE, new Separator("none", new int[] {1})),
        BUDGET)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Duplicate separator");
    assertThatThrownBy(() -> new IcltScorer(model, vocabLimit, K, List.of(new Separator("huge", new int[510])),
        BUDGET)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too small");
  }

  /**
   * Prints seconds per prompt (k = 10, two separators, one torch thread, 256-token prompts
   * capped to 254): a measurement for the record, not a check.
   */
  @Test
  void printsSecondsPerPrompt() {
    IcltScorer scorer = new IcltScorer(model, vocabLimit, K, SEPARATORS, BUDGET);
    List<int[]> prompts = new ArrayList<>();
    for (int end = 256; end < 256 + 6; end++) {
      prompts.add(Arrays.copyOfRange(stream, end - 256, end));
    }
    scorer.score(prompts.get(0)); // warm-up
    long t0 = System.nanoTime();
    for (int[] p : prompts) {
      scorer.score(p);
    }
    double oneByOne = (System.nanoTime() - t0) / 1e9 / prompts.size();
    t0 = System.nanoTime();
    List<IcltResult> r = scorer.score(prompts);
    double batched = (System.nanoTime() - t0) / 1e9 / prompts.size();
    System.out.printf("ICLT tiny-small k=%d separators=%d prompt length 256 (capped %d), 1 thread: "
        + "%.3f s/prompt one by one, %.3f s/prompt batched (token budget %d)%n", K, SEPARATORS.size(),
        r.get(0).promptLength(), oneByOne, batched, BUDGET);
    assertThat(r).hasSize(prompts.size());
  }
}
