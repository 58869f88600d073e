package dev.knowable.iclt;

import dev.knowable.model.LanguageModel;
import dev.knowable.model.LastPosition;
import dev.knowable.model.TokenBatcher;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the in-context learning test on prompts: one pass reads each prompt's next-token
 * distribution p and its top-k candidates; a second pass scores every hinted sequence
 * {@code prompt + c_j + separator + prompt} and reads q_j at its last position, probed at
 * the k candidate ids. Only the last position of each sequence leaves the device.
 *
 * <p>Each prompt is capped once, for the longest separator, so that every separator sees
 * the same prompt and the same candidates. Sequences of all prompts and separators are
 * pooled and batched by {@code tokenBudget} padded tokens ({@link TokenBatcher}).
 *
 * <p>Thread-safe when the model is (it holds no mutable state).
 */
public final class IcltScorer {
  public static final int DEFAULT_K = 10;

  private final LanguageModel model;
  private final int vocabLimit;
  private final int k;
  private final List<Separator> separators;
  private final int tokenBudget;
  private final int longestSeparator;

  /**
   * @param vocabLimit softmax, entropies and candidates over the first vocabLimit ids
   * @param k candidates per prompt, 1..vocabLimit
   * @param separators at least one, with distinct names
   * @param tokenBudget most padded tokens (sequences x longest) per forward pass
   */
  public IcltScorer(LanguageModel model, int vocabLimit, int k, List<Separator> separators, int tokenBudget) {
    if (k < 1 || k > vocabLimit) {
      throw new IllegalArgumentException("k " + k + " outside 1.." + vocabLimit + " (vocabLimit)");
    }
    if (separators.isEmpty()) {
      throw new IllegalArgumentException("At least one separator is needed");
    }
    if (tokenBudget < 1) {
      throw new IllegalArgumentException("tokenBudget must be >= 1, got " + tokenBudget);
    }
    Set<String> names = new HashSet<>();
    int longest = 0;
    for (Separator s : separators) {
      if (!names.add(s.name())) {
        throw new IllegalArgumentException("Duplicate separator name '" + s.name() + "'");
      }
      longest = Math.max(longest, s.length());
    }
    IcltPrompts.maxPromptLength(model.contract().maxContext(), longest); // fails early when nothing fits
    this.model = model;
    this.vocabLimit = vocabLimit;
    this.k = k;
    this.separators = List.copyOf(separators);
    this.tokenBudget = tokenBudget;
    this.longestSeparator = longest;
  }

  public IcltResult score(int[] prompt) {
    return score(List.of(prompt)).get(0);
  }

  /** Results in prompt order; each prompt is tokens[0..i] of some text, its last token at i. */
  public List<IcltResult> score(List<int[]> prompts) {
    int n = prompts.size();
    int sepCount = separators.size();
    List<int[]> capped = new ArrayList<>(n);
    for (int[] p : prompts) {
      capped.add(IcltPrompts.capPrompt(p, model.contract().maxContext(), longestSeparator));
    }
    List<LastPosition> first = scoreInBatches(capped, new int[n][0], k);

    // Hinted sequence (prompt i, separator s, candidate j) sits at ((i * sepCount) + s) * k + j.
    List<int[]> hinted = new ArrayList<>(n * sepCount * k);
    List<int[]> probes = new ArrayList<>(n * sepCount * k);
    for (int i = 0; i < n; i++) {
      int[] candidates = first.get(i).topkIds();
      for (Separator s : separators) {
        hinted.addAll(IcltPrompts.hintSequences(capped.get(i), candidates, s.ids()));
        for (int j = 0; j < k; j++) {
          probes.add(candidates);
        }
      }
    }
    List<LastPosition> second = scoreInBatches(hinted, probes.toArray(new int[0][]), 1);

    List<IcltResult> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      LastPosition p = first.get(i);
      double[] candidateProbs = exp(p.topkLogprobs());
      Map<String, IcltScores> bySeparator = new LinkedHashMap<>();
      for (int s = 0; s < sepCount; s++) {
        double[][] q = new double[k][];
        double[] qEntropy = new double[k];
        for (int j = 0; j < k; j++) {
          LastPosition h = second.get((i * sepCount + s) * k + j);
          q[j] = exp(h.probeLogprobs());
          qEntropy[j] = h.entropy();
        }
        bySeparator.put(separators.get(s).name(), IcltScores.of(candidateProbs, q, qEntropy));
      }
      out.add(new IcltResult(capped.get(i).length, p.topkIds(), candidateProbs, p.entropy(), bySeparator));
    }
    return out;
  }

  /** scoreLast over token-budget batches, results back in input order. */
  private List<LastPosition> scoreInBatches(List<int[]> sequences, int[][] probeIds, int topK) {
    int[] lengths = new int[sequences.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = sequences.get(i).length;
    }
    LastPosition[] out = new LastPosition[lengths.length];
    for (List<Integer> batch : TokenBatcher.batches(lengths, tokenBudget, Integer.MAX_VALUE)) {
      List<int[]> seqs = new ArrayList<>(batch.size());
      int[][] probes = new int[batch.size()][];
      for (int b = 0; b < batch.size(); b++) {
        seqs.add(sequences.get(batch.get(b)));
        probes[b] = probeIds[batch.get(b)];
      }
      List<LastPosition> got = model.scoreLast(seqs, vocabLimit, topK, probes);
      for (int b = 0; b < batch.size(); b++) {
        out[batch.get(b)] = got.get(b);
      }
    }
    return List.of(out);
  }

  private static double[] exp(float[] logprobs) {
    double[] out = new double[logprobs.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.exp(logprobs[i]);
    }
    return out;
  }
}
