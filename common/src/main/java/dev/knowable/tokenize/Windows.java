package dev.knowable.tokenize;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document of n tokens into consecutive model inputs of at most {@code length}
 * tokens, each starting {@code overlap} tokens before the previous one ends.
 *
 * <p>Every position is scored by exactly one window. A position in the overlap of windows
 * k and k+1 has more left context in window k (it sits further from k's start), so window
 * k scores it and window k+1 scores only what follows window k's end: window k+1's first
 * scored position sees {@code overlap} tokens of context, the least any position after the
 * first window sees. A document of at most {@code length} tokens is one window that scores
 * every position: exactly the unwindowed pass.
 */
public final class Windows {
  private Windows() {}

  /**
   * One model input: tokens {@code [start, end)} of the document; positions
   * {@code [scoreFrom, end)} (document positions) are the ones it scores.
   */
  public record Window(int start, int end, int scoreFrom) implements Serializable {
    public int length() {
      return end - start;
    }
  }

  /**
   * @param n document length in tokens (0: no windows)
   * @param length window length (the model input length, at least 1)
   * @param overlap tokens shared by consecutive windows, in [0, length)
   */
  public static List<Window> of(int n, int length, int overlap) {
    if (n < 0) {
      throw new IllegalArgumentException("Document length must be >= 0, got " + n);
    }
    if (length < 1) {
      throw new IllegalArgumentException("Window length must be >= 1, got " + length);
    }
    if (overlap < 0 || overlap >= length) {
      throw new IllegalArgumentException("Window overlap must be in [0, " + length + "), got " + overlap);
    }
    List<Window> out = new ArrayList<>();
    if (n == 0) {
      return out;
    }
    int start = 0;
    int scoreFrom = 0;
    while (true) {
      int end = (int) Math.min((long) start + length, n);
      out.add(new Window(start, end, scoreFrom));
      if (end == n) {
        return out;
      }
      scoreFrom = end;
      start = end - overlap;
    }
  }
}
