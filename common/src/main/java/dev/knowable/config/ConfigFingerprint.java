package dev.knowable.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.knowable.io.Hashing;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A fingerprint of the settings that determine a run's results: SHA-256 (hex) of the
 * resolved {@code knowable { }} tree without the keys in {@link #EXCLUDED}, as canonical
 * JSON (a map from each leaf's dotted path to its value, keys sorted; lists are leaves).
 * Secrets cannot leak through it: they live under {@code spark}, which is excluded, and the
 * rendered tree it is computed from is redacted ({@link Secrets}). Run manifests record it as
 * {@code config_fingerprint}; if-exists=skip refuses to reuse a table whose fingerprint
 * differs from the current config's.
 *
 * <p>Per table, only the sections that determine it count ({@link #TABLE_SECTIONS}): a
 * table's fingerprint covers its own stage's settings and those of every stage upstream of
 * it, so changing a probe setting and rerunning the pipeline reuses the committed
 * extraction tables and refuses only the probe tables. A table not listed depends on the
 * whole tree.
 *
 * <p>The tree is taken as JSON (a map from a manifest, or {@link KnowableConfig#rendered()}),
 * so a fingerprint can also be recomputed from the {@code config} recorded in a manifest.
 */
public final class ConfigFingerprint {
  /**
   * Paths under {@code knowable} that name, place, schedule or pace a run but do not change
   * what it computes: the run's name and output root, what to do with existing tables, the
   * Spark session (master, app name, free-form Spark settings, including secrets), the
   * batching / threading / device of model passes, and whether a non-finite score fails the
   * stage (a table written under either choice is the same).
   */
  public static final List<String> EXCLUDED = List.of("run-id", "output", "if-exists", "spark",
      "score.token-budget", "score.max-batch-size", "score.threads", "score.device", "score.on-non-finite",
      "iclt.token-budget");

  /**
   * The sections (paths under knowable, prefixes) whose settings determine each table, from
   * {@link Table#fingerprintSections()}; a table that is not listed depends on the whole tree.
   */
  public static final Map<String, List<String>> TABLE_SECTIONS = Arrays.stream(Table.values())
      .filter(t -> !t.fingerprintSections().isEmpty())
      .collect(Collectors.toUnmodifiableMap(Table::tableName, Table::fingerprintSections));

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private ConfigFingerprint() {}

  /** The fingerprint of a rendered knowable tree (JSON text). */
  public static String ofRendered(String renderedJson) {
    return of(parse(renderedJson));
  }

  /** The fingerprint of a knowable tree given as a JSON map. */
  public static String of(Map<String, ?> knowableTree) {
    return of(knowableTree, null);
  }

  /** The fingerprint of the sections of a tree that determine {@code table} (all for null or an unlisted table). */
  public static String of(Map<String, ?> knowableTree, String table) {
    try {
      return Hashing.sha256Hex(JSON.writeValueAsString(new TreeMap<>(flatten(knowableTree, table))));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot fingerprint the configuration: " + e.getMessage(), e);
    }
  }

  /**
   * The fingerprinted keys whose values differ between two trees, as
   * {@code knowable.key: a -> b} (at most {@code max}, then "..."); absent keys show as (absent).
   */
  public static List<String> differences(Map<String, ?> a, Map<String, ?> b, int max) {
    return differences(a, b, max, null);
  }

  /** {@link #differences(Map, Map, int)} over the sections that determine {@code table}. */
  public static List<String> differences(Map<String, ?> a, Map<String, ?> b, int max, String table) {
    Map<String, Object> fa = flatten(a, table);
    Map<String, Object> fb = flatten(b, table);
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

  /** Leaf paths (objects flattened, lists kept whole) minus the excluded ones, within the table's sections. */
  private static Map<String, Object> flatten(Map<String, ?> tree, String table) {
    Map<String, Object> out = new TreeMap<>();
    flatten("", tree, out);
    List<String> sections = table == null ? null : TABLE_SECTIONS.get(table);
    if (sections != null) {
      out.keySet().removeIf(k -> sections.stream().noneMatch(s -> k.equals(s) || k.startsWith(s + ".")));
    }
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
