package dev.knowable.label;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Settings of the label stage ({@code knowable.label.*} in reference.conf), parsed once on
 * the driver; immutable and serializable.
 *
 * @param bands the configured bands (nats or quantiles of H_S)
 * @param kinds the labellings to write
 * @param labeler the thresholds of the gap and no-gap labels
 * @param balanceKey the key of token-identity balancing (and of the token part of the matched cells)
 * @param seed seed of the balancing steps
 * @param source where the labels come from
 * @param balancings the balancings written, each its own value of the balance column (first = headline)
 * @param entropyBinNats width in nats of the H_S bins of entropy-matched balancing
 */
public record LabelSettings(List<Band.Spec> bands, List<LabelKind> kinds, GapLabeler labeler,
    BalanceKey balanceKey, long seed, Source source, List<Balancing> balancings, double entropyBinNats)
    implements Serializable {
  static final String PREFIX = "knowable.label.";

  /** Where labels come from. */
  public enum Source {
    /** Gap labels from the small and large model's entropies (the paper's method). */
    PAIR,
    /**
     * The synthetic question/answer language (demo/synthetic): labels by construction,
     * no large model; the only kind written is {@link LabelKind#CONSTRUCTION}.
     */
    SYNTHETIC_QA
  }

  public LabelSettings {
    bands = List.copyOf(bands);
    kinds = List.copyOf(kinds);
    balancings = List.copyOf(balancings);
    if (balancings.isEmpty()) {
      throw new ConfigException(PREFIX + "balance must name at least one balancing (entropy-matched, token)");
    }
    if (!(entropyBinNats > 0) || Double.isInfinite(entropyBinNats)) {
      throw new ConfigException(PREFIX + "entropy-bin must be a finite width > 0 in nats, got " + entropyBinNats);
    }
    if (bands.isEmpty()) {
      throw new ConfigException(PREFIX + "bands must name at least one band");
    }
    if (kinds.isEmpty()) {
      throw new ConfigException(PREFIX + "kinds must name at least one label kind");
    }
    if (source == Source.PAIR && kinds.contains(LabelKind.CONSTRUCTION)) {
      throw new ConfigException(PREFIX + "kinds: construction labels need " + PREFIX + "source = synthetic-qa");
    }
  }

  /** Reads {@code knowable.label.*} from the resolved tree; {@code KnowableConfig} calls it at load. */
  public static LabelSettings from(Config config) {
    SettingsReader r = new SettingsReader(config);
    String unitKey = PREFIX + "band-unit";
    Band.Unit unit = switch (r.string(unitKey).trim().toLowerCase(Locale.ROOT)) {
      case "nats" -> Band.Unit.NATS;
      case "quantile" -> Band.Unit.QUANTILE;
      default -> throw new ConfigException(unitKey + " must be nats or quantile, got '" + r.string(unitKey) + "'");
    };
    List<Band.Spec> bands = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (String b : r.strings(PREFIX + "bands")) {
      try {
        Band.Spec spec = Band.Spec.parse(b, unit);
        if (names.contains(spec.name())) {
          throw new IllegalArgumentException("band " + spec.name() + " is listed twice");
        }
        names.add(spec.name());
        bands.add(spec);
      } catch (IllegalArgumentException e) {
        throw SettingsReader.invalid(PREFIX + "bands", e);
      }
    }
    List<LabelKind> kinds = new ArrayList<>();
    for (String k : r.strings(PREFIX + "kinds")) {
      try {
        LabelKind kind = LabelKind.parse(k);
        if (!kinds.contains(kind)) {
          kinds.add(kind);
        }
      } catch (IllegalArgumentException e) {
        throw SettingsReader.invalid(PREFIX + "kinds", e);
      }
    }
    GapLabeler labeler = new GapLabeler(
        r.inRange(PREFIX + "epistemic-max-large-entropy", 0, Double.POSITIVE_INFINITY),
        r.inRange(PREFIX + "aleatoric-max-gap", 0, Double.POSITIVE_INFINITY),
        r.inRange(PREFIX + "no-gap-threshold", 0, Double.POSITIVE_INFINITY));
    BalanceKey key;
    try {
      key = BalanceKey.parse(r.string(PREFIX + "balance-key"));
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "balance-key", e);
    }
    String sourceKey = PREFIX + "source";
    Source source = switch (r.string(sourceKey).trim().toLowerCase(Locale.ROOT)) {
      case "pair" -> Source.PAIR;
      case "synthetic-qa" -> Source.SYNTHETIC_QA;
      default -> throw new ConfigException(sourceKey + " must be pair or synthetic-qa, got '" + r.string(sourceKey)
          + "'");
    };
    if (source == Source.SYNTHETIC_QA) {
      kinds = List.of(LabelKind.CONSTRUCTION);
    }
    List<Balancing> balancings = new ArrayList<>();
    for (String b : r.strings(PREFIX + "balance")) {
      try {
        Balancing balancing = Balancing.parse(b);
        if (!balancings.contains(balancing)) {
          balancings.add(balancing);
        }
      } catch (IllegalArgumentException e) {
        throw SettingsReader.invalid(PREFIX + "balance", e);
      }
    }
    return new LabelSettings(bands, kinds, labeler, key, r.anyLong(PREFIX + "seed"), source, balancings,
        r.inRange(PREFIX + "entropy-bin", Double.MIN_VALUE, Double.MAX_VALUE));
  }
}
