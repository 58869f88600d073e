package dev.knowable.label;

import java.io.Serializable;
import java.util.Locale;

/**
 * A half-open band of small-model entropy, {@code min <= H_S < max}, in nats (the
 * reference default is [2.0, inf)). Comparisons run in fp32, like the entropies they
 * test (docs/METHOD.md: labels in fp32), so a bound equal to a stored entropy behaves exactly
 * as the inequality says.
 *
 * @param name the band's name in tables, e.g. {@code [2.0,inf)} or {@code q[0.5,1.0)}
 * @param minNats inclusive lower bound in nats
 * @param maxNats exclusive upper bound in nats (may be +infinity)
 */
public record Band(String name, double minNats, double maxNats) implements Serializable {

  public Band {
    if (!(minNats < maxNats)) {
      throw new IllegalArgumentException("Band " + name + " needs min < max, got [" + minNats + ", " + maxNats + ")");
    }
  }

  /** True when {@code minNats <= smallEntropy < maxNats} (in fp32). */
  public boolean contains(float smallEntropy) {
    return smallEntropy >= (float) minNats && smallEntropy < (float) maxNats;
  }

  /** How a configured band's bounds are meant. */
  public enum Unit {
    /** Entropies in nats. */
    NATS,
    /** Quantiles of H_S over all scored positions of the run, in [0, 1]. */
    QUANTILE
  }

  /**
   * A band as configured: {@code "min:max"} with max possibly {@code inf}, in nats or as
   * quantiles of H_S. Quantile bands become nats bands once the quantiles are known.
   */
  public record Spec(double lower, double upper, Unit unit) implements Serializable {
    public Spec {
      if (!(lower < upper) || lower < 0) {
        throw new IllegalArgumentException("band needs 0 <= min < max, got " + lower + ":" + upper);
      }
      if (unit == Unit.QUANTILE && upper > 1) {
        throw new IllegalArgumentException("quantile band bounds must lie in [0, 1], got " + lower + ":" + upper);
      }
    }

    /** Parses {@code "2.0:inf"}; throws IllegalArgumentException naming the text. */
    public static Spec parse(String text, Unit unit) {
      String[] parts = text.trim().split(":");
      if (parts.length != 2) {
        throw new IllegalArgumentException("band must look like 'min:max' (max may be inf), got '" + text + "'");
      }
      try {
        return new Spec(bound(parts[0]), bound(parts[1]), unit);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("band bounds must be numbers or inf, got '" + text + "'", e);
      }
    }

    private static double bound(String s) {
      String t = s.trim().toLowerCase(Locale.ROOT);
      return t.equals("inf") || t.equals("+inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(t);
    }

    /** The name used in tables: {@code [2.0,inf)} for nats, {@code q[0.5,1.0)} for quantiles. */
    public String name() {
      String body = "[" + format(lower) + "," + format(upper) + ")";
      return unit == Unit.QUANTILE ? "q" + body : body;
    }

    /** The nats band of a {@link Unit#NATS} spec. */
    public Band toBand() {
      if (unit != Unit.NATS) {
        throw new IllegalStateException("band " + name() + " is given in quantiles: resolve it with toBand(min, max)");
      }
      return new Band(name(), lower, upper);
    }

    /** The nats band of a quantile spec, given the H_S values at its two quantiles. */
    public Band toBand(double minNats, double maxNats) {
      // The top quantile is open-ended, otherwise the largest H_S would fall outside every band.
      return new Band(name(), minNats, upper >= 1.0 ? Double.POSITIVE_INFINITY : maxNats);
    }

    private static String format(double v) {
      return Double.isInfinite(v) ? "inf" : Double.toString(v);
    }
  }
}
