package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProbeTaskMemoryTest {
  private static com.typesafe.config.Config raw(String... sets) {
    return ConfigLoader.load(null, Arrays.asList(sets)).raw();
  }

  @Test
  void paperScaleLinearAndMlpNeeds() {
    // d = 4096, 1M fit + 0.5M eval rows: 1.5M x (2 x 4096 + 20 + 160) bytes of rows.
    long rows = 1_500_000L * (8192 + 20 + 160);
    long linear = rows + 24L * 1_000_000 + 24L * 8 * 4097;
    assertThat(ProbeTaskMemory.needed(true, 4096, 1_000_000, 500_000, 0)).isEqualTo(linear);
    // MLP h = 2048: order ints, two heap copies of the h x (d + 3) weights, one 1024-row chunk.
    long mlp = rows + 4L * 1_000_000 + 8L * 2048 * 4099 + 4L * 1024 * 4096;
    assertThat(ProbeTaskMemory.needed(true, 4096, 1_000_000, 500_000, 2048)).isEqualTo(mlp);
    assertThat(ProbeTaskMemory.human(mlp)).isEqualTo("11.8 GiB");
    // Context probes hold ids, not features.
    assertThat(ProbeTaskMemory.needed(false, 0, 10, 5, 0)).isEqualTo(15 * (160 + 64) + 24 * 10 + 24 * 8);
  }

  @Test
  void budgetIsConfiguredOrAShareOfTheHeapPerConcurrentTask() {
    assertThat(ProbeTaskMemory.budget(12L << 30, 1L << 30, 0.6, 4)).isEqualTo(12L << 30);
    // (16 GiB - 300 MiB) x 0.5 / 4.
    assertThat(ProbeTaskMemory.budget(0, 16L << 30, 0.5, 4)).isEqualTo((long) (((16L << 30) - (300L << 20)) * 0.5 / 4));
    assertThat(ProbeTaskMemory.budget(0, 100L << 20, 0.6, 1)).isZero();
  }

  @Test
  void settingsParseSizesAndRefuseBadValues() {
    ProbeTaskSettings d = ProbeTaskSettings.from(raw());
    assertThat(d).isEqualTo(new ProbeTaskSettings(DeviceChoice.AUTO, 0, 0.6));
    ProbeTaskSettings s = ProbeTaskSettings.from(raw("probe.task.memory=12g", "probe.task.device=cpu"));
    assertThat(s.memoryBytes()).isEqualTo(12L << 30);
    assertThat(s.device()).isEqualTo(DeviceChoice.CPU);
    assertThatThrownBy(() -> ProbeTaskSettings.from(raw("probe.task.device=tpu")))
        .hasMessageContaining("knowable.probe.task.device").hasMessageContaining("tpu");
    assertThatThrownBy(() -> ProbeTaskSettings.from(raw("probe.task.memory=lots")))
        .hasMessageContaining("knowable.probe.task.memory");
    assertThatThrownBy(() -> ProbeTaskSettings.from(raw("probe.task.memory-fraction=0")))
        .hasMessageContaining("knowable.probe.task.memory-fraction");
  }
}
