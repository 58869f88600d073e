package dev.knowable.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.knowable.io.Hashing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A fingerprint of the settings that determine a run's results: SHA-256 (hex) of the
 * resolved {@code knowable { }} tree without the keys in {@link #EXCLUDED}, as canonical
 * JSON (a map from each leaf's dotted path to its value, keys sorted; lists are leaves).
 * Secrets cannot leak through it: they live under {@code spark}, which is excluded, and the
 * rendered tree it is computed from is redacted ({@link Secrets}). Run manifests record it as
 * {@code config_fingerprint}; if-exists=skip refuses to reuse a table whose fingerprint
 * differs from the current config's.
 *
 * <p>The tree is taken as JSON (a map from a manifest, or {@link KnowableConfig#rendered()}),
 * so a fingerprint can also be recomputed from the {@code config} recorded in a manifest.
 */
public final class ConfigFingerprint {
  /**
   * Paths under {@code knowable} that name, place, schedule or pace a run but do not change
   * what it computes: the run's name and output root, what to do with existing tables, the
   * Spark session (master, app name, free-form Spark settings, including secrets), and the
   * batching / threading / device of model passes.
   */
  public static final List<String> EXCLUDED = List.of("run-id", "output", "if-exists", "spark",
      "score.token-budget", "score.max-batch-size", "score.threads", "score.device", "iclt.token-budget");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private ConfigFingerprint() {}

  /** The fingerprint of a rendered knowable tree (JSON text). */
  public static String ofRendered(String renderedJson) {
    return of(parse(renderedJson));
  }

  /** The fingerprint of a knowable tree given as a JSON map. */
  public static String of(Map<String, ?> knowableTree) {
    try {
      return Hashing.sha256Hex(JSON.writeValueAsString(new TreeMap<>(flatten(knowableTree))));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot fingerprint the configuration: " + e.getMessage(), e);
    }
  }

  /**
   * The fingerprinted keys whose values differ between two trees, as
   * {@code knowable.key: a -> b} (at most {@code max}, then "..."); absent keys show as (absent).
   */
  public static List<String> differences(Map<String, ?> a, Map<String, ?> b, int max) {
    Map<String, Object> fa = flatten(a);
    Map<String, Object> fb = flatten(b);
    TreeSet<String> keys = new TreeSet<>(fa.keySet());
    keys.addAll(fb.keySet());
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (!Objects.equals(fa.get(k), fb.get(k))) {
        if (out.size() == max) {
          out.add("...");
          break;
        }
        out.add("knowable." + k + ": " + shown(fa, k) + " -> " + shown(fb, k));
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> parse(String renderedJson) {
    try {
      return JSON.readValue(renderedJson, Map.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot read the rendered configuration: " + e.getMessage(), e);
    }
  }

  private static String shown(Map<String, Object> flat, String key) {
    return flat.containsKey(key) ? String.valueOf(flat.get(key)) : "(absent)";
  }

  /** Leaf paths (objects flattened, lists kept whole) minus the excluded ones. */
  private static Map<String, Object> flatten(Map<String, ?> tree) {
    Map<String, Object> out = new TreeMap<>();
    flatten("", tree, out);
    return out;
  }

  private static void flatten(String prefix, Map<String, ?> tree, Map<String, Object> out) {
    for (Map.Entry<String, ?> e : tree.entrySet()) {
      String path = prefix + e.getKey();
      if (EXCLUDED.contains(path)) {
        continue;
      }
      if (e.getValue() instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, ?> sub = (Map<String, ?>) m;
        flatten(path + ".", sub, out);
      } else {
        out.put(path, e.getValue());
      }
    }
  }
}
