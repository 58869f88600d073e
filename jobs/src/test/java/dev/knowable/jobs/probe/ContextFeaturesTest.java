package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.spark.ml.linalg.SparseVector;
import org.junit.jupiter.api.Test;

class ContextFeaturesTest {

  @Test
  void oneHotPerSlot() {
    ContextFeatures k2 = new ContextFeatures(2, 20, 2);
    SparseVector v = k2.encode(3, 7);
    assertThat(v.size()).isEqualTo(20);
    assertThat(v.indices()).containsExactly(4, 18);
    // No previous token (position 0) has its own feature.
    assertThat(k2.encode(3, -1).indices()).containsExactly(4, 10);
    ContextFeatures k1 = new ContextFeatures(1, 20, 2);
    assertThat(k1.size()).isEqualTo(10);
    assertThat(k1.encode(3, 7).indices()).containsExactly(4);
    // Ids beyond the slot share features by modulo.
    assertThat(k1.encode(13).indices()).containsExactly(4);
  }
}
