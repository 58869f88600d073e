package dev.knowable.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Builds the effective configuration of a run.
 *
 * <p>Precedence, highest first: {@code --set key=value} overrides, the job config file,
 * {@code reference.conf} on the classpath. Keys are written with or without the
 * {@code knowable.} prefix. A key that {@code reference.conf} does not declare is an error,
 * except below the free-form maps listed in {@link #FREE_FORM}.
 */
public final class ConfigLoader {
  /** Sub-trees whose keys are not checked against reference.conf. */
  static final List<String> FREE_FORM = List.of("knowable.spark.conf");

  private ConfigLoader() {}

  /** Loads reference.conf, then {@code file} (may be null), then the overrides. */
  public static KnowableConfig load(Path file, List<String> overrides) {
    Config reference = ConfigFactory.parseResources(
        ConfigLoader.class.getClassLoader(), "reference.conf",
        ConfigParseOptions.defaults().setAllowMissing(false));
    Config user = ConfigFactory.empty();
    if (file != null) {
      if (!Files.isRegularFile(file)) {
        throw new ConfigException("Config file not found: " + file.toAbsolutePath());
      }
      try {
        user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (com.typesafe.config.ConfigException e) {
        throw new ConfigException("Cannot parse config file " + file + ": " + e.getMessage(), e);
      }
      user = prefixed(user);
    }
    Config sets = ConfigFactory.empty();
    for (String o : overrides == null ? List.<String>of() : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("--set expects key=value, got '" + o + "'");
      }
      String key = o.substring(0, eq).trim();
      String value = o.substring(eq + 1).trim();
      if (!key.startsWith("knowable.")) {
        key = "knowable." + key;
      }
      Config one;
      try {
        // Parse the value as HOCON so lists and numbers work; fall back to a plain string.
        one = ConfigFactory.parseString(quoteKey(key) + " = " + value);
      } catch (com.typesafe.config.ConfigException e) {
        one = ConfigFactory.empty().withValue(quoteKey(key),
            com.typesafe.config.ConfigValueFactory.fromAnyRef(value, "--set " + key));
      }
      sets = one.withFallback(sets);
    }
    Config merged;
    try {
      merged = sets.withFallback(user).withFallback(reference)
          .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(false));
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Cannot resolve configuration: " + e.getMessage(), e);
    }
    checkNoUnknownKeys(sets.withFallback(user), reference);
    return KnowableConfig.from(merged);
  }

  /** Re-quotes a dotted path so every segment is literal (segments may be "quoted.with.dots"). */
  private static String quoteKey(String key) {
    try {
      return com.typesafe.config.ConfigUtil.joinPath(com.typesafe.config.ConfigUtil.splitPath(key));
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Invalid key in --set: '" + key + "': " + e.getMessage(), e);
    }
  }

  /** A user file may omit the knowable { } wrapper. */
  private static Config prefixed(Config user) {
    Config explicit = user.hasPath("knowable") ? user.withOnlyPath("knowable") : ConfigFactory.empty();
    Config rest = user.withoutPath("knowable");
    return rest.isEmpty() ? explicit : explicit.withFallback(rest.root().atKey("knowable"));
  }

  static void checkNoUnknownKeys(Config user, Config reference) {
    TreeSet<String> unknown = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
      String key = e.getKey();
      if (FREE_FORM.stream().anyMatch(f -> key.equals(f) || key.startsWith(f + "."))) {
        continue;
      }
      if (!reference.hasPathOrNull(key) && !underDeclaredList(key, reference)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      List<String> hints = new ArrayList<>();
      for (String k : unknown) {
        hints.add(k + nearest(k, reference));
      }
      throw new ConfigException("Unknown configuration key(s): " + String.join(", ", hints)
          + ". Declared keys and their defaults are in reference.conf (common/src/main/resources).");
    }
  }

  /** Elements of a declared list (e.g. ingest.inputs) are objects whose keys are checked elsewhere. */
  private static boolean underDeclaredList(String key, Config reference) {
    String p = key;
    while (p.contains(".")) {
      p = p.substring(0, p.lastIndexOf('.'));
      if (reference.hasPath(p) && reference.getValue(p).valueType() == com.typesafe.config.ConfigValueType.LIST) {
        return true;
      }
    }
    return false;
  }

  private static String nearest(String key, Config reference) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
      int d = editDistance(key, e.getKey());
      if (d < bestD) {
        bestD = d;
        best = e.getKey();
      }
    }
    return best != null && bestD <= 4 ? " (did you mean " + best + "?)" : "";
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
