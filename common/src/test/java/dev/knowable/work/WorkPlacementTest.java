package dev.knowable.work;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WorkPlacementTest {

  @Test
  void longestFirstByHand() {
    // 7, 5, 4, 3, 3 on 2 partitions: 7 -> p0, 5 -> p1, 4 -> p1 (5 < 7), 3 -> p0 (7 < 9), 3 -> p1 (9 < 10).
    int[] p = WorkPlacement.longestFirst(new double[] {3, 7, 4, 5, 3}, 2);
    assertThat(p).containsExactly(0, 0, 1, 1, 1);
    assertThat(WorkPlacement.maxLoad(new double[] {3, 7, 4, 5, 3}, p, 2)).isEqualTo(12.0);
  }

  @Test
  void longestFirstIsWithinFourThirdsOfTheBestPlacement() {
    SplittableRandom random = new SplittableRandom(7);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + random.nextInt(9);
      int parts = 1 + random.nextInt(3);
      double[] costs = new double[n];
      for (int i = 0; i < n; i++) {
        costs[i] = random.nextInt(20);
      }
      double best = bruteForceBest(costs, parts);
      double lpt = WorkPlacement.maxLoad(costs, WorkPlacement.longestFirst(costs, parts), parts);
      assertThat(lpt).as("costs %s on %d partitions", Arrays.toString(costs), parts)
          .isGreaterThanOrEqualTo(best).isLessThanOrEqualTo(best * 4 / 3 + 1e-9);
    }
  }

  @Test
  void longestFirstBeatsHashedPlacementOnSkewedCosts() {
    // The demo's probe fits in miniature: a few heavy MLP fits among many light ones.
    double[] costs = new double[216];
    for (int i = 0; i < costs.length; i++) {
      costs[i] = i % 36 == 0 ? 50 : i % 3 == 0 ? 8 : 0.5;
    }
    double total = Arrays.stream(costs).sum();
    int[] lpt = WorkPlacement.longestFirst(costs, 4);
    assertThat(WorkPlacement.maxLoad(costs, lpt, 4)).isLessThanOrEqualTo(total / 4 + 50);
    int[] modulo = new int[costs.length];
    for (int i = 0; i < costs.length; i++) {
      modulo[i] = i % 4;
    }
    // i % 36 == 0 lands every heavy fit on partition 0.
    assertThat(WorkPlacement.maxLoad(costs, modulo, 4)).isGreaterThan(WorkPlacement.maxLoad(costs, lpt, 4) * 1.5);
  }

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
  void rejectsBadArguments() {
    assertThatThrownBy(() -> WorkPlacement.longestFirst(new double[] {1}, 0)).hasMessageContaining("partitions");
    assertThatThrownBy(() -> WorkPlacement.longestFirst(new double[] {Double.NaN}, 2)).hasMessageContaining("finite");
    assertThatThrownBy(() -> WorkPlacement.serpentine(-1, 2)).hasMessageContaining("rank");
  }

  private static double bruteForceBest(double[] costs, int parts) {
    int n = costs.length;
    int combos = (int) Math.pow(parts, n);
    double best = Double.POSITIVE_INFINITY;
    int[] placement = new int[n];
    for (int c = 0; c < combos; c++) {
      int x = c;
      for (int i = 0; i < n; i++) {
        placement[i] = x % parts;
        x /= parts;
      }
      best = Math.min(best, WorkPlacement.maxLoad(costs, placement, parts));
    }
    return best;
  }
}
