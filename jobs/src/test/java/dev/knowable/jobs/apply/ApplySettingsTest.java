package dev.knowable.jobs.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig;
import dev.knowable.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * apply's probe choice against the label and probe settings of the same run (the check
 * made before a pipeline starts): every shipped config finds its probe, and a miss names
 * the values the run trains and the setting to change. No Spark session.
 */
class ApplySettingsTest {

  private static void check(KnowableConfig c) {
    ApplyStage.checkAgainstProbeSettings(c, c.apply());
  }

  private static KnowableConfig config(String... sets) {
    return ConfigLoader.load(null, Arrays.asList(sets));
  }

  @Test
  void everyShippedConfigFindsItsProbe() throws Exception {
    List<Path> confs;
    try (Stream<Path> files = Files.list(TestModels.repoRoot().resolve("conf"))) {
      confs = files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
    }
    assertThat(confs).hasSizeGreaterThanOrEqualTo(5);
    for (Path f : confs) {
      KnowableConfig c = ConfigLoader.load(f, List.of());
      assertThat(c.apply().probeRun()).as("%s applies its own run's probe", f).isEqualTo(c.runId());
      check(c);
    }
    check(config());
  }

  @Test
  void aBandTheRunDoesNotTrainNamesTheBandsItDoesAndTheSetting() {
    assertThatThrownBy(() -> check(config("label.bands=[\"2.0:4.0\", \"4.0:inf\"]")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("knowable.apply.band selects 2.0:inf")
        .hasMessageContaining("[2.0:4.0, 4.0:inf]")
        .hasMessageContaining("--set 'apply.band=\"2.0:4.0\"'");
    check(config("label.bands=[\"2.0:4.0\", \"4.0:inf\"]", "apply.band=\"4.0:inf\""));
    assertThatThrownBy(() -> check(config("label.band-unit=quantile", "label.bands=[\"0.5:1\"]")))
        .hasMessageContaining("[q0.5:1.0]").hasMessageContaining("--set 'apply.band=\"q0.5:1.0\"'");
    check(config("label.band-unit=quantile", "label.bands=[\"0.5:1\"]", "apply.band=\"q0.5:1.0\""));
    assertThat(ApplyStage.bandSetting("q[0.5,1.0)")).isEqualTo("q0.5:1.0");
    assertThat(ApplyStage.bandSetting("[2.0,inf)")).isEqualTo("2.0:inf");
  }

  @Test
  void otherMissesNameTheirSetting() {
    assertThatThrownBy(() -> check(config("probe.mlp.enabled=false")))
        .hasMessageContaining("knowable.apply.probe-kind").hasMessageContaining("knowable.probe.mlp.enabled = false");
    check(config("probe.mlp.enabled=false", "apply.probe-kind=linear"));
    assertThatThrownBy(() -> check(config("apply.label-kind=no-gap")))
        .hasMessageContaining("knowable.apply.label-kind selects no_gap").hasMessageContaining("[gap]");
    check(config("apply.label-kind=no-gap", "probe.label-kinds=[gap, no-gap]"));
    assertThatThrownBy(() -> check(config("probe.pooled=false")))
        .hasMessageContaining("knowable.apply.train-domain");
    assertThatThrownBy(() -> check(config("models.small.layers=[1, 2]", "apply.layer=3")))
        .hasMessageContaining("knowable.apply.layer selects 3").hasMessageContaining("[1, 2]");
    assertThatThrownBy(() -> check(config("probe.seeds=2", "apply.seed=2")))
        .hasMessageContaining("knowable.apply.seed selects 2").hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> check(config("apply.probe-kind=linear", "probe.seeds=2", "apply.seed=1")))
        .hasMessageContaining("[0]");
    assertThatThrownBy(() -> config("apply.positions=some"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.apply.positions");
  }
}
