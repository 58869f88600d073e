package dev.knowable.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every section's settings are parsed when the config loads: a bad value in any of them
 * fails {@link ConfigLoader#load} (before the first stage of a pipeline runs) with a
 * message naming its key.
 */
class SettingsAtLoadTest {
  /** A bad value per section (--set form) and the key its error must name. */
  private static final List<Map.Entry<String, String>> BAD = List.of(
      Map.entry("label.bands=[\"2.0:1.0\"]", "knowable.label.bands"),
      Map.entry("label.bands=[\"q0.5:1.0\"]", "knowable.label.bands"),
      Map.entry("label.band-unit=bits", "knowable.label.band-unit"),
      Map.entry("label.kinds=[regression]", "knowable.label.kinds"),
      Map.entry("label.epistemic-max-large-entropy=-1", "knowable.label.epistemic-max-large-entropy"),
      Map.entry("label.aleatoric-max-gap=-0.5", "knowable.label.aleatoric-max-gap"),
      Map.entry("label.balance=[entropy]", "knowable.label.balance"),
      Map.entry("label.source=corpus", "knowable.label.source"),
      Map.entry("probe.label-kinds=[]", "knowable.probe.label-kinds"),
      Map.entry("probe.seeds=0", "knowable.probe.seeds"),
      Map.entry("probe.context.ks=[5]", "knowable.probe.context.ks"),
      Map.entry("probe.mlp.dropout=1.5", "knowable.probe.mlp.dropout"),
      Map.entry("probe.task.device=tpu", "knowable.probe.task.device"),
      Map.entry("probe.task.memory=lots", "knowable.probe.task.memory"),
      Map.entry("probe.bet-ft.patience=0", "knowable.probe.bet-ft.patience"),
      Map.entry("probe.bet-ft.learning-rate=-1", "knowable.probe.bet-ft.learning-rate"),
      Map.entry("iclt.positions=some", "knowable.iclt.positions"),
      Map.entry("iclt.bands=[\"2.0\"]", "knowable.iclt.bands"),
      Map.entry("iclt.model=medium", "knowable.iclt.model"),
      Map.entry("iclt.splits=[dev]", "knowable.iclt.splits"),
      Map.entry("apply.probe-kind=tree", "knowable.apply.probe-kind"),
      Map.entry("apply.band=\"2.0-inf\"", "knowable.apply.band"),
      Map.entry("apply.band=\"q0.5:2\"", "knowable.apply.band"),
      Map.entry("apply.positions=some", "knowable.apply.positions"),
      Map.entry("apply.balance=entropy", "knowable.apply.balance"),
      Map.entry("apply.label-kind=regression", "knowable.apply.label-kind"),
      Map.entry("aggregate.runs={a=1}", "knowable.aggregate.runs"),
      Map.entry("report.roc-thresholds=3", "knowable.report.roc-thresholds"),
      Map.entry("report.density-bins=1", "knowable.report.density-bins"),
      Map.entry("report.passages=-1", "knowable.report.passages"),
      Map.entry("report.passage-tokens=0", "knowable.report.passage-tokens"),
      Map.entry("score.hidden-dtype=int8", "knowable.score.hidden-dtype"),
      Map.entry("score.hidden-positions=some", "knowable.score.hidden-positions"),
      Map.entry("score.on-non-finite=ignore", "knowable.score.on-non-finite"));

  @Test
  void aBadValueInAnySectionFailsTheLoadNamingItsKey() {
    for (Map.Entry<String, String> bad : BAD) {
      assertThatThrownBy(() -> ConfigLoader.load(null, List.of("run-id=r", bad.getKey())))
          .as(bad.getKey()).isInstanceOf(ConfigException.class).hasMessageContaining(bad.getValue());
    }
  }

  @Test
  void theSectionsAreTypedRecords() {
    KnowableConfig c = ConfigLoader.load(null, List.of("run-id=r", "label.band-unit=quantile",
        "label.bands=[\"0.5:1\"]", "apply.band=\"q0.5:1.0\"", "score.hidden-positions=in-band",
        "aggregate.runs=[a, b]", "report.passages=2", "score.on-non-finite=fail"));
    assertThat(c.label().bands().get(0).name()).isEqualTo("q[0.5,1.0)");
    assertThat(c.apply().band()).isEqualTo(c.label().bands().get(0));
    assertThat(c.apply().probeRun()).as("empty probe-run: this run").isEqualTo("r");
    assertThat(c.hiddenStorage().inBandOnly()).as("quantile bands are unknown while scoring").isFalse();
    assertThat(c.aggregate().runs()).containsExactly("a", "b");
    assertThat(c.report().passages()).isEqualTo(2);
    assertThat(c.report().path()).isEmpty();
    assertThat(c.score().onNonFinite()).isEqualTo(KnowableConfig.OnNonFinite.FAIL);
    assertThat(c.probe().seeds()).isNotEmpty();
    assertThat(c.iclt().bandNames()).isNotEmpty();
  }
}
