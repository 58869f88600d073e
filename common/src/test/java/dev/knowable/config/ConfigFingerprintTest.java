package dev.knowable.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

  /**
   * The fingerprints of the shipped configs, pinned: a refactoring of settings must not change them.
   * Re-pinned once on purpose when knowable.probe.bet-ft.* (new keys, BET-FT) was added.
   */
  @Test
  void theShippedConfigsKeepTheirFingerprints() {
    Map<String, String> actual = new TreeMap<>();
    for (String name : List.of("bpe", "demo", "study", "study-bpe", "synthetic")) {
      actual.put(name, ConfigLoader.load(Path.of("..", "conf", name + ".conf"), List.of()).fingerprint());
    }
    actual.put("reference", load("run-id=r").fingerprint());
    assertThat(actual).isEqualTo(Map.of(
        "bpe", "4478a02663e428d9cc5ab9beded4b8a279e479d34871d17a50a9fa26ef5de3c2",
        "demo", "ee57bf722bd36a352cfa746bd20e34c0964d0278d5391172ce314b45ae972d5d",
        "study", "87d58466218d1912653a2fc2fc6b8a7a460e04d249fc5db8b85e934c8db16c73",
        "study-bpe", "6b4227d83f3c9a699db307dc60b83417bfeee6070f29aadaa8ad0812d88dbbd1",
        "reference", "216cce5104ad3852c084404273fe5a1c146c342e1b2979ce9654822f15321c81",
        "synthetic", "f29e153c3f31e34ceda96baf389eea160b6116161ed6b23818a881d83c5b1e1d"));
  }
}
