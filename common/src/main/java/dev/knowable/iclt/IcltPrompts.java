package dev.knowable.iclt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds the hinted sequences of the in-context learning test: for each candidate c of a
 * prompt, {@code prompt + c + separator + prompt}, whose last position gives the model's
 * next-token distribution after it has seen the hint c.
 */
public final class IcltPrompts {
  private IcltPrompts() {}

  /**
   * Longest prompt whose hinted sequence fits the model: two copies, one candidate and the
   * separator must fit maxContext, so floor((maxContext - sepLength - 1) / 2).
   *
   * @throws IllegalArgumentException when not even a one-token prompt fits
   */
  public static int maxPromptLength(int maxContext, int sepLength) {
    if (sepLength < 0) {
      throw new IllegalArgumentException("Separator length must be >= 0, got " + sepLength);
    }
    long room = (long) maxContext - sepLength - 1;
    if (room < 2) {
      throw new IllegalArgumentException("maxContext " + maxContext + " is too small for an ICLT sequence with a "
          + sepLength + "-token separator: prompt + candidate + separator + prompt needs at least "
          + (sepLength + 3) + " tokens");
    }
    return (int) (room / 2);
  }

  /**
   * The prompt cut to its last {@link #maxPromptLength} tokens (the most recent context
   * matters most for the next token); the prompt itself when it already fits.
   *
   * @throws IllegalArgumentException on an empty prompt or a maxContext too small
   */
  public static int[] capPrompt(int[] prompt, int maxContext, int sepLength) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("Empty prompt: the ICLT needs at least one token");
    }
    int cap = maxPromptLength(maxContext, sepLength);
    return prompt.length <= cap ? prompt.clone() : Arrays.copyOfRange(prompt, prompt.length - cap, prompt.length);
  }

  /** One sequence {@code cappedPrompt + candidates[j] + separator + cappedPrompt} per candidate, in order. */
  public static List<int[]> hintSequences(int[] cappedPrompt, int[] candidates, int[] separator) {
    if (cappedPrompt.length == 0) {
      throw new IllegalArgumentException("Empty prompt: the ICLT needs at least one token");
    }
    int n = cappedPrompt.length;
    List<int[]> out = new ArrayList<>(candidates.length);
    for (int c : candidates) {
      int[] s = new int[2 * n + 1 + separator.length];
      System.arraycopy(cappedPrompt, 0, s, 0, n);
      s[n] = c;
      System.arraycopy(separator, 0, s, n + 1, separator.length);
      System.arraycopy(cappedPrompt, 0, s, n + 1 + separator.length, n);
      out.add(s);
    }
    return out;
  }
}
