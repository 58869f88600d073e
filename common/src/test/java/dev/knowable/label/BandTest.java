package dev.knowable.label;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every text and manifest form of a band reads back as the band it was printed from. */
class BandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A bound as configs write them: short decimals, integers, tiny or huge values, any double. */
  private static double bound(Random rnd, double max) {
    double v = switch (rnd.nextInt(5)) {
      case 0 -> rnd.nextInt(100) / 10.0;
      case 1 -> rnd.nextInt(20);
      case 2 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(21) - 10);
      case 3 -> Math.round(rnd.nextDouble() * 1000) / 1000.0;
      default -> rnd.nextDouble() * 20;
    };
    return Math.min(v, max);
  }

  private static Band.Spec randomSpec(Random rnd) {
    Band.Unit unit = rnd.nextBoolean() ? Band.Unit.NATS : Band.Unit.QUANTILE;
    double cap = unit == Band.Unit.QUANTILE ? 1.0 : Double.MAX_VALUE;
    while (true) {
      double a = bound(rnd, cap);
      double b = unit == Band.Unit.NATS && rnd.nextInt(4) == 0 ? Double.POSITIVE_INFINITY : bound(rnd, cap);
      if (a < b) {
        return new Band.Spec(a, b, unit);
      }
      if (b < a) {
        return new Band.Spec(b, a, unit);
      }
    }
  }

  @Test
  void everyFormRoundTrips() throws Exception {
    Random rnd = new Random(19);
    for (int i = 0; i < 5000; i++) {
      Band.Spec s = randomSpec(rnd);
      assertThat(Band.Spec.parse(s.name())).as("name %s", s.name()).isEqualTo(s);
      assertThat(Band.Spec.parse(s.setting())).as("setting %s", s.setting()).isEqualTo(s);
      String unitless = s.setting().replaceFirst("^q", "");
      assertThat(Band.Spec.parse(unitless, s.unit())).as("label.bands %s", unitless).isEqualTo(s);

      Band band = s.unit() == Band.Unit.NATS ? s.toBand() : s.toBand(bound(rnd, 5), 5.5 + bound(rnd, 50));
      // Through JSON, as manifests are written and read back.
      Map<?, ?> entry = JSON.readValue(JSON.writeValueAsString(band.manifestEntry()), Map.class);
      assertThat(Band.fromManifestEntry(entry)).as("manifest entry %s", entry).isEqualTo(band);
      if (s.unit() == Band.Unit.NATS) {
        List<?> bounds = JSON.readValue(JSON.writeValueAsString(band.manifestBounds()), List.class);
        assertThat(Band.fromManifestBounds(bounds)).as("manifest bounds %s", bounds).isEqualTo(band);
      }
    }
  }

  @Test
  void theFormsAsWritten() {
    Band.Spec open = Band.Spec.parse("2.0:inf", Band.Unit.NATS);
    assertThat(open.name()).isEqualTo("[2.0,inf)");
    assertThat(open.setting()).isEqualTo("2.0:inf");
    assertThat(Band.Spec.parse("[2.0,inf)")).isEqualTo(open);
    assertThat(Band.Spec.parse("2:inf")).isEqualTo(open);
    Band.Spec q = Band.Spec.parse("0.5:1", Band.Unit.QUANTILE);
    assertThat(q.name()).isEqualTo("q[0.5,1.0)");
    assertThat(q.setting()).isEqualTo("q0.5:1.0");
    assertThat(Band.Spec.parse("q0.5:1.0")).isEqualTo(q);
    assertThat(Band.Spec.parse("q[0.5,1.0)")).isEqualTo(q);
    assertThat(open.toBand().manifestBounds()).containsExactly(2.0, "inf");
    assertThat(open.toBand().manifestEntry()).containsExactly(Map.entry("band", "[2.0,inf)"),
        Map.entry("min_nats", 2.0), Map.entry("max_nats", "inf"));
    assertThat(Band.fromManifestBounds(List.of(2.0, "inf"))).isEqualTo(open.toBand());
  }

  @Test
  void malformedBandsSayWhy() {
    assertThatThrownBy(() -> Band.Spec.parse("2.0", Band.Unit.NATS)).hasMessageContaining("'min:max'");
    assertThatThrownBy(() -> Band.Spec.parse("q0.5:1.0", Band.Unit.NATS)).hasMessageContaining("numbers or inf");
    assertThatThrownBy(() -> Band.Spec.parse("[2.0;3.0)")).hasMessageContaining("[min,max)");
    assertThatThrownBy(() -> Band.Spec.parse("3:2")).hasMessageContaining("min < max");
    assertThatThrownBy(() -> Band.Spec.parse("q0.5:2")).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> Band.Spec.parse("x:2")).hasMessageContaining("numbers or inf");
  }
}
