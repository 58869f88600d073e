package dev.knowable.hidden;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import dev.knowable.label.Band;
import dev.knowable.label.LabelSettings;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How score-small stores hidden states: {@code knowable.score.hidden-dtype} and
 * {@code knowable.score.hidden-positions}.
 *
 * @param dtype the stored element type
 * @param bands empty: every position keeps its hidden states; otherwise only positions
 *     whose small-model entropy falls in one of these bands (in nats) do, the rest store null
 * @param positionsNote why the positions are what they are (for the manifest and the log)
 */
public record HiddenStorage(HiddenDtype dtype, List<Band> bands, String positionsNote) implements Serializable {
  public static final String DTYPE_KEY = "knowable.score.hidden-dtype";
  public static final String POSITIONS_KEY = "knowable.score.hidden-positions";

  /** Every position, fp32: the storage before these settings existed. */
  public static final HiddenStorage FLOAT32_ALL = new HiddenStorage(HiddenDtype.FLOAT32, List.of(), "all");

  /** Reads the two keys; in-band takes its bands from {@code label} (knowable.label.bands). */
  public static HiddenStorage from(Config config, LabelSettings label) {
    SettingsReader r = new SettingsReader(config);
    HiddenDtype dtype;
    try {
      dtype = HiddenDtype.parse(r.string(DTYPE_KEY));
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(DTYPE_KEY, e);
    }
    String positions = r.string(POSITIONS_KEY).trim().toLowerCase(Locale.ROOT);
    switch (positions) {
      case "all":
        return new HiddenStorage(dtype, List.of(), "all");
      case "in-band": {
        List<Band> bands = new ArrayList<>();
        for (Band.Spec s : label.bands()) {
          if (s.unit() != Band.Unit.NATS) {
            // Quantile bands are resolved by the label stage from the train split's entropies,
            // which do not exist yet while score-small writes them.
            return new HiddenStorage(dtype, List.of(), "all: in-band needs bands in nats, but knowable.label."
                + "band-unit = quantile resolves them only after scoring, so every position keeps its hidden states");
          }
          bands.add(s.toBand());
        }
        return new HiddenStorage(dtype, List.copyOf(bands), "in-band " + bands.stream().map(Band::name).toList());
      }
      default:
        throw new ConfigException(POSITIONS_KEY + " must be all or in-band, got '" + r.string(POSITIONS_KEY) + "'");
    }
  }

  /** Whether a position with this small-model entropy keeps its hidden states. */
  public boolean keeps(float entropy) {
    if (bands.isEmpty()) {
      return true;
    }
    for (Band b : bands) {
      if (b.contains(entropy)) {
        return true;
      }
    }
    return false;
  }

  /** True when some positions may be stored without hidden states. */
  public boolean inBandOnly() {
    return !bands.isEmpty();
  }
}
