package dev.knowable.jobs.score;

import dev.knowable.hidden.HiddenStorage;
import java.io.Serializable;
import org.apache.spark.util.LongAccumulator;

/**
 * The one place where a small_scores row's hidden states take their stored form
 * ({@link HiddenStorage}): null outside the kept positions, else float[] (float32) or
 * byte[] of 16-bit patterns (two bytes a value, little-endian). Counts the values clamped to the dtype's range into a Spark
 * accumulator (added once per partition, at {@link #flush}).
 */
final class HiddenEncoder implements Serializable {
  private static final long serialVersionUID = 1L;

  private final HiddenStorage storage;
  private final LongAccumulator clamped;
  private transient long[] pending;

  HiddenEncoder(HiddenStorage storage, LongAccumulator clamped) {
    this.storage = storage;
    this.clamped = clamped;
  }

  /** Whether a position with this small-model entropy stores hidden states. */
  boolean keeps(float entropy) {
    return storage.keeps(entropy);
  }

  /** The stored value of one hidden state of a kept position. */
  Object encode(float[] hidden) {
    if (pending == null) {
      pending = new long[1];
    }
    return storage.dtype().encode(hidden, pending);
  }

  /** Adds this task's clamped count to the accumulator. */
  void flush() {
    if (pending != null && pending[0] > 0 && clamped != null) {
      clamped.add(pending[0]);
    }
    pending = null;
  }
}
