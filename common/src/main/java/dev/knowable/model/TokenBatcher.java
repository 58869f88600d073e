package dev.knowable.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Groups sequences into batches by token budget: a batch's padded size (count x longest)
 * stays within {@code tokenBudget} and its count within {@code maxBatchSize}. Sequences are
 * taken longest first, so each batch holds similar lengths and little padding. A sequence
 * longer than the budget forms a batch of its own.
 */
public final class TokenBatcher {
  private TokenBatcher() {}

  /** Returns batches of indices into {@code lengths}. */
  public static List<List<Integer>> batches(int[] lengths, int tokenBudget, int maxBatchSize) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      order.add(i);
    }
    order.sort(Comparator.comparingInt((Integer i) -> -lengths[i]).thenComparingInt(i -> i));
    List<List<Integer>> out = new ArrayList<>();
    List<Integer> cur = new ArrayList<>();
    int longest = 0;
    for (int i : order) {
      int newLongest = Math.max(longest, lengths[i]);
      if (!cur.isEmpty() && ((long) newLongest * (cur.size() + 1) > tokenBudget || cur.size() >= maxBatchSize)) {
        out.add(cur);
        cur = new ArrayList<>();
        newLongest = lengths[i];
      }
      cur.add(i);
      longest = newLongest;
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }
}
