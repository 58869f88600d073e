package dev.knowable.probe;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import java.io.Serializable;

/**
 * BET-FT, the fine-tuned-head entropy baseline (docs/METHOD.md 6.5): the small model's LM
 * head fine-tuned toward the large model's next-token distribution, then thresholded like BET.
 * Read from {@code knowable.probe.bet-ft.*}.
 *
 * @param enabled whether to fit and report it
 * @param maxEpochs cap on fine-tuning epochs (0: the model's own head, unchanged)
 * @param patience epochs without a better validation loss before stopping
 * @param minDelta a validation loss counts as better only when below the best by more than
 *     this many nats
 * @param learningRate Adam learning rate
 * @param batchSize minibatch size
 */
public record BetFtSettings(boolean enabled, int maxEpochs, int patience, double minDelta, double learningRate,
    int batchSize) implements Serializable {
  static final String PREFIX = "knowable.probe.bet-ft.";

  public BetFtSettings {
    if (maxEpochs < 0) {
      throw new ConfigException(PREFIX + "max-epochs must be >= 0, got " + maxEpochs);
    }
    if (patience < 1) {
      throw new ConfigException(PREFIX + "patience must be >= 1, got " + patience);
    }
    if (!(minDelta >= 0) || Double.isInfinite(minDelta)) {
      throw new ConfigException(PREFIX + "min-delta must be a finite number >= 0, got " + minDelta);
    }
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new ConfigException(PREFIX + "learning-rate must be a finite number > 0, got " + learningRate);
    }
    if (batchSize < 1) {
      throw new ConfigException(PREFIX + "batch-size must be >= 1, got " + batchSize);
    }
  }

  /** Reads and checks {@code knowable.probe.bet-ft.*} (defaults in reference.conf). */
  public static BetFtSettings from(Config config) {
    SettingsReader r = new SettingsReader(config);
    return new BetFtSettings(r.bool(PREFIX + "enabled"), r.atLeast(PREFIX + "max-epochs", 0),
        r.atLeast(PREFIX + "patience", 1), r.inRange(PREFIX + "min-delta", 0, Double.MAX_VALUE),
        r.inRange(PREFIX + "learning-rate", Double.MIN_VALUE, Double.MAX_VALUE), r.atLeast(PREFIX + "batch-size", 1));
  }
}
