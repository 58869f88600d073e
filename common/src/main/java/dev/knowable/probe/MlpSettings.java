package dev.knowable.probe;

import java.io.Serializable;

/**
 * The MLP probe and its optimiser (docs/METHOD.md section 6): Linear(d, hidden) -> Dropout ->
 * ReLU -> Linear(hidden, 2), Adam, checkpoint with the best validation loss.
 *
 * @param hidden hidden units (paper 2048)
 * @param dropout dropout rate (paper 0.1)
 * @param learningRate Adam learning rate (paper 1e-4)
 * @param batchSize minibatch size (paper 64)
 * @param maxEpochs cap on training epochs
 * @param patience epochs without a better validation loss before stopping
 * @param minDelta a validation loss counts as better only when it is below the best by more
 *     than this many nats (resets patience); the checkpoint kept is still the lowest loss
 */
public record MlpSettings(int hidden, double dropout, double learningRate, int batchSize, int maxEpochs,
    int patience, double minDelta) implements Serializable {}
