package dev.knowable.jobs.apply;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.config.SettingsReader;
import dev.knowable.hidden.HiddenDtype;
import dev.knowable.jobs.RunTables;
import dev.knowable.jobs.SparkSchemas;
import dev.knowable.jobs.Stage;
import dev.knowable.jobs.hidden.HiddenStates;
import dev.knowable.jobs.probe.ProbeTables;
import dev.knowable.label.Band;
import dev.knowable.probe.MlpWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The apply stage: a trained probe from {@code probe_models} (of this run or another) on
 * the {@code small_scores} of this run -> {@code token_uncertainty}: per position the
 * probe's probability that the small model's uncertainty there is epistemic (class 0).
 * The run needs no large model: this is how a trained probe scores new text.
 *
 * <p>Not part of {@code pipeline}: run it by name ({@code knowable apply}).
 */
public final class ApplyStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ApplyStage.class);
  public static final String TABLE = "token_uncertainty";
  private static final String PREFIX = "knowable.apply.";

  @Override
  public String name() {
    return "apply";
  }

  @Override
  public String description() {
    return "apply a trained probe (probe_models of any run) to this run's small_scores -> token_uncertainty";
  }

  @Override
  public List<String> outputs() {
    return List.of(TABLE);
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(TABLE)) {
      return;
    }
    SettingsReader r = new SettingsReader(config.raw());
    String probeRun = r.string(PREFIX + "probe-run").isBlank() ? config.runId() : r.string(PREFIX + "probe-run");
    String kind = r.string(PREFIX + "probe-kind").trim();
    if (!kind.equals(ProbeTables.LINEAR) && !kind.equals(ProbeTables.MLP)) {
      throw new ConfigException(PREFIX + "probe-kind must be linear or mlp, got '" + kind + "'");
    }
    Band.Spec bandSpec;
    try {
      bandSpec = Band.Spec.parse(r.string(PREFIX + "band"), Band.Unit.NATS);
    } catch (IllegalArgumentException e) {
      throw SettingsReader.invalid(PREFIX + "band", e);
    }
    Band band = bandSpec.toBand();
    Row probe = findProbe(spark, tables, probeRun, kind, r, band.name());
    int layer = probe.getAs("layer");
    int seed = probe.getAs("seed");
    String trainDomain = probe.getAs("train_domain");
    Dataset<Row> small = tables.read("small_scores", "score-small");
    // Hidden states stored as float16/bfloat16 are decoded inside the probe's UDF; positions
    // without stored hidden states (hidden-positions = in-band) get a null probability.
    UserDefinedFunction epistemic = epistemicProbability(probe, kind, HiddenStates.dtype(tables));
    String hidden = "hidden_l" + layer;
    if (!List.of(small.columns()).contains(hidden)) {
      throw new ConfigException("The probe reads layer " + layer + " but small_scores of run " + config.runId()
          + " holds no " + hidden + " (knowable.models.small.layers)");
    }
    if (r.string(PREFIX + "positions").equals("in-band")) {
      small = small.filter(col("entropy").geq(lit((float) band.minNats()))
          .and(col("entropy").lt(lit((float) band.maxNats()))));
    } else if (!r.string(PREFIX + "positions").equals("all")) {
      throw new ConfigException(PREFIX + "positions must be in-band or all, got '" + r.string(PREFIX + "positions")
          + "'");
    }
    List<Column> out = new ArrayList<>();
    for (String c : SparkSchemas.of(TABLE).fieldNames()) {
      out.add(switch (c) {
        case "small_entropy" -> col("entropy").as(c);
        case "epistemic_probability" -> epistemic.apply(col(hidden)).as(c);
        case "probe_run" -> lit(probeRun).as(c);
        case "probe_kind" -> lit(kind).as(c);
        case "layer" -> lit(layer).as(c);
        case "band" -> lit(band.name()).as(c);
        case "label_kind" -> lit((String) probe.getAs("label_kind")).as(c);
        case "train_domain" -> lit(trainDomain).as(c);
        case "seed" -> lit(seed).as(c);
        default -> col(c);
      });
    }
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("probe_run", probeRun);
    extras.put("probe", Map.of("probe_kind", kind, "layer", layer, "band", band.name(), "label_kind",
        probe.getAs("label_kind"), "train_domain", trainDomain, "seed", seed, "model_pair", probe.getAs("model_pair")));
    long rows = tables.write(TABLE, small.select(out.toArray(new Column[0])), List.of("domain"), extras);
    LOG.info("apply: {} probe (layer {}, band {}, train domain {}, seed {}) of run {} scored {} positions", kind,
        layer, band.name(), trainDomain, seed, probeRun, rows);
  }

  /** The one probe_models row the settings name (layer -1: the highest; seed -1: the lowest). */
  private static Row findProbe(SparkSession spark, RunTables tables, String probeRun, String kind,
      SettingsReader r, String band) {
    if (!tables.isCommitted(ProbeTables.MODELS, probeRun)) {
      throw new ConfigException("No committed probe_models for run " + probeRun + " at "
          + tables.tablePath(ProbeTables.MODELS, probeRun) + " (run the probe stage there, or set "
          + "knowable.apply.probe-run)");
    }
    Path dir = tables.tablePath(ProbeTables.MODELS, probeRun);
    Dataset<Row> models = spark.read().parquet(dir.toString() + "/probe_kind=" + kind)
        .filter(col("band").equalTo(band).and(col("label_kind").equalTo(r.string(PREFIX + "label-kind")))
            .and(col("train_domain").equalTo(r.string(PREFIX + "train-domain"))));
    long layer = r.anyLong(PREFIX + "layer");
    long seed = r.anyLong(PREFIX + "seed");
    // probe_models is small (one row per fitted probe): choosing on the driver is fine.
    List<Row> candidates = models.collectAsList().stream()
        .filter(m -> layer < 0 || m.<Integer>getAs("layer") == layer)
        .filter(m -> seed < 0 || m.<Integer>getAs("seed") == seed)
        .sorted((a, b) -> a.<Integer>getAs("layer").equals(b.<Integer>getAs("layer"))
            ? Integer.compare(a.<Integer>getAs("seed"), b.<Integer>getAs("seed"))
            : Integer.compare(b.<Integer>getAs("layer"), a.<Integer>getAs("layer")))
        .toList();
    if (candidates.isEmpty()) {
      throw new ConfigException("No " + kind + " probe in probe_models of run " + probeRun + " for band " + band
          + ", label kind " + r.string(PREFIX + "label-kind") + ", train domain " + r.string(PREFIX + "train-domain")
          + (layer < 0 ? "" : ", layer " + layer) + (seed < 0 ? "" : ", seed " + seed)
          + " (see: SELECT DISTINCT probe_kind, layer, band, label_kind, train_domain, seed FROM probe_models)");
    }
    return candidates.get(0);
  }

  /** P(class 0) of the probe on an array&lt;float&gt; hidden state (probe_examples, fp32 small_scores). */
  public static UserDefinedFunction epistemicProbability(Row probe, String kind) {
    return epistemicProbability(probe, kind, HiddenDtype.FLOAT32);
  }

  /**
   * P(class 0) of the probe, from its stored weights (computed in double, like the probe
   * stage), on a hidden state stored as {@code dtype}; null where the hidden state is null.
   */
  public static UserDefinedFunction epistemicProbability(Row probe, String kind, HiddenDtype dtype) {
    float[] w1 = floats(probe.getList(probe.fieldIndex("w1")));
    float[] b1 = floats(probe.getList(probe.fieldIndex("b1")));
    if (kind.equals(ProbeTables.MLP)) {
      MlpWeights weights = new MlpWeights(probe.getAs("input_dim"), probe.getAs("hidden_dim"), w1, b1,
          floats(probe.getList(probe.fieldIndex("w2"))), floats(probe.getList(probe.fieldIndex("b2"))));
      // The probe stage's scorer: the same numbers, bit for bit.
      dev.knowable.probe.MlpScorer scorer = new dev.knowable.probe.MlpScorer(weights);
      return org.apache.spark.sql.functions.udf(
          (UDF1<scala.collection.Seq<Object>, Double>) h -> h == null ? null
              : 1.0 - scorer.probabilityOfClass1(HiddenStates.floats(h, dtype)),
          DataTypes.DoubleType);
    }
    float intercept = b1[0];
    return org.apache.spark.sql.functions.udf(
        (UDF1<scala.collection.Seq<Object>, Double>) h -> h == null ? null
            : 1.0 - dev.knowable.jobs.probe.ProbeFitTask.storedLinear(w1, intercept, HiddenStates.floats(h, dtype)),
        DataTypes.DoubleType);
  }

  private static float[] floats(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
