package dev.knowable.label;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GapLabelerTest {
  private final GapLabeler paper = new GapLabeler(0.2, 0.1, 0.5);

  @Test
  void classesAndGap() {
    assertThat(paper.gapLabel(2.5f, 0.05f)).isEqualTo(GapLabeler.EPISTEMIC);
    assertThat(paper.gapLabel(2.5f, 2.45f)).isEqualTo(GapLabeler.ALEATORIC);
    assertThat(paper.gapLabel(2.5f, 2.58f)).isEqualTo(GapLabeler.ALEATORIC);
    assertThat(paper.gapLabel(2.5f, 1.0f)).as("between the classes").isEqualTo(GapLabeler.DROPPED);
    assertThat(paper.gapLabel(2.5f, 3.0f)).as("large model more unsure than small").isEqualTo(GapLabeler.DROPPED);
  }

  @Test
  void tiesAtTheThresholds() {
    assertThat(paper.gapLabel(2.5f, 0.2f)).as("H_L < 0.2 is strict").isEqualTo(GapLabeler.DROPPED);
    assertThat(paper.gapLabel(2.5f, Math.nextDown(0.2f))).isEqualTo(GapLabeler.EPISTEMIC);
    // In fp32, 2.25f + 0.1f rounds to the float whose difference from 2.25f is the float 0.1 or just below.
    float hL = 2.25f + 0.1f;
    assertThat(paper.gapLabel(2.25f, hL)).as("|H_L - H_S| <= 0.1 is inclusive").isEqualTo(GapLabeler.ALEATORIC);
    assertThat(paper.gapLabel(2.25f, 2.25f - 0.1f)).isEqualTo(GapLabeler.ALEATORIC);
    assertThat(paper.gapLabel(2.25f, Math.nextUp(Math.nextUp(hL)))).isEqualTo(GapLabeler.DROPPED);
    assertThat(paper.noGapLabel(0.5f)).as("H_L >= 0.5 is inclusive").isEqualTo(1);
    assertThat(paper.noGapLabel(Math.nextDown(0.5f))).isEqualTo(0);
  }

  @Test
  void bandsAreHalfOpen() {
    Band band = Band.Spec.parse("2.0:3.0", Band.Unit.NATS).toBand();
    assertThat(band.name()).isEqualTo("[2.0,3.0)");
    assertThat(band.contains(2.0f)).isTrue();
    assertThat(band.contains(Math.nextDown(2.0f))).isFalse();
    assertThat(band.contains(Math.nextDown(3.0f))).isTrue();
    assertThat(band.contains(3.0f)).isFalse();
    Band open = Band.Spec.parse("2:inf", Band.Unit.NATS).toBand();
    assertThat(open.name()).isEqualTo("[2.0,inf)");
    assertThat(open.contains(Float.MAX_VALUE)).isTrue();
  }

  @Test
  void quantileBandsResolveToNats() {
    Band.Spec top = Band.Spec.parse("0.5:1.0", Band.Unit.QUANTILE);
    assertThat(top.name()).isEqualTo("q[0.5,1.0)");
    Band resolved = top.toBand(1.7, 4.2);
    assertThat(resolved.minNats()).isEqualTo(1.7);
    assertThat(resolved.maxNats()).as("the top quantile is open-ended").isInfinite();
    assertThat(Band.Spec.parse("0.25:0.5", Band.Unit.QUANTILE).toBand(1.0, 1.7).maxNats()).isEqualTo(1.7);
    assertThatThrownBy(() -> Band.Spec.parse("0.5:2", Band.Unit.QUANTILE))
        .hasMessageContaining("quantile band bounds");
    assertThatThrownBy(() -> Band.Spec.parse("3:2", Band.Unit.NATS)).hasMessageContaining("min < max");
    assertThatThrownBy(() -> Band.Spec.parse("abc", Band.Unit.NATS)).hasMessageContaining("min:max");
  }
}
