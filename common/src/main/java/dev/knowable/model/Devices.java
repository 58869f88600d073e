package dev.knowable.model;

import ai.djl.Device;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/** Picks the device of a task from Spark's resource assignment, never a hard-coded GPU 0. */
public final class Devices {
  private Devices() {}

  /**
   * The task's device: the first GPU address Spark assigned to this task (resource
   * "gpu") under auto or gpu, else the CPU.
   *
   * @throws IllegalStateException when gpu is forced but Spark assigned none
   */
  public static Device forTask(DeviceChoice choice) {
    if (choice == DeviceChoice.CPU) {
      return Device.cpu();
    }
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
      if (gpu.isDefined() && gpu.get().addresses().length > 0) {
        return Device.gpu(Integer.parseInt(gpu.get().addresses()[0].trim()));
      }
    }
    if (choice == DeviceChoice.GPU) {
      throw new IllegalStateException("knowable.score.device=gpu but Spark assigned no GPU to this task; set "
          + "spark.task.resource.gpu.amount and spark.executor.resource.gpu.amount (and a discovery script)");
    }
    return Device.cpu();
  }

  /** Torch threads for a task: configured, else spark.task.cpus, else 1. */
  public static int threadsForTask(int configured) {
    if (configured > 0) {
      return configured;
    }
    TaskContext tc = TaskContext.get();
    return tc == null ? 1 : Math.max(1, tc.cpus());
  }
}
