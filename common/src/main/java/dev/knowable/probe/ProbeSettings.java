package dev.knowable.probe;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import dev.knowable.label.LabelKind;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the probe stage ({@code knowable.probe.*} in reference.conf), parsed once on
 * the driver; immutable and serializable so executors get the MLP settings with the task.
 *
 * @param modelPair name of the model pair written in every probe table row
 * @param labelKinds labellings to train on
 * @param domains train domains (empty = every domain of probe_examples)
 * @param pooled also train and evaluate on all domains pooled ("all")
 * @param seeds the training seeds (MLP); linear and context fits use the first
 * @param bootstrapResamples resamples of the AUC bootstrap interval (0 = none)
 * @param linearProbe whether to fit the linear probe on hidden states
 * @param linear logistic-regression settings of the linear probe and the context baselines
 * @param mlp MLP probe settings, or null when disabled
 * @param contextKs the k of each context baseline (empty when disabled)
 * @param bet whether to report the best-entropy-threshold baseline
 * @param combinedK the k of the combined control (one-hot last k ids with H_S, H_S^2 and
 *     log(1 + position)); 0 when disabled
 */
public record ProbeSettings(String modelPair, List<LabelKind> labelKinds, List<String> domains, boolean pooled,
    List<Integer> seeds, int bootstrapResamples, boolean linearProbe, Linear linear, MlpSettings mlp, List<Integer> contextKs,
    boolean bet, int combinedK) implements Serializable {
  static final String PREFIX = "knowable.probe.";
  /** The train/eval domain name of all domains pooled. */
  public static final String POOLED = "all";
  /**
   * Largest context k. probe_examples carries the current and previous token ids; k > 2
   * reads the earlier ids from the run's tokens table.
   */
  public static final int MAX_CONTEXT_K = 4;

  /**
   * Logistic-regression settings ({@link LogisticProbeTrainer}).
   *
   * @param maxIter L-BFGS iterations per penalty
   * @param regParams the L2 penalties tried; validation log-loss picks one
   * @param tolerance stop when no gradient component exceeds it
   */
  public record Linear(int maxIter, List<Double> regParams, double tolerance) implements Serializable {
    public Linear {
      regParams = List.copyOf(regParams);
      if (regParams.isEmpty()) {
        throw new ConfigException(PREFIX + "linear.reg-params must list at least one penalty");
      }
      for (double l : regParams) {
        if (!(l >= 0) || Double.isInfinite(l)) {
          throw new ConfigException(PREFIX + "linear.reg-params entries must be finite and >= 0, got " + l);
        }
      }
    }

    public double[] grid() {
      return regParams.stream().mapToDouble(Double::doubleValue).toArray();
    }
  }

  /** The largest k of the context ids any control reads (context baselines, combined control); 0 when none. */
  public int maxContextK() {
    return Math.max(combinedK, contextKs.stream().mapToInt(Integer::intValue).max().orElse(0));
  }

  public ProbeSettings {
    labelKinds = List.copyOf(labelKinds);
    domains = List.copyOf(domains);
    seeds = List.copyOf(seeds);
    contextKs = List.copyOf(contextKs);
  }

  /** Reads {@code knowable.probe.*} from the resolved tree; small/large model paths name the pair. */
  public static ProbeSettings from(Config config) {
    SettingsReader r = new SettingsReader(config);
    String pair = r.string(PREFIX + "model-pair").trim();
    if (pair.isEmpty()) {
      pair = dirName(r.string("knowable.models.small.path"), "small") + "->"
          + dirName(r.string("knowable.models.large.path"), "large");
    }
    List<LabelKind> kinds = new ArrayList<>();
    for (String k : r.strings(PREFIX + "label-kinds")) {
      try {
        kinds.add(LabelKind.parse(k));
      } catch (IllegalArgumentException e) {
        throw SettingsReader.invalid(PREFIX + "label-kinds", e);
      }
    }
    if (kinds.isEmpty()) {
      throw new ConfigException(PREFIX + "label-kinds must name at least one label kind");
    }
    List<String> domains = r.strings(PREFIX + "domains");
    if (domains.contains(POOLED)) {
      throw new ConfigException(PREFIX + "domains must not contain '" + POOLED + "' (use " + PREFIX
          + "pooled = true)");
    }
    int seedCount = r.atLeast(PREFIX + "seeds", 1);
    long base = r.anyLong(PREFIX + "base-seed");
    List<Integer> seeds = new ArrayList<>();
    for (int i = 0; i < seedCount; i++) {
      seeds.add(Math.toIntExact(base + i));
    }
    Linear linear = new Linear(r.atLeast(PREFIX + "linear.max-iter", 1), r.doubles(PREFIX + "linear.reg-params"),
        r.inRange(PREFIX + "linear.tolerance", Double.MIN_VALUE, 1));
    MlpSettings mlp = r.bool(PREFIX + "mlp.enabled")
        ? new MlpSettings(r.atLeast(PREFIX + "mlp.hidden", 1), r.inRange(PREFIX + "mlp.dropout", 0, 1),
            r.inRange(PREFIX + "mlp.learning-rate", Double.MIN_VALUE, Double.POSITIVE_INFINITY),
            r.atLeast(PREFIX + "mlp.batch-size", 1), r.atLeast(PREFIX + "mlp.max-epochs", 1),
            r.atLeast(PREFIX + "mlp.patience", 1), r.inRange(PREFIX + "mlp.min-delta", 0, Double.MAX_VALUE))
        : null;
    List<Integer> ks = r.bool(PREFIX + "context.enabled") ? r.ints(PREFIX + "context.ks") : List.of();
    for (int k : ks) {
      if (k < 1 || k > MAX_CONTEXT_K) {
        throw new ConfigException(PREFIX + "context.ks entries must be in [1, " + MAX_CONTEXT_K + "], got " + k);
      }
    }
    int combinedK = 0;
    if (r.bool(PREFIX + "combined.enabled")) {
      combinedK = r.atLeast(PREFIX + "combined.k", 1);
      if (combinedK > MAX_CONTEXT_K) {
        throw new ConfigException(PREFIX + "combined.k must be in [1, " + MAX_CONTEXT_K + "], got " + combinedK);
      }
    }
    return new ProbeSettings(pair, kinds, domains, r.bool(PREFIX + "pooled"), seeds,
        r.atLeast(PREFIX + "bootstrap-resamples", 0), r.bool(PREFIX + "linear.enabled"), linear, mlp, ks,
        r.bool(PREFIX + "bet.enabled"), combinedK);
  }

  private static String dirName(String path, String fallback) {
    if (path == null || path.isBlank()) {
      return fallback;
    }
    Path name = Path.of(path).normalize().getFileName();
    return name == null ? fallback : name.toString();
  }
}
