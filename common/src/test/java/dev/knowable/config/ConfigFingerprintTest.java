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

  /** The fingerprints of the shipped configs, pinned: a refactoring of settings must not change them. */
  @Test
  void theShippedConfigsKeepTheirFingerprints() {
    Map<String, String> actual = new TreeMap<>();
    for (String name : List.of("bpe", "demo", "study", "study-bpe", "synthetic")) {
      actual.put(name, ConfigLoader.load(Path.of("..", "conf", name + ".conf"), List.of()).fingerprint());
    }
    actual.put("reference", load("run-id=r").fingerprint());
    assertThat(actual).isEqualTo(Map.of(
        "bpe", "d23a8b48fbf6632f5c54176bf14817f21f27dd753a6067aeb4bf372e554e3d70",
        "demo", "3baace827bd640269e90e8dd8f5fa0d41c4c64a303958bda959aa5b884a85a7e",
        "study", "972663a3211f6967b0fffe65033bac19a6216134b49734dbef1199d6e9c47ba5",
        "study-bpe", "e0f03679c475f73721aea02d69eb784c8726fad29c3aed5e95019177fd530edb",
        "reference", "63559ee245f67ee8b4bfe7ef005c01e05846378eae4d997d09dddb9acf885706",
        "synthetic", "ca08254f50a7b2465e8c7f55f16fe6ebb569bd67e6bbbb78a90f78e7da5b1314"));
  }
}
