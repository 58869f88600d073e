package dev.knowable.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.SplittableRandom;

/**
 * Inverted dropout whose masks come from the probe's own seeded generator. DJL's Dropout
 * draws from libtorch's process-wide generator, which concurrent Spark tasks in one
 * executor JVM would share, so runs would not be reproducible.
 */
final class SeededDropout extends AbstractBlock {
  private final float rate;
  private final SplittableRandom random;

  SeededDropout(double rate, long seed) {
    this.rate = (float) rate;
    this.random = new SplittableRandom(seed);
  }

  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
      PairList<String, Object> params) {
    if (!training || rate == 0f) {
      return inputs;
    }
    NDArray x = inputs.singletonOrThrow();
    float keep = 1f - rate;
    float[] mask = new float[Math.toIntExact(x.size())];
    for (int i = 0; i < mask.length; i++) {
      mask[i] = random.nextDouble() < keep ? 1f / keep : 0f;
    }
    return new NDList(x.mul(x.getManager().create(mask, x.getShape())));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
