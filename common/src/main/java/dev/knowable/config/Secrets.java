package dev.knowable.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which settings are secrets, and how they are hidden from manifests and logs.
 *
 * <p>The rule applies to the free-form Spark settings under {@code knowable.spark.conf}
 * (where credentials such as {@code spark.hadoop.fs.s3a.secret.key} are given): a key is a
 * secret when it contains, ignoring case, {@code secret}, {@code password}, {@code token},
 * {@code credential} or {@code access.key}. It is not applied to knowable's own keys, whose
 * names are declared in reference.conf and hold no credentials ({@code tokenize.max-tokens}
 * would otherwise match "token"). The value still goes to Spark unchanged; only what knowable
 * records or logs shows {@link #REDACTED}.
 */
public final class Secrets {
  /** What a secret's value is replaced with. */
  public static final String REDACTED = "<redacted>";

  /** Lower-case substrings that make a key secret. */
  static final List<String> MARKERS = List.of("secret", "password", "token", "credential", "access.key");

  /**
   * Spark's own {@code spark.redaction.regex} (UI, event logs, spark.logConf) with the same
   * markers; Spark's default lacks "credential". Applied unless the user sets one.
   */
  public static final String SPARK_REDACTION_REGEX = "(?i)secret|password|token|credential|access[.]key";

  private Secrets() {}

  /** True when the value of Spark setting {@code key} must not be recorded or logged. */
  public static boolean isSecret(String key) {
    String k = key.replace("\"", "").toLowerCase(Locale.ROOT);
    return MARKERS.stream().anyMatch(k::contains);
  }

  /** A copy of Spark settings with every secret value replaced by {@link #REDACTED}; order is kept. */
  public static Map<String, String> redact(Map<String, String> sparkConf) {
    Map<String, String> out = new LinkedHashMap<>();
    sparkConf.forEach((k, v) -> out.put(k, isSecret(k) ? REDACTED : v));
    return out;
  }

  /** The resolved {@code knowable { }} tree with the secret values under {@code spark.conf} redacted. */
  public static Config redact(Config knowableTree) {
    if (!knowableTree.hasPath("spark.conf")) {
      return knowableTree;
    }
    Config out = knowableTree;
    for (Map.Entry<String, ConfigValue> e : knowableTree.getConfig("spark.conf").entrySet()) {
      // e.getKey() is a path expression, quoted where the key holds dots.
      if (isSecret(e.getKey())) {
        out = out.withValue("spark.conf." + e.getKey(), ConfigValueFactory.fromAnyRef(REDACTED, "redacted secret"));
      }
    }
    return out;
  }
}
