package dev.knowable.probe;

import com.typesafe.config.Config;
import dev.knowable.config.ConfigException;
import java.util.List;

/** Typed getters over the resolved config whose errors name the full key. Driver only. */
final class SettingsReader {
  private final Config config;

  SettingsReader(Config config) {
    if (config == null) {
      throw new IllegalStateException("The resolved config tree is only available on the driver");
    }
    this.config = config;
  }

  String string(String key) {
    return get(key, () -> config.getString(key));
  }

  boolean bool(String key) {
    return get(key, () -> config.getBoolean(key));
  }

  List<String> strings(String key) {
    return get(key, () -> List.copyOf(config.getStringList(key)));
  }

  List<Integer> ints(String key) {
    return get(key, () -> List.copyOf(config.getIntList(key)));
  }

  long anyLong(String key) {
    return get(key, () -> config.getLong(key));
  }

  int atLeast(String key, int min) {
    int v = get(key, () -> config.getInt(key));
    if (v < min) {
      throw new ConfigException(key + " must be >= " + min + ", got " + v);
    }
    return v;
  }

  /** A double in [min, max) (max may be +infinity). */
  double inRange(String key, double min, double max) {
    double v = get(key, () -> config.getDouble(key));
    if (!(v >= min && v < max)) {
      throw new ConfigException(key + " must be in [" + min + ", " + max + "), got " + v);
    }
    return v;
  }

  /** Wraps a parse error of a value so the message names its key. */
  static ConfigException invalid(String key, IllegalArgumentException e) {
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
