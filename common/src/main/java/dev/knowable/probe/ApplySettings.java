package dev.knowable.probe;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.SettingsReader;
import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.label.LabelKind;
import java.io.Serializable;

/**
 * Settings of the apply stage ({@code knowable.apply.*} in reference.conf), parsed once on
 * the driver; immutable.
 *
 * @param probeRun the run whose probe_models holds the probe
 * @param kind linear or mlp
 * @param band the probe's band: in nats, or a quantile band of the probe run's label stage
 * @param labelKind the label kind as written in tables (gap, no_gap, construction)
 * @param trainDomain a train domain, or all (pooled)
 * @param layer the layer, or -1: the highest
 * @param seed the seed, or -1: the lowest
 * @param inBandOnly score only positions in the band
 * @param balance the balancing of the probe's training rows, as written in tables (token, entropy_matched)
 */
public record ApplySettings(String probeRun, String kind, Band.Spec band, String labelKind, String trainDomain,
    long layer, long seed, boolean inBandOnly, String balance) implements Serializable {
  static final String PREFIX = "knowable.apply.";
  /** probe_kind of the two hidden-state probes in probe tables. */
  private static final String LINEAR = "linear";
  private static final String MLP = "mlp";

  /** Reads {@code knowable.apply.*}; an empty probe-run is this run ({@code runId}). */
  public static ApplySettings from(Config config, String runId) {
    SettingsReader r = new SettingsReader(config);
    String probeRun = r.string(PREFIX + "probe-run").isBlank() ? runId : r.string(PREFIX + "probe-run").trim();
    String kind = r.string(PREFIX + "probe-kind").trim();
    if (!kind.equals(LINEAR) && !kind.equals(MLP)) {
      throw new ConfigException(PREFIX + "probe-kind must be linear or mlp, got '" + kind + "'");
    }
    Band.Spec band;
    try {
      band = Band.Spec.parse(r.string(PREFIX + "band"));
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "band", e);
    }
    String labelKind;
    try {
      labelKind = LabelKind.parse(r.string(PREFIX + "label-kind")).tableValue();
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "label-kind", e);
    }
    String positions = r.string(PREFIX + "positions").trim();
    if (!positions.equals("in-band") && !positions.equals("all")) {
      throw new ConfigException(PREFIX + "positions must be in-band or all, got '" + positions + "'");
    }
    String balance;
    try {
      balance = Balancing.parse(r.string(PREFIX + "balance")).tableValue();
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "balance", e);
    }
    return new ApplySettings(probeRun, kind, band, labelKind, r.string(PREFIX + "train-domain").trim(),
        r.anyLong(PREFIX + "layer"), r.anyLong(PREFIX + "seed"), positions.equals("in-band"), balance);
  }
}
