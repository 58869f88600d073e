package dev.knowable.model;

import ai.djl.Device;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import java.util.List;

/**
 * Picks a task's device from the GPU addresses its scheduler assigned (on Spark: the
 * task's "gpu" resource), never a hard-coded GPU 0. The jobs read the addresses; this
 * class holds the rule.
 */
public final class Devices {
  private Devices() {}

  /**
   * The device: the first assigned GPU address under auto or gpu, else the CPU.
   *
   * @param gpuAddresses the GPU addresses assigned to the task; empty when none
   * @throws IllegalStateException when gpu is forced but no GPU was assigned
   */
  public static Device choose(DeviceChoice choice, List<String> gpuAddresses) {
    if (choice == DeviceChoice.CPU) {
      return Device.cpu();
    }
    if (!gpuAddresses.isEmpty()) {
      return Device.gpu(Integer.parseInt(gpuAddresses.get(0).trim()));
    }
    if (choice == DeviceChoice.GPU) {
      throw new IllegalStateException("knowable.score.device=gpu but Spark assigned no GPU to this task; set "
          + "spark.task.resource.gpu.amount and spark.executor.resource.gpu.amount (and a discovery script)");
    }
    return Device.cpu();
  }

  /** Torch threads for a task: configured, else the task's CPU count, else 1. */
  public static int threads(int configured, int taskCpus) {
    if (configured > 0) {
      return configured;
    }
    return Math.max(1, taskCpus);
  }
}
