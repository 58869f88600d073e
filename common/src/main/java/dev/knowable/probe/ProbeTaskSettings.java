package dev.knowable.probe;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import dev.knowable.config.SettingsReader;
import java.io.Serializable;
import java.util.Locale;

/**
 * Resources of one probe-fit task ({@code knowable.probe.task.*}): where the MLP probe
 * trains and how much heap a task may fill with its rows (docs/SCALE.md).
 *
 * @param device auto: the GPU Spark assigned to the task, else the CPU; cpu; gpu: fail without one
 * @param memoryBytes heap one task may use for its rows and working arrays; 0 = derived from
 *     the executor's heap ({@link ProbeTaskMemory#budget})
 * @param memoryFraction the share of an executor's heap (less Spark's 300 MiB reserve) that its
 *     concurrent probe tasks may fill together, when memoryBytes is 0
 */
public record ProbeTaskSettings(DeviceChoice device, long memoryBytes, double memoryFraction)
    implements Serializable {
  static final String PREFIX = ProbeSettings.PREFIX + "task.";

  public static ProbeTaskSettings from(Config config) {
    SettingsReader r = new SettingsReader(config);
    String name = r.string(PREFIX + "device").trim().toUpperCase(Locale.ROOT);
    DeviceChoice device;
    try {
      device = DeviceChoice.valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(PREFIX + "device must be auto, cpu or gpu, got '" + r.string(PREFIX + "device") + "'");
    }
    long bytes;
    try {
      bytes = config.getBytes(PREFIX + "memory");
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException(PREFIX + "memory must be a size such as 0, 12g or 6000m: " + e.getMessage(), e);
    }
    if (bytes < 0) {
      throw new ConfigException(PREFIX + "memory must be >= 0 (0 = derived from the executor heap), got " + bytes);
    }
    double fraction = r.inRange(PREFIX + "memory-fraction", Double.MIN_VALUE, 1.0 + 1e-12);
    return new ProbeTaskSettings(device, bytes, fraction);
  }
}
