package dev.knowable.jobs.apply;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.evaluate.StoredProbes;
import dev.knowable.jobs.evaluate.StoredProbes;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.label.LabelKind;
import dev.knowable.label.LabelSettings;
import dev.knowable.probe.ApplySettings;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.tables.Table;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The apply stage: a trained probe from {@code probe_models} (of this run or another) on
 * the {@code small_scores} of this run -> {@code token_uncertainty}: per position the
 * probe's probability that the small model's uncertainty there is epistemic (class 0).
 *
 * <p>In {@code pipeline} it runs after probe and applies this run's probe chosen by
 * {@code knowable.apply.*} (default: the pooled MLP of the highest layer, band [2, inf),
 * gap labels); the choice is checked against the label and probe settings before the
 * first stage runs ({@link #checkBeforeRun}). By name it also runs on a run with no large
 * model, which is how a trained probe scores new text: e.g.
 * {@code ingest,tokenize,score-small,apply} with {@code apply.probe-run} naming a run that
 * has probe_models.
 */
public final class ApplyStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ApplyStage.class);
  private static final String PREFIX = "knowable.apply.";

  @Override
  public String name() {
    return "apply";
  }

  @Override
  public String description() {
    return "apply a trained probe (probe_models of this or another run) to small_scores -> token_uncertainty";
  }

  /**
   * Fails before any stage runs when the configured probe cannot be found: against the
   * label and probe settings when this invocation trains the probes (probe runs before
   * apply and rewrites probe_models), otherwise against the committed probe_models.
   */
  @Override
  public void checkBeforeRun(SparkSession spark, KnowableConfig config, RunTables tables, List<String> stages) {
    if (tables.isCommitted(Table.TOKEN_UNCERTAINTY) && config.ifExists() != KnowableConfig.IfExists.OVERWRITE) {
      return; // skipped, or refused by if-exists = fail, when apply runs
    }
    ApplySettings s = config.apply();
    int probe = stages.indexOf("probe");
    boolean trainedHere = s.probeRun().equals(config.runId()) && probe >= 0 && probe < stages.indexOf(name())
        && (!tables.isCommitted(Table.PROBE_MODELS) || config.ifExists() == KnowableConfig.IfExists.OVERWRITE);
    if (trainedHere) {
      checkAgainstProbeSettings(config, s);
    } else {
      findProbe(spark, tables, s);
      resolve(tables, s);
    }
  }

  /** The probe that the label and probe settings of {@code config} will train exists. */
  static void checkAgainstProbeSettings(KnowableConfig config, ApplySettings s) {
    LabelSettings label = config.label();
    ProbeSettings probe = config.probe();
    String where = "the probes this run trains";
    if (s.kind().equals(ProbeTables.MLP) ? probe.mlp() == null : !probe.linearProbe()) {
      throw new ConfigException(PREFIX + "probe-kind is " + s.kind() + ", but " + where + " include no " + s.kind()
          + " probe (knowable.probe." + s.kind() + ".enabled = false): set " + PREFIX + "probe-kind to "
          + (s.kind().equals(ProbeTables.MLP) ? ProbeTables.LINEAR : ProbeTables.MLP) + " or enable the probe");
    }
    List<String> bands = label.bands().stream().map(Band.Spec::name).toList();
    requireOneOf(PREFIX + "band", s.band().name(), bands, where + " (knowable.label.bands)",
        ApplyStage::bandSetting);
    List<String> kinds = probe.labelKinds().stream().filter(label.kinds()::contains).map(LabelKind::tableValue)
        .toList();
    requireOneOf(PREFIX + "label-kind", s.labelKind(), kinds, where + " (knowable.label.kinds and knowable.probe"
        + ".label-kinds)");
    requireOneOf(PREFIX + "balance", s.balance(), label.balancings().stream().map(Balancing::tableValue).toList(),
        where + " (knowable.label.balance)");
    if (s.trainDomain().equals(ProbeSettings.POOLED) && !probe.pooled()) {
      throw new ConfigException(PREFIX + "train-domain is " + ProbeSettings.POOLED + " (pooled), but " + where
          + " include no pooled probe (knowable.probe.pooled = false): set " + PREFIX + "train-domain to a domain, or "
          + "knowable.probe.pooled = true");
    }
    if (!s.trainDomain().equals(ProbeSettings.POOLED) && !probe.domains().isEmpty()) {
      requireOneOf(PREFIX + "train-domain", s.trainDomain(), probe.domains(), where + " (knowable.probe.domains)");
    }
    List<Integer> layers = config.small().layers();
    // Negative layers count from the model's last: known once score-small reads the model.
    if (s.layer() >= 0 && layers.stream().allMatch(l -> l >= 0)) {
      requireOneOf(PREFIX + "layer", String.valueOf(s.layer()), layers.stream().map(String::valueOf).toList(),
          where + " (knowable.models.small.layers)");
    }
    if (s.seed() >= 0) {
      List<Integer> seeds = s.kind().equals(ProbeTables.MLP) ? probe.seeds() : probe.seeds().subList(0, 1);
      requireOneOf(PREFIX + "seed", String.valueOf(s.seed()), seeds.stream().map(String::valueOf).toList(),
          where + " (knowable.probe.seeds, base-seed)");
    }
  }

  private static void requireOneOf(String key, String value, List<String> present, String where) {
    requireOneOf(key, value, present, where, v -> v);
  }

  /**
   * A ConfigException naming the setting, the values present (as {@code shown} spells them
   * in a setting) and how to set one, unless value is present.
   */
  private static void requireOneOf(String key, String value, List<String> present, String where,
      UnaryOperator<String> shown) {
    if (present.contains(value)) {
      return;
    }
    StringBuilder msg = new StringBuilder(key + " selects " + shown.apply(value) + ", but " + where + " have "
        + (present.isEmpty() ? "none" : present.stream().map(shown).toList()));
    if (!present.isEmpty()) {
      String example = shown.apply(present.get(0));
      // A band holds ':', which HOCON reads only quoted.
      String assignment = key.substring("knowable.".length()) + "="
          + (key.endsWith(".band") ? "\"" + example + "\"" : example);
      msg.append(": set ").append(key).append(" to one of them (e.g. --set '").append(assignment).append("')");
    }
    throw new ConfigException(msg.toString());
  }

  /** A band name of a table as knowable.apply.band spells it ({@code [2.0,inf)} -> {@code 2.0:inf}). */
  static String bandSetting(String name) {
    try {
      return Band.Spec.parse(name).setting();
    } catch (IllegalArgumentException e) {
      return name; // not a band name: shown as it is
    }
  }

  /**
   * The band in nats: a nats band as configured; a quantile band as the probe run's label
   * stage resolved it (the probe_examples manifest), so new text is scored in the entropy
   * range the probe was trained on.
   */
  private static Band resolve(RunTables tables, ApplySettings s) {
    Band band = ProbeExamplesTable.resolvedBand(tables, s.probeRun(), s.band());
    if (band == null) {
      throw new ConfigException(PREFIX + "band selects the quantile band " + s.band().name() + ", but the "
          + "probe_examples manifest of run " + s.probeRun() + " records no nats bounds for it");
    }
    return band;
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(Table.TOKEN_UNCERTAINTY)) {
      return;
    }
    ApplySettings s = config.apply();
    String probeRun = s.probeRun();
    String kind = s.kind();
    Row probe = findProbe(spark, tables, s);
    Band band = resolve(tables, s);
    int layer = probe.getAs("layer");
    int seed = probe.getAs("seed");
    String trainDomain = probe.getAs("train_domain");
    Dataset<Row> small = tables.read(Table.SMALL_SCORES);
    // Hidden states stored as float16/bfloat16 are decoded inside the probe's UDF; positions
    // without stored hidden states (hidden-positions = in-band) get a null probability.
    UserDefinedFunction epistemic = StoredProbes.epistemicProbability(probe, kind, HiddenStates.dtype(tables));
    String hidden = "hidden_l" + layer;
    if (!List.of(small.columns()).contains(hidden)) {
      throw new ConfigException("The probe reads layer " + layer + " but small_scores of run " + config.runId()
          + " holds no " + hidden + " (knowable.models.small.layers)");
    }
    if (s.inBandOnly()) {
      small = small.filter(col("entropy").geq(lit((float) band.minNats()))
          .and(col("entropy").lt(lit((float) band.maxNats()))));
    }
    List<Column> out = new ArrayList<>();
    for (String c : SparkSchemas.of(Table.TOKEN_UNCERTAINTY).fieldNames()) {
      out.add(switch (c) {
        case "small_entropy" -> col("entropy").as(c);
        case "epistemic_probability" -> epistemic.apply(col(hidden)).as(c);
        case "probe_run" -> lit(probeRun).as(c);
        case "probe_kind" -> lit(kind).as(c);
        case "layer" -> lit(layer).as(c);
        case "band" -> lit(band.name()).as(c);
        case "label_kind" -> lit((String) probe.getAs("label_kind")).as(c);
        case "balance" -> lit(s.balance()).as(c);
        case "train_domain" -> lit(trainDomain).as(c);
        case "seed" -> lit(seed).as(c);
        default -> col(c);
      });
    }
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("probe_run", probeRun);
    extras.put("probe", Map.of("probe_kind", kind, "layer", layer, "band", band.name(), "label_kind",
        probe.getAs("label_kind"), "train_domain", trainDomain, "seed", seed, "model_pair", probe.getAs("model_pair")));
    long rows = tables.write(Table.TOKEN_UNCERTAINTY, small.select(out.toArray(new Column[0])), extras);
    LOG.info("apply: {} probe (layer {}, band {}, train domain {}, seed {}) of run {} scored {} positions", kind,
        layer, band.name(), trainDomain, seed, probeRun, rows);
  }

  /**
   * The one probe_models row the settings name (layer -1: the highest; seed -1: the
   * lowest). When there is none, the message names what probe_models holds and the
   * setting to change.
   */
  static Row findProbe(SparkSession spark, RunTables tables, ApplySettings s) {
    String probeRun = s.probeRun();
    if (!tables.isCommitted(Table.PROBE_MODELS, probeRun)) {
      throw new ConfigException("No committed probe_models for run " + probeRun + " at "
          + tables.tablePath(Table.PROBE_MODELS, probeRun) + " (run the probe stage there, or set "
          + PREFIX + "probe-run)");
    }
    Path dir = tables.tablePath(Table.PROBE_MODELS, probeRun);
    String where = "probe_models of run " + probeRun;
    List<String> kinds;
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      kinds = java.util.Arrays.stream(fs.listStatus(dir)).filter(st -> st.isDirectory())
          .map(st -> st.getPath().getName()).filter(n -> n.startsWith("probe_kind="))
          .map(n -> n.substring("probe_kind=".length())).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + dir, e);
    }
    requireOneOf(PREFIX + "probe-kind", s.kind(), kinds.stream().filter(k -> k.equals(ProbeTables.LINEAR)
        || k.equals(ProbeTables.MLP)).toList(), where);
    Dataset<Row> models = spark.read().parquet(dir + "/probe_kind=" + s.kind());
    if (!List.of(models.columns()).contains("balance")) {
      // probe_models written before the balance column: the paper's token balancing.
      models = models.withColumn("balance", lit(Balancing.TOKEN.tableValue()));
    }
    List<String> balances = models.select("balance").distinct().as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList().stream().sorted().toList();
    requireOneOf(PREFIX + "balance", s.balance(), balances, where);
    models = models.filter(col("balance").equalTo(s.balance()));
    // probe_models is small (one row per fitted probe): its keys are chosen from on the driver,
    // one setting at a time, so that a miss names the setting and the values present.
    List<Row> keys = models.select("band", "label_kind", "train_domain", "layer", "seed").distinct()
        .collectAsList();
    String of = s.kind() + " probes in " + where;
    keys = narrow(keys, "band", s.band().name(), PREFIX + "band", of);
    keys = narrow(keys, "label_kind", s.labelKind(), PREFIX + "label-kind", of + " in band " + s.band().name());
    keys = narrow(keys, "train_domain", s.trainDomain(), PREFIX + "train-domain",
        of + " in band " + s.band().name() + ", label kind " + s.labelKind());
    String at = of + " in band " + s.band().name() + ", label kind " + s.labelKind() + ", train domain "
        + s.trainDomain();
    if (s.layer() >= 0) {
      keys = narrow(keys, "layer", String.valueOf(s.layer()), PREFIX + "layer", at);
    }
    if (s.seed() >= 0) {
      keys = narrow(keys, "seed", String.valueOf(s.seed()), PREFIX + "seed", at + (s.layer() >= 0 ? ", layer "
          + s.layer() : ""));
    }
    Row key = keys.stream()
        .sorted((a, b) -> a.<Integer>getAs("layer").equals(b.<Integer>getAs("layer"))
            ? Integer.compare(a.<Integer>getAs("seed"), b.<Integer>getAs("seed"))
            : Integer.compare(b.<Integer>getAs("layer"), a.<Integer>getAs("layer")))
        .findFirst().orElseThrow();
    return models.filter(col("band").equalTo(s.band().name()).and(col("label_kind").equalTo(s.labelKind()))
        .and(col("train_domain").equalTo(s.trainDomain())).and(col("layer").equalTo(key.<Integer>getAs("layer")))
        .and(col("seed").equalTo(key.<Integer>getAs("seed")))).first();
  }

  /** The keys whose {@code column} is {@code value}; none: a ConfigException naming the values present. */
  private static List<Row> narrow(List<Row> keys, String column, String value, String key, String where) {
    List<String> present = keys.stream().map(k -> String.valueOf((Object) k.getAs(column))).distinct().sorted()
        .toList();
    requireOneOf(key, value, present, where, column.equals("band") ? ApplyStage::bandSetting : v -> v);
    return keys.stream().filter(k -> String.valueOf((Object) k.getAs(column)).equals(value)).toList();
  }

}
