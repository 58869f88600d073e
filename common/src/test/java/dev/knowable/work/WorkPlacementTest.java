package dev.knowable.work;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WorkPlacementTest {

  @Test
  void serpentineDealsEachTierOnceToEveryPartition() {
    int[] got = new int[12];
    for (int r = 0; r < 12; r++) {
      got[r] = WorkPlacement.serpentine(r, 3);
    }
    assertThat(got).containsExactly(0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0);
    assertThat(WorkPlacement.serpentine(5, 1)).isZero();
  }

  @Test
  void serpentineEvensOutSkewedCosts() {
    // Documents in decreasing cost (as ranked): a few long ones, many short ones.
    double[] costs = new double[240];
    for (int i = 0; i < costs.length; i++) {
      costs[i] = 100 * Math.pow(0.98, i) + 5;
    }
    double[] load = new double[8];
    double[] chunked = new double[8];
    for (int i = 0; i < costs.length; i++) {
      load[WorkPlacement.serpentine(i, 8)] += costs[i];
      chunked[i * 8 / costs.length] += costs[i]; // contiguous ranges, as a range partitioning gives
    }
    double mean = Arrays.stream(costs).sum() / 8;
    assertThat(Arrays.stream(load).max().orElseThrow()).isLessThan(mean * 1.01);
    assertThat(Arrays.stream(chunked).max().orElseThrow()).isGreaterThan(mean * 3);
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> WorkPlacement.serpentine(-1, 2)).hasMessageContaining("rank");
    assertThatThrownBy(() -> WorkPlacement.serpentine(1, 0)).hasMessageContaining("partitions");
  }
}
