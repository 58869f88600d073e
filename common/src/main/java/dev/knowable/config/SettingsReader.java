package dev.knowable.config;

import com.typesafe.config.Config;
import java.util.List;

/** Typed getters over the resolved config whose errors name the full key. Driver only. */
public final class SettingsReader {
  private final Config config;

  public SettingsReader(Config config) {
    if (config == null) {
      throw new IllegalStateException("The resolved config tree is only available on the driver");
    }
    this.config = config;
  }

  public String string(String key) {
    return get(key, () -> config.getString(key));
  }

  public boolean bool(String key) {
    return get(key, () -> config.getBoolean(key));
  }

  public List<String> strings(String key) {
    return get(key, () -> List.copyOf(config.getStringList(key)));
  }

  /** A list of objects, e.g. {@code [ { name = a, text = "." } ]}. */
  public List<? extends Config> objects(String key) {
    return get(key, () -> List.copyOf(config.getConfigList(key)));
  }

  public List<Integer> ints(String key) {
    return get(key, () -> List.copyOf(config.getIntList(key)));
  }

  public List<Double> doubles(String key) {
    return get(key, () -> List.copyOf(config.getDoubleList(key)));
  }

  public long anyLong(String key) {
    return get(key, () -> config.getLong(key));
  }

  public int atLeast(String key, int min) {
    int v = get(key, () -> config.getInt(key));
    if (v < min) {
      throw new ConfigException(key + " must be >= " + min + ", got " + v);
    }
    return v;
  }

  /** A double in [min, max) (max may be +infinity). */
  public double inRange(String key, double min, double max) {
    double v = get(key, () -> config.getDouble(key));
    if (!(v >= min && v < max)) {
      throw new ConfigException(key + " must be in [" + min + ", " + max + "), got " + v);
    }
    return v;
  }

  /** Wraps a parse error of a value so the message names its key. */
  public static ConfigException invalid(String key, IllegalArgumentException e) {
    return new ConfigException(key + ": " + e.getMessage(), e);
  }

  private <T> T get(String key, java.util.function.Supplier<T> getter) {
    try {
      return getter.get();
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Invalid " + key + ": " + e.getMessage(), e);
    }
  }
}
