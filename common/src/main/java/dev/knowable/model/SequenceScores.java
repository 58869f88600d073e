package dev.knowable.model;

/**
 * Per-position results of one sequence; position i is the next-token distribution after
 * tokens[0..i]. Arrays are flat and row-major.
 *
 * @param entropy [T] nats, fp32
 * @param topkIds [T * k] most probable ids, most probable first
 * @param topkLogprobs [T * k] their log-probabilities
 * @param hidden one [T * d] array per requested layer, in request order
 * @param nextLogprob [T] log-probability of the token at position i + 1 of the sequence
 *     given tokens[0..i] (NaN at the last position, -Infinity for an id at or above the
 *     vocab limit); from contract v2 models only, null for v1 models
 */
public record SequenceScores(int length, int topK, float[] entropy, int[] topkIds, float[] topkLogprobs,
    float[][] hidden, float[] nextLogprob) {

  public int top1Id(int position) {
    return topkIds[position * topK];
  }

  public float top1Prob(int position) {
    return (float) Math.exp(topkLogprobs[position * topK]);
  }

  public int[] topkIdsAt(int position) {
    int[] out = new int[topK];
    System.arraycopy(topkIds, position * topK, out, 0, topK);
    return out;
  }

  public float[] topkLogprobsAt(int position) {
    float[] out = new float[topK];
    System.arraycopy(topkLogprobs, position * topK, out, 0, topK);
    return out;
  }

  /** Hidden state of the {@code layerSlot}-th requested layer at a position (length d). */
  public float[] hiddenAt(int layerSlot, int position, int hiddenSize) {
    float[] out = new float[hiddenSize];
    System.arraycopy(hidden[layerSlot], position * hiddenSize, out, 0, hiddenSize);
    return out;
  }
}
