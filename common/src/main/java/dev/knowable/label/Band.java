package dev.knowable.label;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A half-open band of small-model entropy, {@code min <= H_S < max}, in nats (the
 * reference default is [2.0, inf)). Comparisons run in fp32, like the entropies they
 * test (docs/METHOD.md: labels in fp32), so a bound equal to a stored entropy behaves exactly
 * as the inequality says.
 *
 * <p>The one place bands are parsed and printed. A band is written as a setting
 * ({@code "2.0:inf"}, {@code "q0.5:1.0"}; {@link Spec#setting}), as its name in tables
 * ({@code [2.0,inf)}, {@code q[0.5,1.0)}; {@link Spec#name}), and in manifests as bounds
 * ({@code [2.0, "inf"]}; {@link #manifestBounds}) or a resolved band
 * ({@code {band, min_nats, max_nats}}; {@link #manifestEntry}); {@link Spec#parse(String)}
 * reads both text forms, {@link #fromManifestBounds} and {@link #fromManifestEntry} the others.
 *
 * @param name the band's name in tables, e.g. {@code [2.0,inf)} or {@code q[0.5,1.0)}
 * @param minNats inclusive lower bound in nats
 * @param maxNats exclusive upper bound in nats (may be +infinity)
 */
public record Band(String name, double minNats, double maxNats) implements Serializable {
  /** How an infinite upper bound is written in every text and manifest form. */
  static final String INF = "inf";

  public Band {
    if (!(minNats < maxNats)) {
      throw new IllegalArgumentException("Band " + name + " needs min < max, got [" + minNats + ", " + maxNats + ")");
    }
  }

  /** True when {@code minNats <= smallEntropy < maxNats} (in fp32). */
  public boolean contains(float smallEntropy) {
    return smallEntropy >= (float) minNats && smallEntropy < (float) maxNats;
  }

  /** The bounds as small_scores' manifest lists them: {@code [min, max]}, max {@code "inf"} when open. */
  public List<Object> manifestBounds() {
    return List.of(minNats, bound(maxNats));
  }

  /** A nats band from {@link #manifestBounds} (named as its setting would name it). */
  public static Band fromManifestBounds(List<?> bounds) {
    if (bounds.size() != 2) {
      throw new IllegalArgumentException("band bounds must be [min, max], got " + bounds);
    }
    return new Spec(bound(bounds.get(0)), bound(bounds.get(1)), Unit.NATS).toBand();
  }

  /** The band as probe_examples' manifest records it: {@code {band, min_nats, max_nats}}, max "inf" when open. */
  public Map<String, Object> manifestEntry() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("band", name);
    m.put("min_nats", minNats);
    m.put("max_nats", bound(maxNats));
    return m;
  }

  /** A band from {@link #manifestEntry}. */
  public static Band fromManifestEntry(Map<?, ?> entry) {
    return new Band(String.valueOf(entry.get("band")), bound(entry.get("min_nats")), bound(entry.get("max_nats")));
  }

  private static Object bound(double v) {
    return v == Double.POSITIVE_INFINITY ? INF : (Object) v;
  }

  /** A bound as a manifest holds it: a number, or "inf". */
  private static double bound(Object o) {
    if (o instanceof Number n) {
      return n.doubleValue();
    }
    if (o == null) {
      throw new IllegalArgumentException("band bound missing");
    }
    return Spec.bound(String.valueOf(o));
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

    /**
     * Parses a setting in the unit given, {@code "2.0:inf"} (knowable.label.bands and
     * iclt.bands, whose unit is set elsewhere); throws IllegalArgumentException naming the text.
     */
    public static Spec parse(String text, Unit unit) {
      String[] parts = text.trim().split(":", -1);
      if (parts.length != 2) {
        throw new IllegalArgumentException("band must look like 'min:max' (max may be inf), got '" + text + "'");
      }
      return of(parts[0], parts[1], unit, text);
    }

    /**
     * Parses a band that says its unit: a setting ({@code "2.0:inf"} in nats, {@code "q0.5:1.0"}
     * in quantiles) or a name in tables ({@code [2.0,inf)}, {@code q[0.5,1.0)}).
     */
    public static Spec parse(String text) {
      String t = text.trim();
      Unit unit = t.startsWith("q") ? Unit.QUANTILE : Unit.NATS;
      String body = unit == Unit.QUANTILE ? t.substring(1) : t;
      if (body.startsWith("[") && body.endsWith(")")) {
        String[] parts = body.substring(1, body.length() - 1).split(",", -1);
        if (parts.length != 2) {
          throw new IllegalArgumentException("band must look like '[min,max)', got '" + text + "'");
        }
        return of(parts[0], parts[1], unit, text);
      }
      try {
        return parse(body, unit);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(e.getMessage().replace("'min:max'", "'min:max' or 'qmin:max'"), e);
      }
    }

    private static Spec of(String lower, String upper, Unit unit, String text) {
      try {
        return new Spec(bound(lower), bound(upper), unit);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("band bounds must be numbers or inf, got '" + text + "'", e);
      }
    }

    static double bound(String s) {
      String t = s.trim().toLowerCase(Locale.ROOT);
      return t.equals(INF) || t.equals("+inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(t);
    }

    /** The name used in tables: {@code [2.0,inf)} for nats, {@code q[0.5,1.0)} for quantiles. */
    public String name() {
      return prefix() + "[" + format(lower) + "," + format(upper) + ")";
    }

    /** The band as a setting that says its unit (knowable.apply.band): {@code 2.0:inf}, {@code q0.5:1.0}. */
    public String setting() {
      return prefix() + format(lower) + ":" + format(upper);
    }

    private String prefix() {
      return unit == Unit.QUANTILE ? "q" : "";
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
      return Double.isInfinite(v) ? INF : Double.toString(v);
    }
  }
}
