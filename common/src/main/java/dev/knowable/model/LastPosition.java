package dev.knowable.model;

/**
 * The next-token distribution at the last position of one sequence, reduced on the device.
 *
 * @param entropy full next-token entropy over the first vocabLimit ids, nats, fp32
 * @param topkIds the topK most probable ids, most probable first
 * @param topkLogprobs their log-probabilities
 * @param probeLogprobs log-probabilities of the requested probe ids, in request order
 */
public record LastPosition(float entropy, int[] topkIds, float[] topkLogprobs, float[] probeLogprobs) {}
