package dev.knowable.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The device rule: the GPU the scheduler assigned, never a hard-coded GPU 0. */
class DevicesTest {
  @Test
  void theAssignedGpuIsUsedUnderAutoAndGpu() {
    assertThat(Devices.choose(DeviceChoice.AUTO, List.of(" 3 ", "5"))).isEqualTo(Device.gpu(3));
    assertThat(Devices.choose(DeviceChoice.GPU, List.of("1"))).isEqualTo(Device.gpu(1));
  }

  @Test
  void cpuWhenForcedOrWhenNothingWasAssigned() {
    assertThat(Devices.choose(DeviceChoice.CPU, List.of("2"))).isEqualTo(Device.cpu());
    assertThat(Devices.choose(DeviceChoice.AUTO, List.of())).isEqualTo(Device.cpu());
    assertThatThrownBy(() -> Devices.choose(DeviceChoice.GPU, List.of()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("spark.task.resource.gpu.amount");
  }

  @Test
  void threadsAreConfiguredElseTheTaskCpus() {
    assertThat(Devices.threads(3, 8)).isEqualTo(3);
    assertThat(Devices.threads(0, 4)).isEqualTo(4);
    assertThat(Devices.threads(0, 0)).isEqualTo(1);
  }
}
