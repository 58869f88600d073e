package dev.knowable.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A table's fingerprint covers the settings of its stage and of every stage upstream of it. */
class ConfigFingerprintTest {
  private static KnowableConfig load(String... sets) {
    return ConfigLoader.load(null, List.of(sets));
  }

  @Test
  void aProbeSettingChangesOnlyTheProbeTables() {
    KnowableConfig base = load("run-id=r");
    KnowableConfig seeds = load("run-id=r", "probe.seeds=3");
    for (String t : List.of("documents", "tokens", "small_scores", "large_scores", "probe_examples", "iclt_scores")) {
      assertThat(seeds.fingerprint(t)).as(t).isEqualTo(base.fingerprint(t));
    }
    for (String t : List.of("probe_metrics", "probe_models", "cross_domain")) {
      assertThat(seeds.fingerprint(t)).as(t).isNotEqualTo(base.fingerprint(t));
    }
    assertThat(seeds.fingerprint()).as("the whole config (tables not listed)").isNotEqualTo(base.fingerprint());
  }

  @Test
  void anUpstreamSettingChangesEveryTableDownstream() {
    KnowableConfig base = load("run-id=r");
    KnowableConfig tokens = load("run-id=r", "tokenize.max-tokens=512");
    assertThat(tokens.fingerprint("documents")).isEqualTo(base.fingerprint("documents"));
    for (String t : List.of("tokens", "small_scores", "large_scores", "probe_examples", "probe_metrics",
        "iclt_scores", "iclt_metrics")) {
      assertThat(tokens.fingerprint(t)).as(t).isNotEqualTo(base.fingerprint(t));
    }
    KnowableConfig large = load("run-id=r", "models.large.top-k=5");
    assertThat(large.fingerprint("small_scores")).isEqualTo(base.fingerprint("small_scores"));
    assertThat(large.fingerprint("large_scores")).isNotEqualTo(base.fingerprint("large_scores"));
    assertThat(ConfigFingerprint.differences(ConfigFingerprint.parse(base.rendered()),
        ConfigFingerprint.parse(large.rendered()), 8, "large_scores"))
        .containsExactly("knowable.models.large.top-k: 10 -> 5");
  }
}
