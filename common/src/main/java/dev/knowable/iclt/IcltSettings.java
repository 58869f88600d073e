package dev.knowable.iclt;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import dev.knowable.label.Band;
import dev.knowable.label.LabelKind;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Settings of the iclt stage ({@code knowable.iclt.*} in reference.conf), parsed once on
 * the driver; immutable and serializable.
 *
 * @param positions which positions are tested
 * @param bands bands of the tested positions (in nats; labelled mode: as the label stage named them)
 * @param labelKind labelled mode: the labelling whose positions and labels are used
 * @param splits the document splits tested (val chooses each score's direction, test reports)
 * @param maxPerCell at most this many positions per (domain, split, band, label); 0: no cap
 * @param model which model of the pair is tested: small or large
 * @param candidates k, the number of top candidates hinted
 * @param separators the separators, each run and kept as a value of the separator column
 * @param tokenBudget a batch of hint sequences holds at most this many padded tokens
 * @param bootstrapResamples resamples of the AUC interval in iclt_metrics
 * @param seed seed of the capped selection
 * @param tieResolution MI (nats) below this is rounding noise: evaluated as a tie at 0 (mi and
 *     mi_ratio); 0 turns it off
 */
public record IcltSettings(Positions positions, List<Band.Spec> bands, LabelKind labelKind, List<String> splits,
    int maxPerCell, String model, int candidates, List<SeparatorSpec> separators, int tokenBudget,
    int bootstrapResamples, long seed, double tieResolution) implements Serializable {
  static final String PREFIX = "knowable.iclt.";

  /** Which positions the stage tests. */
  public enum Positions {
    /** The labelled positions of probe_examples (needs the label stage, and so the large model). */
    LABELLED,
    /** Every position of small_scores whose H_S is in a band; no labels (no large model needed). */
    ALL_IN_BAND
  }

  /**
   * A separator as configured: its text is tokenized with the run's tokenizer and the
   * model's end-of-text id is appended when {@code eos} is set.
   */
  public record SeparatorSpec(String name, String text, boolean eos) implements Serializable {
    public SeparatorSpec {
      if (name == null || !name.matches("[a-z0-9_-]+")) {
        throw new IllegalArgumentException("separator name must match [a-z0-9_-]+, got '" + name + "'");
      }
    }
  }

  public IcltSettings {
    bands = List.copyOf(bands);
    splits = List.copyOf(splits);
    separators = List.copyOf(separators);
    if (bands.isEmpty()) {
      throw new ConfigException(PREFIX + "bands must name at least one band");
    }
    if (separators.isEmpty()) {
      throw new ConfigException(PREFIX + "separators must name at least one separator");
    }
    if (!model.equals("small") && !model.equals("large")) {
      throw new ConfigException(PREFIX + "model must be small or large, got '" + model + "'");
    }
    for (String s : splits) {
      if (!List.of("train", "val", "test").contains(s)) {
        throw new ConfigException(PREFIX + "splits: '" + s + "' is not train, val or test");
      }
    }
  }

  /** Reads {@code knowable.iclt.*} from the resolved tree; {@code KnowableConfig} calls it at load. */
  public static IcltSettings from(Config config) {
    SettingsReader r = new SettingsReader(config);
    String posKey = PREFIX + "positions";
    Positions positions = switch (r.string(posKey).trim().toLowerCase(Locale.ROOT)) {
      case "labelled" -> Positions.LABELLED;
      case "all-in-band" -> Positions.ALL_IN_BAND;
      default -> throw new ConfigException(posKey + " must be labelled or all-in-band, got '" + r.string(posKey) + "'");
    };
    List<Band.Spec> bands = new ArrayList<>();
    for (String b : r.strings(PREFIX + "bands")) {
      try {
        bands.add(Band.Spec.parse(b, Band.Unit.NATS));
      } catch (IllegalArgumentException e) {
        throw SettingsReader.invalid(PREFIX + "bands", e);
      }
    }
    LabelKind kind;
    try {
      kind = LabelKind.parse(r.string(PREFIX + "label-kind"));
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "label-kind", e);
    }
    List<SeparatorSpec> separators = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Config c : r.objects(PREFIX + "separators")) {
      try {
        SeparatorSpec s = new SeparatorSpec(c.getString("name"), c.hasPath("text") ? c.getString("text") : "",
            c.hasPath("eos") && c.getBoolean("eos"));
        if (names.contains(s.name())) {
          throw new IllegalArgumentException("separator " + s.name() + " is listed twice");
        }
        names.add(s.name());
        separators.add(s);
      } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
        throw new ConfigException(PREFIX + "separators: " + e.getMessage()
            + " (each entry is { name = ..., text = \"...\", eos = true|false })", e);
      }
    }
    return new IcltSettings(positions, bands, kind, r.strings(PREFIX + "splits"),
        r.atLeast(PREFIX + "max-per-cell", 0), r.string(PREFIX + "model").trim().toLowerCase(Locale.ROOT),
        r.atLeast(PREFIX + "candidates", 1), separators, r.atLeast(PREFIX + "token-budget", 1),
        r.atLeast(PREFIX + "bootstrap-resamples", 0), r.anyLong(PREFIX + "seed"),
        r.inRange(PREFIX + "tie-resolution", 0, 1));
  }

  /** The band names as the label stage writes them, e.g. {@code [2.0,3.0)}. */
  public List<String> bandNames() {
    return bands.stream().map(Band.Spec::name).toList();
  }
}
