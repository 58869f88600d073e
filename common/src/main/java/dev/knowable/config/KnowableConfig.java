package dev.knowable.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.knowable.hidden.HiddenStorage;
import dev.knowable.iclt.IcltSettings;
import dev.knowable.label.LabelSettings;
import dev.knowable.probe.ApplySettings;
import dev.knowable.probe.BetFtSettings;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.probe.ProbeTaskSettings;
import dev.knowable.tables.Table;
import java.io.Serializable;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The effective, validated configuration of a run: parsed once on the driver by
 * {@link ConfigLoader}, immutable, and serializable so the parts executors need travel
 * with the task closures. Key names and defaults live in {@code reference.conf}. Every
 * section is parsed here into a typed record, so a bad value fails when the config loads,
 * before the first stage runs.
 */
public final class KnowableConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What a stage does when its table for this run-id is already committed. */
  public enum IfExists { SKIP, OVERWRITE, FAIL }

  /** Where a model runs: auto = Spark's task GPU if assigned, else CPU. */
  public enum DeviceChoice { AUTO, CPU, GPU }

  /** conf holds the real values (secrets included) for the session; toString redacts them. */
  public record SparkSettings(String master, String appName, Map<String, String> conf) implements Serializable {
    @Override
    public String toString() {
      return "SparkSettings[master=" + master + ", appName=" + appName + ", conf=" + Secrets.redact(conf) + "]";
    }
  }

  /** One input location. format: jsonl, text or parquet; domain only for text folders. */
  public record InputSpec(String path, String format, String domain) implements Serializable {}

  public record SplitFractions(double train, double val, double test, String salt, String groupSeparator)
      implements Serializable {}

  public record Ingest(List<InputSpec> inputs, int maxChars, int rejectRawChars, SplitFractions split)
      implements Serializable {}

  /** What happens to a document longer than max-tokens. */
  public enum LongDocuments { WINDOW, TRUNCATE }

  /**
   * @param maxTokens the model input length: the window length (window) or the kept prefix (truncate)
   * @param windowOverlap fraction of max-tokens each window repeats from the previous one, in [0, 1)
   */
  public record Tokenize(String tokenizer, int maxTokens, int shards, LongDocuments longDocuments,
      double windowOverlap) implements Serializable {
    /** Tokens each window repeats from the previous one: the least left context of a later window's positions. */
    public int overlapTokens() {
      return (int) Math.floor(windowOverlap * maxTokens);
    }
  }

  /** A model of the pair. layers only matter for the small model, topK for the large. */
  public record ModelSettings(String role, String path, String engine, List<Integer> layers,
      int vocabLimit, int topK) implements Serializable {}

  /** What score-small/score-large do with a document the model returns NaN or infinity for. */
  public enum OnNonFinite { REJECT, FAIL }

  public record Score(int tokenBudget, int maxBatchSize, DeviceChoice device, int threads, OnNonFinite onNonFinite)
      implements Serializable {}

  /** @param runs run ids to aggregate; empty: every run with a committed table under output */
  public record Aggregate(List<String> runs) implements Serializable {
    public Aggregate {
      runs = List.copyOf(runs);
    }
  }

  /**
   * @param path where the HTML file goes; empty: {@code <output>/report/<run-id>.html}
   * @param rocThresholds score bins per ROC curve
   * @param passages held-out passages in the token view
   * @param passageTokens tokens shown of each passage
   * @param densityBins bins per axis of the H_S x H_L density
   */
  public record Report(String path, int rocThresholds, int passages, int passageTokens, int densityBins)
      implements Serializable {}

  private final String runId;
  private final String output;
  private final IfExists ifExists;
  private final SparkSettings spark;
  private final Ingest ingest;
  private final Tokenize tokenize;
  private final ModelSettings small;
  private final ModelSettings large;
  private final Score score;
  private final HiddenStorage hiddenStorage;
  private final LabelSettings label;
  private final ProbeSettings probe;
  private final ProbeTaskSettings probeTask;
  private final BetFtSettings betFt;
  private final IcltSettings iclt;
  private final ApplySettings apply;
  private final Aggregate aggregate;
  private final Report report;
  /** The full resolved tree, rendered into run manifests; not sent to executors. */
  private final transient Config raw;
  private final String rendered;
  /** The tree as the user wrote it (paths unresolved): what fingerprints are computed from. */
  private final String asWritten;
  private final String fingerprint;

  /** The local paths (read with java.nio on the driver and executors) resolved at load. */
  static final List<String> LOCAL_PATHS = List.of("knowable.models.small.path", "knowable.models.large.path",
      "knowable.tokenize.tokenizer");
  /** The Hadoop locations (local, hdfs://, s3a://) qualified by {@link #withLocations}. */
  static final List<String> HADOOP_PATHS = List.of("knowable.output", "knowable.report.path");

  private KnowableConfig(Config c, String asWritten) {
    this.raw = c;
    this.asWritten = asWritten;
    String id = c.getString("knowable.run-id").trim();
    this.runId = id.isEmpty() ? LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) : id;
    if (!runId.matches("[A-Za-z0-9._-]+")) {
      throw new ConfigException("knowable.run-id must use letters, digits, '.', '_' or '-' only, got '" + runId + "'");
    }
    this.output = nonEmpty(c, "knowable.output");
    this.ifExists = enumOf(IfExists.class, c, "knowable.if-exists");
    Map<String, String> sparkConf = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : c.getConfig("knowable.spark.conf").entrySet()) {
      sparkConf.put(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
    }
    this.spark = new SparkSettings(c.getString("knowable.spark.master"), c.getString("knowable.spark.app-name"),
        Map.copyOf(sparkConf));
    this.ingest = parseIngest(c);
    this.tokenize = new Tokenize(c.getString("knowable.tokenize.tokenizer"),
        positive(c, "knowable.tokenize.max-tokens"), positive(c, "knowable.tokenize.shards"),
        enumOf(LongDocuments.class, c, "knowable.tokenize.long-documents"),
        c.getDouble("knowable.tokenize.window-overlap"));
    if (!(tokenize.windowOverlap() >= 0 && tokenize.windowOverlap() < 1)) {
      throw new ConfigException("knowable.tokenize.window-overlap must be a fraction of max-tokens in [0, 1), got "
          + tokenize.windowOverlap() + " (each window must score new tokens)");
    }
    this.small = parseModel(c, "small");
    this.large = parseModel(c, "large");
    this.score = new Score(positive(c, "knowable.score.token-budget"), positive(c, "knowable.score.max-batch-size"),
        enumOf(DeviceChoice.class, c, "knowable.score.device"), nonNegative(c, "knowable.score.threads"),
        onNonFinite(c));
    this.label = LabelSettings.from(c);
    this.hiddenStorage = HiddenStorage.from(c, label);
    this.probe = ProbeSettings.from(c);
    this.probeTask = ProbeTaskSettings.from(c);
    this.betFt = BetFtSettings.from(c);
    this.iclt = IcltSettings.from(c);
    this.apply = ApplySettings.from(c, runId);
    SettingsReader r = new SettingsReader(c);
    this.aggregate = new Aggregate(r.strings("knowable.aggregate.runs"));
    this.report = new Report(r.string("knowable.report.path"), r.atLeast("knowable.report.roc-thresholds", 10),
        r.atLeast("knowable.report.passages", 0), r.atLeast("knowable.report.passage-tokens", 1),
        r.atLeast("knowable.report.density-bins", 5));
    this.rendered = render(c);
    // Where a run reads and writes does not change what it computes: a run folder made with
    // relative paths (or from another checkout) stays reusable, as before paths were resolved.
    this.fingerprint = ConfigFingerprint.ofRendered(asWritten);
  }

  /**
   * Validates the resolved tree and resolves the local paths (models, tokenizer) against the
   * working directory, so that no later step depends on where it runs.
   */
  static KnowableConfig from(Config resolved) {
    try {
      String asWritten = render(resolved);
      Config c = resolved;
      for (String key : LOCAL_PATHS) {
        if (c.hasPath(key) && !c.getString(key).isBlank()) {
          c = c.withValue(key, com.typesafe.config.ConfigValueFactory.fromAnyRef(
              absoluteLocal(c.getString(key)), "resolved from " + c.getString(key)));
        }
      }
      return new KnowableConfig(c, asWritten);
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Invalid configuration: " + e.getMessage(), e);
    }
  }

  /** A local path made absolute against the working directory (a file: URI's path kept as a path). */
  static String absoluteLocal(String p) {
    String s = p.trim();
    if (s.startsWith("file:")) {
      try {
        return java.nio.file.Paths.get(java.net.URI.create(s)).toAbsolutePath().normalize().toString();
      } catch (IllegalArgumentException e) {
        s = s.substring("file:".length()); // file:relative/dir
      }
    }
    return java.nio.file.Paths.get(s).toAbsolutePath().normalize().toString();
  }

  /**
   * This config with every Hadoop location (output, ingest inputs, report.path) replaced by
   * {@code qualify(location)}: the Spark side passes its file system's qualified form
   * ({@code file:/abs/out}, {@code hdfs://nn/user/x/out}), once, before any stage runs, so every
   * path a stage builds or lists is absolute and carries its scheme. Fingerprints do not change.
   */
  public KnowableConfig withLocations(java.util.function.UnaryOperator<String> qualify) {
    if (raw == null) {
      throw new IllegalStateException("withLocations runs on the driver");
    }
    Config c = raw;
    for (String key : HADOOP_PATHS) {
      if (c.hasPath(key) && !c.getString(key).isBlank()) {
        c = c.withValue(key, com.typesafe.config.ConfigValueFactory.fromAnyRef(qualify.apply(c.getString(key).trim()),
            "qualified from " + c.getString(key)));
      }
    }
    List<Object> inputs = new ArrayList<>();
    for (Config in : c.getConfigList("knowable.ingest.inputs")) {
      Map<String, Object> m = new LinkedHashMap<>(in.root().unwrapped());
      if (m.get("path") instanceof String path && !path.isBlank()) {
        m.put("path", qualify.apply(path.trim()));
      }
      inputs.add(m);
    }
    c = c.withValue("knowable.ingest.inputs", com.typesafe.config.ConfigValueFactory.fromIterable(inputs));
    try {
      return new KnowableConfig(c, asWritten);
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Invalid configuration: " + e.getMessage(), e);
    }
  }

  private static String render(Config c) {
    return Secrets.redact(c.getConfig("knowable")).root().render(ConfigRenderOptions.concise().setFormatted(true));
  }

  private static Ingest parseIngest(Config c) {
    List<InputSpec> inputs = new ArrayList<>();
    int i = 0;
    for (Config in : c.getConfigList("knowable.ingest.inputs")) {
      String where = "knowable.ingest.inputs[" + i++ + "]";
      for (String k : in.root().keySet()) {
        if (!List.of("path", "format", "domain").contains(k)) {
          throw new ConfigException("Unknown key '" + k + "' in " + where + "; allowed: path, format, domain");
        }
      }
      if (!in.hasPath("path") || in.getString("path").isBlank()) {
        throw new ConfigException(where + ".path is required");
      }
      String format = in.hasPath("format") ? in.getString("format").toLowerCase(Locale.ROOT) : "jsonl";
      if (!List.of("jsonl", "text", "parquet").contains(format)) {
        throw new ConfigException(where + ".format must be jsonl, text or parquet, got '" + format + "'");
      }
      String domain = in.hasPath("domain") ? in.getString("domain") : "";
      inputs.add(new InputSpec(in.getString("path"), format, domain));
    }
    double train = c.getDouble("knowable.ingest.split.train");
    double val = c.getDouble("knowable.ingest.split.val");
    double test = c.getDouble("knowable.ingest.split.test");
    for (String k : List.of("train", "val", "test")) {
      double v = c.getDouble("knowable.ingest.split." + k);
      if (v < 0 || v > 1) {
        throw new ConfigException("knowable.ingest.split." + k + " must be in [0, 1], got " + v);
      }
    }
    if (Math.abs(train + val + test - 1.0) > 1e-9) {
      throw new ConfigException("knowable.ingest.split fractions must sum to 1, got train=" + train + " val=" + val
          + " test=" + test);
    }
    return new Ingest(List.copyOf(inputs), positive(c, "knowable.ingest.max-chars"),
        positive(c, "knowable.ingest.reject-raw-chars"),
        new SplitFractions(train, val, test, c.getString("knowable.ingest.split.salt"),
            c.getString("knowable.ingest.split.group-separator")));
  }

  private static ModelSettings parseModel(Config c, String role) {
    String p = "knowable.models." + role + ".";
    String engine = c.getString(p + "engine").toLowerCase(Locale.ROOT);
    if (!dev.knowable.model.ModelRegistry.ENGINES.contains(engine)) {
      throw new ConfigException(p + "engine must be one of " + dev.knowable.model.ModelRegistry.ENGINES
          + " (the engines this build ships), got '" + engine + "'");
    }
    List<Integer> layers = c.hasPath(p + "layers") ? List.copyOf(c.getIntList(p + "layers")) : List.of();
    int topK = c.hasPath(p + "top-k") ? c.getInt(p + "top-k") : 1;
    if (topK < 1) {
      throw new ConfigException(p + "top-k must be >= 1, got " + topK);
    }
    return new ModelSettings(role, c.getString(p + "path"), engine, layers,
        nonNegative(c, p + "vocab-limit"), topK);
  }

  private static OnNonFinite onNonFinite(Config c) {
    String key = "knowable.score.on-non-finite";
    String v = c.getString(key).trim().toLowerCase(Locale.ROOT);
    if (!v.equals("reject") && !v.equals("fail")) {
      throw new ConfigException(key + " must be reject or fail, got '" + v + "'");
    }
    return enumOf(OnNonFinite.class, c, key);
  }

  private static String nonEmpty(Config c, String key) {
    String v = c.getString(key);
    if (v.isBlank()) {
      throw new ConfigException(key + " must not be empty");
    }
    return v;
  }

  private static int positive(Config c, String key) {
    int v = c.getInt(key);
    if (v <= 0) {
      throw new ConfigException(key + " must be > 0, got " + v);
    }
    return v;
  }

  private static int nonNegative(Config c, String key) {
    int v = c.getInt(key);
    if (v < 0) {
      throw new ConfigException(key + " must be >= 0, got " + v);
    }
    return v;
  }

  private static <E extends Enum<E>> E enumOf(Class<E> type, Config c, String key) {
    String v = c.getString(key);
    try {
      return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      List<String> allowed = new ArrayList<>();
      for (E x : type.getEnumConstants()) {
        allowed.add(x.name().toLowerCase(Locale.ROOT));
      }
      throw new ConfigException(key + " must be one of " + allowed + ", got '" + v + "'");
    }
  }

  public String runId() { return runId; }
  public String output() { return output; }
  public IfExists ifExists() { return ifExists; }
  public SparkSettings spark() { return spark; }
  public Ingest ingest() { return ingest; }
  public Tokenize tokenize() { return tokenize; }
  public ModelSettings small() { return small; }
  public ModelSettings large() { return large; }
  public Score score() { return score; }
  /** How score-small stores hidden states (knowable.score.hidden-dtype, hidden-positions). */
  public HiddenStorage hiddenStorage() { return hiddenStorage; }
  public LabelSettings label() { return label; }
  public ProbeSettings probe() { return probe; }
  /** knowable.probe.task: the resources of one probe-fit task. */
  public ProbeTaskSettings probeTask() { return probeTask; }
  /** knowable.probe.bet-ft: the fine-tuned-head entropy baseline. */
  public BetFtSettings betFt() { return betFt; }
  public IcltSettings iclt() { return iclt; }
  public ApplySettings apply() { return apply; }
  public Aggregate aggregate() { return aggregate; }
  public Report report() { return report; }

  /** The resolved tree (driver only; null after deserialization on an executor); stages read the typed sections. */
  public Config raw() { return raw; }

  /**
   * The resolved knowable { } tree as formatted JSON with secrets redacted ({@link Secrets}), for
   * run manifests: locations as they are used (absolute, qualified once {@link #withLocations} ran).
   */
  public String rendered() { return rendered; }

  /**
   * Where this run reads and writes, as used (absolute; qualified once {@link #withLocations}
   * ran): recorded in every manifest next to the config as written.
   */
  public Map<String, Object> locations() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("output", output);
    m.put("inputs", ingest.inputs().stream().map(InputSpec::path).toList());
    m.put("models.small.path", small.path());
    m.put("models.large.path", large.path());
    m.put("tokenize.tokenizer", tokenize.tokenizer());
    m.put("report.path", report.path());
    return m;
  }

  /** The tree as written (relative paths kept), secrets redacted: what fingerprints are computed from. */
  public String asWritten() { return asWritten; }

  /** {@link ConfigFingerprint} of this config: what a committed table must match to be reused. */
  public String fingerprint() { return fingerprint; }

  /** The fingerprint of the settings that determine one table ({@link ConfigFingerprint#TABLE_SECTIONS}). */
  public String fingerprint(String table) {
    return ConfigFingerprint.of(ConfigFingerprint.parse(asWritten), table);
  }

  /** {@link #fingerprint(String)} of a table of the registry. */
  public String fingerprint(Table table) {
    return fingerprint(table.tableName());
  }
}
