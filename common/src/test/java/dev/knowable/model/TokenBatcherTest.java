package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenBatcherTest {

  @Test
  void batchesStayWithinTheBudgetLongestFirst() {
    int[] lengths = {10, 50, 20, 50, 5, 100, 30};
    List<List<Integer>> b = TokenBatcher.batches(lengths, 100, 3);
    // 100 alone; 50+50 = 2x50 = 100; then 30, 20, 10 -> 3x30 = 90; then 5.
    assertThat(b).containsExactly(List.of(5), List.of(1, 3), List.of(6, 2, 0), List.of(4));
    List<Integer> all = new ArrayList<>();
    b.forEach(all::addAll);
    assertThat(all).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
  }

  @Test
  void aSequenceLongerThanTheBudgetGetsItsOwnBatch() {
    assertThat(TokenBatcher.batches(new int[] {300, 10}, 100, 8)).containsExactly(List.of(0), List.of(1));
    assertThat(TokenBatcher.batches(new int[0], 100, 8)).isEmpty();
  }
}
