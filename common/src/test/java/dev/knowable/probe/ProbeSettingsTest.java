package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigLoader;
import dev.knowable.label.BalanceKey;
import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.label.LabelKind;
import dev.knowable.label.LabelSettings;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProbeSettingsTest {

  private static com.typesafe.config.Config raw(String... sets) {
    return ConfigLoader.load(null, Arrays.asList(sets)).raw();
  }

  @Test
  void defaultsAreThePapers() {
    LabelSettings label = LabelSettings.from(raw());
    assertThat(label.bands().get(0).name()).isEqualTo("[2.0,inf)");
    assertThat(label.bands()).hasSize(3);
    assertThat(label.kinds()).containsExactly(LabelKind.GAP, LabelKind.NO_GAP);
    assertThat(label.balanceKey()).isEqualTo(BalanceKey.CURRENT);
    assertThat(label.labeler().gapLabel(2.5f, 0.19f)).isEqualTo(0);
    ProbeSettings probe = ProbeSettings.from(raw());
    assertThat(probe.mlp()).isEqualTo(new MlpSettings(2048, 0.1, 1e-4, 64, 200, 5, 1e-3));
    assertThat(probe.combinedK()).isEqualTo(4);
    assertThat(probe.maxContextK()).isEqualTo(4);
    assertThat(label.balancings()).containsExactly(Balancing.ENTROPY_MATCHED, Balancing.TOKEN);
    assertThat(label.entropyBinNats()).isEqualTo(0.25);
    assertThat(probe.seeds()).hasSize(10);
    assertThat(probe.linear().regParams()).containsExactly(1.0, 0.1, 0.01, 0.001, 0.0001);
    assertThat(probe.linear().maxIter()).isEqualTo(200);
    assertThat(probe.contextKs()).containsExactly(1, 2, 3, 4);
    assertThat(probe.modelPair()).isEqualTo("small->large");
    assertThat(probe.labelKinds()).containsExactly(LabelKind.GAP);
  }

  @Test
  void overridesAndErrorsNameTheKey() {
    LabelSettings q = LabelSettings.from(raw("label.band-unit=quantile", "label.bands=[\"0.5:1\"]",
        "label.balance-key=prev-current"));
    assertThat(q.bands().get(0).unit()).isEqualTo(Band.Unit.QUANTILE);
    assertThat(q.balanceKey()).isEqualTo(BalanceKey.PREV_CURRENT);
    assertThatThrownBy(() -> LabelSettings.from(raw("label.balance-key=next")))
        .hasMessageContaining("knowable.label.balance-key");
    assertThatThrownBy(() -> LabelSettings.from(raw("label.balance=[entropy]")))
        .hasMessageContaining("knowable.label.balance");
    assertThatThrownBy(() -> LabelSettings.from(raw("label.entropy-bin=0")))
        .hasMessageContaining("knowable.label.entropy-bin");
    assertThat(LabelSettings.from(raw("label.balance=[token]")).balancings()).containsExactly(Balancing.TOKEN);
    assertThatThrownBy(() -> LabelSettings.from(raw("label.bands=[\"2:1\"]")))
        .hasMessageContaining("knowable.label.bands");
    assertThatThrownBy(() -> LabelSettings.from(raw("label.kinds=[regression]")))
        .hasMessageContaining("knowable.label.kinds");
    assertThatThrownBy(() -> ProbeSettings.from(raw("probe.context.ks=[5]")))
        .hasMessageContaining("knowable.probe.context.ks");
    assertThatThrownBy(() -> ProbeSettings.from(raw("probe.mlp.dropout=1.5")))
        .hasMessageContaining("knowable.probe.mlp.dropout");
    assertThatThrownBy(() -> ProbeSettings.from(raw("probe.domains=[all]")))
        .hasMessageContaining("knowable.probe.domains");
    assertThatThrownBy(() -> ProbeSettings.from(raw("probe.seeds=0"))).hasMessageContaining("knowable.probe.seeds");
  }
}
