package dev.knowable.jobs.runtime;

import ai.djl.Device;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import dev.knowable.model.Devices;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/** The device and threads of the running Spark task, from Spark's resource assignment. */
public final class TaskResources {
  private TaskResources() {}

  /** The GPU Spark assigned to this task under auto or gpu (see {@link Devices#choose}), else the CPU. */
  public static Device device(DeviceChoice choice) {
    return Devices.choose(choice, gpuAddresses());
  }

  /** Torch threads: configured, else spark.task.cpus, else 1. */
  public static int threads(int configured) {
    TaskContext tc = TaskContext.get();
    return Devices.threads(configured, tc == null ? 1 : tc.cpus());
  }

  private static List<String> gpuAddresses() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return List.of();
    }
    scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
    return gpu.isDefined() ? List.of(gpu.get().addresses()) : List.of();
  }
}
