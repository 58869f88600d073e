package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ContextFeaturesTest {

  @Test
  void oneHotPerSlotWithoutCollisions() {
    // Ids 0..8: slots of 10 (index 0 = no token).
    ContextFeatures k2 = new ContextFeatures(2, 8);
    assertThat(k2.size()).isEqualTo(20);
    assertThat(k2.active(3, 7)).containsExactly(4, 18);
    assertThat(k2.active(3, -1)).containsExactly(4, 10);
    ContextFeatures k1 = new ContextFeatures(1, 8);
    assertThat(k1.size()).isEqualTo(10);
    assertThat(k1.active(3, 7)).containsExactly(4);
    assertThat(k1.active(8)).containsExactly(9);
  }

  @Test
  void aFiftyThousandIdVocabularyGetsOneFeaturePerIdAndSlot() {
    ContextFeatures k4 = new ContextFeatures(4, 50_276);
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int id = -1; id <= 50_276; id++) {
      for (int f : k4.active(id, id, id, id)) {
        assertThat(seen.add(f)).as("feature %d used twice", f).isTrue();
      }
    }
    assertThat(seen).hasSize(k4.size());
  }

  @Test
  void idsOutsideTheRangeAreRefused() {
    assertThatThrownBy(() -> new ContextFeatures(1, 8).active(9)).hasMessageContaining("token id 9 outside [-1, 8]");
  }
}
