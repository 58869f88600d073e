package dev.knowable.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.evaluate.CrossDomain;
import dev.knowable.jobs.evaluate.StoredProbes;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.label.Band;
import dev.knowable.probe.ProbeSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report stage: one self-contained HTML file for this run (charts rendered by XChart
 * and embedded as base64 PNG; no script, no network). Everything per token is aggregated in
 * Spark (ROC counts over a bounded number of score bins, the 2-D entropy histogram, ICLT
 * score histograms); only those aggregates, the metrics tables and a few passages of the
 * token view reach the driver. Prints the report's path and the headline table.
 */
public final class ReportStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ReportStage.class);
  private static final String POOLED = ProbeSettings.POOLED;

  @Override
  public String name() {
    return "report";
  }

  @Override
  public String description() {
    return "one self-contained HTML report of this run (charts, headline AUCs, token view) -> <output>/report/<run-id>.html";
  }

  @Override
  public List<String> outputs() {
    return List.of();
  }

  /** The report's path for a config. */
  public static String reportPath(KnowableConfig config) {
    String p = config.report().path();
    return p.isBlank() ? new Path(new Path(config.output(), "report"), config.runId() + ".html").toString() : p;
  }

  /** One headline row: pooled test AUC over seeds of one probe (kind, layer) in the headline band. */
  public record Headline(String balance, String probeKind, Integer layer, long seeds, double auc, double ciLow,
      double ciHigh, long nClass0, long nClass1) {
    public String label() {
      return layer == null ? probeKind : probeKind + " (layer " + layer + ")";
    }
  }

  /** One paired comparison row (probe_comparisons, pooled test, lowest seed). */
  public record Difference(String balance, String probeKind, int layer, int seed, String baseline,
      double difference, double low, double high) {}

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    long start = System.nanoTime();
    KnowableConfig.Report r = config.report();
    Dataset<Row> metrics = tables.read("probe_metrics", "probe").withColumn("source_run_id", lit(config.runId()))
        .withColumn("config_fingerprint", lit(String.valueOf(tables.readManifest("probe_metrics")
            .get("config_fingerprint"))));
    // One row per probe configuration, as agg_cross_domain has it: small.
    List<Row> allCross = CrossDomain.overSeeds(metrics, CrossDomain.RUN_KEYS).collectAsList();
    // The balancings in config order (knowable.label.balance): the first leads; the sections
    // below the headline show it alone.
    List<String> balances = balanceOrder(config, allCross);
    String lead = balances.get(0);
    List<Row> cross = allCross.stream().filter(x -> lead.equals(x.getAs("balance"))).toList();
    String band = headlineBand(config, cross);
    String labelKind = cross.stream().map(x -> x.<String>getAs("label_kind")).filter("gap"::equals).findFirst()
        .orElse(cross.isEmpty() ? "gap" : cross.get(0).getAs("label_kind"));
    List<Headline> headline = headline(allCross, band, labelKind, balances);
    List<Difference> differences = differences(tables, band, labelKind, balances);

    Html html = new Html("knowable report: run " + config.runId());
    html.nav(List.of("headline", "cross-domain", "roc", "layers", "bands", "density", "iclt", "tokens", "config"));
    html.section("headline", "Headline: pooled test AUC");
    html.p("Probes trained on every domain pooled (train domain <b>all</b>) and evaluated on the pooled test split "
        + "(<b>all</b>), band <b>" + esc(band) + "</b>, label kind <b>" + esc(labelKind) + "</b>. AUC: mean over "
        + "seeds; interval: mean over seeds of each seed's 95% bootstrap interval. Class 1 (aleatoric) is the "
        + "positive class; 0.5 is chance. Linear, BET, context and combined controls are deterministic (one "
        + "seed); MLPs are trained with every seed. Balancing <b>" + esc(lead) + "</b> leads "
        + (balances.size() > 1 ? "(the others follow it: " + esc(String.join(", ", balances.subList(1,
            balances.size()))) + ")" : "") + ": entropy_matched equalises the classes within each (token, H_S bin) "
        + "cell, so BET and the current-token control sit near 0.5 and what a probe finds is not H_S or the "
        + "token; token is the paper's token-identity balancing. combined_k&lt;k&gt; is the strongest control: one "
        + "logistic regression on the last k token ids with H_S, H_S&sup2; and ln(1 + position). bet_ft is the "
        + "paper's second baseline: the entropy of the small model's LM head fine-tuned toward the large model's "
        + "top-k distribution on the train split, thresholded like BET (docs/METHOD.md 6.5)." + mlpNote(tables)
        + betFtNote(tables));
    html.headlineTable(headline);
    html.p("Paired differences (probe_comparisons): the probe's AUC minus the baseline's on exactly the same test "
        + "positions, with a 95% interval that resamples documents. The probe beats the baseline when the lower "
        + "bound is above 0.");
    html.differenceTable(differences);

    timed("cross-domain", () -> crossDomainSection(html, cross, band, labelKind));
    timed("roc", () -> rocSection(spark, html, tables, config, cross, band, labelKind, r));
    timed("layers", () -> layerSection(html, cross, band, labelKind));
    timed("bands", () -> bandSection(html, cross, labelKind));
    timed("density", () -> densitySection(spark, html, tables, config, r));
    timed("iclt", () -> icltSection(spark, html, tables));
    timed("tokens", () -> tokenSection(spark, html, tables, config, cross, band, labelKind, r));
    configSection(html, tables);

    String path = reportPath(config);
    byte[] bytes = html.finish().getBytes(StandardCharsets.UTF_8);
    Path dest = new Path(path);
    try {
      org.apache.hadoop.fs.FileSystem fs = dest.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs instanceof org.apache.hadoop.fs.LocalFileSystem local) {
        fs = local.getRawFileSystem(); // no .crc side file next to a file meant to be opened by hand
      }
      Path tmp = new Path(dest.getParent(), "." + dest.getName() + ".tmp");
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(bytes);
      }
      if (fs.exists(dest)) {
        fs.delete(dest, false);
      }
      if (!fs.rename(tmp, dest)) {
        throw new IOException("rename " + tmp + " -> " + dest + " returned false");
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write the report to " + dest + ": " + e.getMessage(), e);
    }
    LOG.info("report: {} ({} bytes) in {} s", dest, bytes.length,
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    System.out.println();
    System.out.println("Report: " + dest + " (" + bytes.length / 1024 + " KiB)");
    System.out.print(consoleTable(headline, differences, band, labelKind));
    System.out.print(mlpNote(tables).isEmpty() ? "" : mlpNote(tables).trim() + "\n");
    System.out.print(betFtNote(tables).isEmpty() ? "" : betFtNote(tables).trim() + "\n");
  }

  private static void timed(String section, Runnable work) {
    long t = System.nanoTime();
    work.run();
    LOG.info("report: section {} in {} s", section, String.format("%.1f", (System.nanoTime() - t) / 1e9));
  }

  // ---- headline -------------------------------------------------------------------------

  /** The balancings present, in the order knowable.label.balance lists them (others after, sorted). */
  static List<String> balanceOrder(KnowableConfig config, List<Row> cross) {
    TreeSet<String> present = new TreeSet<>();
    cross.forEach(x -> present.add(x.getAs("balance")));
    List<String> out = new ArrayList<>();
    for (dev.knowable.label.Balancing b : config.label().balancings()) {
      if (present.remove(b.tableValue())) {
        out.add(b.tableValue());
      }
    }
    out.addAll(present);
    if (out.isEmpty()) {
      throw new IllegalStateException("report: probe_metrics of this run has no test rows");
    }
    return out;
  }

  /** How BET-FT's fits ended (probe_models manifest), as a sentence; empty when it did not run. */
  static String betFtNote(RunTables tables) {
    if (!tables.isCommitted("probe_models")) {
      return "";
    }
    Map<String, Object> m = tables.readManifest("probe_models");
    if (m.get("bet_ft_fits") == null) {
      return "";
    }
    return " BET-FT: " + m.get("bet_ft_stopped_at_cap") + " of " + m.get("bet_ft_fits") + " fits reached max-epochs = "
        + m.get("bet_ft_max_epochs") + " (patience " + m.get("bet_ft_patience") + ", min-delta "
        + m.get("bet_ft_min_delta") + "), " + m.get("bet_ft_kept_own_head") + " kept the model's own head.";
  }

  /** How many MLP fits reached max-epochs (probe_models manifest), as a sentence; empty when unknown. */
  static String mlpNote(RunTables tables) {
    if (!tables.isCommitted("probe_models")) {
      return "";
    }
    Map<String, Object> m = tables.readManifest("probe_models");
    Object fits = m.get("mlp_fits");
    Object cap = m.get("mlp_stopped_at_cap");
    if (fits == null || cap == null) {
      return "";
    }
    return " MLP training: " + cap + " of " + fits + " fits reached max-epochs = " + m.get("mlp_max_epochs")
        + " before early stopping (patience " + m.get("mlp_patience") + ", min-delta " + m.get("mlp_min_delta")
        + "); logistic fits not converged: " + m.get("logistic_not_converged") + " of " + m.get("logistic_fits")
        + ".";
  }

  /** The first configured band (nats or quantile) when the run has it, else the first band in the metrics. */
  static String headlineBand(KnowableConfig config, List<Row> cross) {
    TreeSet<String> present = new TreeSet<>();
    cross.forEach(x -> present.add(x.getAs("band")));
    String first = config.label().bands().get(0).name();
    if (present.contains(first)) {
      return first;
    }
    if (present.isEmpty()) {
      throw new IllegalStateException("report: probe_metrics of this run has no test rows");
    }
    return present.first();
  }

  private static boolean pooledRow(Row x, String band, String labelKind) {
    return x.getAs("band").equals(band) && x.getAs("label_kind").equals(labelKind)
        && POOLED.equals(x.getAs("train_domain")) && POOLED.equals(x.getAs("eval_domain"));
  }

  static List<Headline> headline(List<Row> cross, String band, String labelKind, List<String> balances) {
    List<Headline> out = new ArrayList<>();
    for (Row x : cross) {
      if (pooledRow(x, band, labelKind)) {
        out.add(new Headline(x.getAs("balance"), x.getAs("probe_kind"), x.getAs("layer"), x.<Long>getAs("n_seeds"),
            x.<Double>getAs("auc_mean"), nz(x.getAs("auc_ci_low")), nz(x.getAs("auc_ci_high")),
            x.<Long>getAs("n_class0"), x.<Long>getAs("n_class1")));
      }
    }
    out.sort((a, b) -> {
      int ba = balances.indexOf(a.balance());
      int bb = balances.indexOf(b.balance());
      if (ba != bb) {
        return Integer.compare(ba, bb);
      }
      int ka = kindOrder(a.probeKind());
      int kb = kindOrder(b.probeKind());
      if (ka != kb) {
        return Integer.compare(ka, kb);
      }
      int c = a.probeKind().compareTo(b.probeKind());
      return c != 0 ? c : Integer.compare(a.layer() == null ? -1 : a.layer(), b.layer() == null ? -1 : b.layer());
    });
    return out;
  }

  private static int kindOrder(String kind) {
    return switch (kind) {
      case "mlp" -> 0;
      case "linear" -> 1;
      case "bet", "bet_ft" -> 2; // bet_ft right after bet (by name)
      default -> kind.startsWith("combined_k") ? 3 : 4;
    };
  }

  private static double nz(Object d) {
    return d == null ? Double.NaN : (Double) d;
  }

  static List<Difference> differences(RunTables tables, String band, String labelKind, List<String> balances) {
    if (!tables.isCommitted("probe_comparisons")) {
      return List.of();
    }
    Dataset<Row> c = tables.read("probe_comparisons", "probe").filter(col("band").equalTo(band)
        .and(col("label_kind").equalTo(labelKind)).and(col("train_domain").equalTo(POOLED))
        .and(col("eval_domain").equalTo(POOLED)).and(col("eval_split").equalTo("test")))
        .filter(col("balance").isin(balances.toArray()))
        .orderBy("balance", "probe_kind", "layer", "baseline_kind", "seed");
    List<Difference> out = new ArrayList<>();
    TreeSet<String> seen = new TreeSet<>();
    for (Row x : c.collectAsList()) { // a few rows per probe: pooled only
      String baseline = x.getAs("baseline_kind");
      String key = x.getAs("balance") + "/" + x.getAs("probe_kind") + "/" + x.getAs("layer") + "/" + baseline;
      if (seen.add(key)) { // the lowest seed
        out.add(new Difference(x.getAs("balance"), x.getAs("probe_kind"), x.<Integer>getAs("layer"), x.<Integer>getAs("seed"), baseline,
            x.<Double>getAs("auc_difference"), x.<Double>getAs("difference_ci_low"),
            x.<Double>getAs("difference_ci_high")));
      }
    }
    out.sort((a, b) -> {
      int bal = Integer.compare(balances.indexOf(a.balance()), balances.indexOf(b.balance()));
      if (bal != 0) {
        return bal;
      }
      int k = Integer.compare(kindOrder(a.probeKind()), kindOrder(b.probeKind()));
      return k != 0 ? k : a.layer() != b.layer() ? Integer.compare(a.layer(), b.layer())
          : Integer.compare(baselineOrder(a.baseline()), baselineOrder(b.baseline()));
    });
    return out;
  }

  /** Combined control first (the strongest), then BET, BET-FT, then the best single context control. */
  private static int baselineOrder(String baseline) {
    return baseline.startsWith("combined_k") ? 0 : baseline.equals("bet") ? 1 : baseline.equals("bet_ft") ? 2 : 3;
  }

  static String consoleTable(List<Headline> headline, List<Difference> differences, String band, String labelKind) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Pooled test AUC (train all -> eval all), band %s, label %s:%n", band,
        labelKind));
    sb.append(String.format(Locale.ROOT, "  %-16s %-22s %6s  %-17s %5s %8s%n", "balance", "probe", "AUC",
        "95% interval", "seeds", "n test"));
    for (Headline h : headline) {
      sb.append(String.format(Locale.ROOT, "  %-16s %-22s %6.3f  [%6.3f, %6.3f] %5d %8d%n", h.balance(), h.label(),
          h.auc(), h.ciLow(), h.ciHigh(), h.seeds(), h.nClass0() + h.nClass1()));
    }
    if (!differences.isEmpty()) {
      sb.append("Paired differences on the same test positions (documents resampled):\n");
      for (Difference d : differences) {
        sb.append(String.format(Locale.ROOT, "  %-16s %-22s - %-12s %+7.3f  [%+7.3f, %+7.3f]%n", d.balance(),
            d.probeKind() + " (layer " + d.layer() + ")", d.baseline(), d.difference(), d.low(), d.high()));
      }
    }
    return sb.toString();
  }

  // ---- sections --------------------------------------------------------------------------

  /** The layer of a hidden-state probe kind with the best pooled AUC in the headline band. */
  private static Integer bestLayer(List<Row> cross, String kind, String band, String labelKind) {
    Integer best = null;
    double bestAuc = -1;
    for (Row x : cross) {
      if (pooledRow(x, band, labelKind) && kind.equals(x.getAs("probe_kind"))) {
        double a = x.<Double>getAs("auc_mean");
        if (a > bestAuc || best == null) {
          best = x.getAs("layer");
          bestAuc = a;
        }
      }
    }
    return best;
  }

  private static void crossDomainSection(Html html, List<Row> cross, String band, String labelKind) {
    html.section("cross-domain", "Cross-domain generalisation");
    html.p("Test AUC (mean over seeds) of probes trained on one domain (rows) and evaluated unchanged on each "
        + "domain (columns); <b>all</b> = every domain pooled. Band " + esc(band) + ", the probe's best layer.");
    for (String kind : List.of("mlp", "linear")) {
      Integer layer = bestLayer(cross, kind, band, labelKind);
      if (layer == null) {
        continue;
      }
      TreeSet<String> train = new TreeSet<>();
      TreeSet<String> eval = new TreeSet<>();
      Map<String, Double> cell = new TreeMap<>();
      for (Row x : cross) {
        if (x.getAs("band").equals(band) && x.getAs("label_kind").equals(labelKind) && kind.equals(x.getAs("probe_kind"))
            && layer.equals(x.getAs("layer"))) {
          train.add(x.getAs("train_domain"));
          eval.add(x.getAs("eval_domain"));
          cell.put(x.getAs("train_domain") + "\u0000" + x.getAs("eval_domain"), x.getAs("auc_mean"));
        }
      }
      List<String> tr = pooledLast(train);
      List<String> ev = pooledLast(eval);
      double[][] m = new double[tr.size()][ev.size()];
      for (int i = 0; i < tr.size(); i++) {
        for (int j = 0; j < ev.size(); j++) {
          Double v = cell.get(tr.get(i) + "\u0000" + ev.get(j));
          m[i][j] = v == null ? Double.NaN : v;
        }
      }
      html.chart("heatmap-" + kind, Charts.pngLater(Charts.heatmap(kind + " probe, layer " + layer + ": test AUC, train x eval"
          + " domain", tr, ev, m)), kind + " probe cross-domain AUC heatmap");
    }
  }

  private static List<String> pooledLast(TreeSet<String> names) {
    List<String> out = new ArrayList<>(names);
    if (out.remove(POOLED)) {
      out.add(POOLED);
    }
    return out;
  }

  private void rocSection(SparkSession spark, Html html, RunTables tables, KnowableConfig config, List<Row> cross,
      String band, String labelKind, KnowableConfig.Report r) {
    html.section("roc", "ROC curves: probe vs BET vs the strongest control");
    String kind = bestLayer(cross, "mlp", band, labelKind) != null ? "mlp" : "linear";
    Integer layer = bestLayer(cross, kind, band, labelKind);
    if (layer == null || !tables.isCommitted("probe_models")) {
      html.p("No hidden-state probe in this run: no ROC curves.");
      return;
    }
    // The strongest control: the combined control when the run fitted one (as probe_comparisons
    // uses it), else the single context control with the highest pooled test AUC.
    String context = null;
    double contextAuc = -1;
    for (Row x : cross) {
      String k = x.getAs("probe_kind");
      if (pooledRow(x, band, labelKind) && k.startsWith(ProbeTables.COMBINED_PREFIX)) {
        context = k;
        break;
      }
      if (pooledRow(x, band, labelKind) && k.startsWith("context_k") && x.<Double>getAs("auc_mean") > contextAuc) {
        context = k;
        contextAuc = x.getAs("auc_mean");
      }
    }
    if (context != null && !context.startsWith(ProbeTables.COMBINED_PREFIX)) {
      for (Row x : cross) {
        if (pooledRow(x, band, labelKind) && x.<String>getAs("probe_kind").startsWith(ProbeTables.COMBINED_PREFIX)) {
          context = x.getAs("probe_kind");
          break;
        }
      }
    }
    String balance = cross.get(0).getAs("balance");
    Dataset<Row> examples = tables.read("probe_examples", "label").filter(col("split").equalTo("test")
        .and(col("band").equalTo(band)).and(col("label_kind").equalTo(labelKind))
        .and(col("balance").equalTo(balance)));
    Dataset<Row> models = spark.read().parquet(tables.tablePath("probe_models").toString())
        .filter(col("band").equalTo(band).and(col("label_kind").equalTo(labelKind))
            .and(col("train_domain").equalTo(POOLED)).and(col("balance").equalTo(balance)));
    Row probe = lowestSeed(models.filter(col("probe_kind").equalTo(kind).and(col("layer").equalTo(layer))));
    List<Column> scores = new ArrayList<>();
    List<String> names = new ArrayList<>();
    UserDefinedFunction p0 = StoredProbes.epistemicProbability(probe, kind);
    scores.add(lit(1.0).minus(p0.apply(col("hidden_l" + layer))));
    names.add(kind + " probe (layer " + layer + ", seed " + probe.getAs("seed") + ")");
    scores.add(col("small_entropy").cast(DataTypes.DoubleType));
    names.add("BET (H_S)");
    if (context != null && context.startsWith(ProbeTables.COMBINED_PREFIX)) {
      Row ctx = lowestSeed(models.filter(col("probe_kind").equalTo(context)));
      int k = Integer.parseInt(context.substring(ProbeTables.COMBINED_PREFIX.length()));
      examples = TokensTable.withContextIds(examples, tables);
      scores.add(StoredProbes.combinedScore(ctx, k));
      names.add("combined control: " + context + " (last " + k + " ids, H_S, H_S^2, ln(1 + position))");
    } else if (context != null) {
      Row ctx = lowestSeed(models.filter(col("probe_kind").equalTo(context)));
      int k = Integer.parseInt(context.substring("context_k".length()));
      if (k > 2) {
        examples = TokensTable.withContextIds(examples, tables);
      }
      scores.add(StoredProbes.contextScore(ctx, k));
      names.add("strongest context control: " + context);
    }
    int bins = r.rocThresholds();
    Map<String, List<Charts.Curve>> byDomain = rocCurves(examples, scores, names, bins);
    Map<String, Double> exact = new LinkedHashMap<>();
    html.p("Test split, band " + esc(band) + ", probes trained on all domains pooled. Each curve sweeps "
        + bins + " equal-width score bins (counts computed in Spark); the legend gives the exact test AUC of the "
        + "probe configuration from probe_metrics (mean over seeds). BET and the strongest control (the combined "
        + "control where the run fitted one) are the baselines: a probe that reads knowledge from the hidden "
        + "state should lie above both.");
    for (Row x : cross) {
      if (x.getAs("band").equals(band) && x.getAs("label_kind").equals(labelKind)
          && POOLED.equals(x.getAs("train_domain"))) {
        exact.put(x.getAs("probe_kind") + "/" + x.getAs("layer") + "/" + x.getAs("eval_domain"), x.getAs("auc_mean"));
      }
    }
    List<String> keys = List.of(kind + "/" + layer, "bet/null", context + "/null");
    boolean first = true;
    for (Map.Entry<String, List<Charts.Curve>> d : byDomain.entrySet()) {
      List<Charts.Curve> named = new ArrayList<>();
      for (int i = 0; i < d.getValue().size(); i++) {
        Double auc = exact.get(keys.get(i) + "/" + d.getKey());
        Charts.Curve c = d.getValue().get(i);
        named.add(new Charts.Curve(c.name() + (auc == null ? "" : String.format(Locale.ROOT, ", AUC %.3f", auc)),
            c.x(), c.y()));
      }
      boolean pooled = d.getKey().equals(POOLED);
      String id = "roc-" + d.getKey();
      if (first && !pooled) {
        html.h3("Per evaluation domain");
      }
      html.chart(id, Charts.pngLater(Charts.roc(pooled ? "ROC, all test domains pooled" : "ROC, test domain " + d.getKey(),
          named, pooled ? 760 : 560, pooled ? 560 : 420)), "ROC curves " + d.getKey(), pooled ? null : "small");
      if (pooled) {
        html.h3("Per evaluation domain");
      }
      first = false;
    }
  }

  /**
   * Join column names as the array that Dataset.join takes (the array overloads exist in
   * Spark 3.5 and 4; the Scala Seq ones differ between Scala 2.12 and 2.13).
   */
  private static String[] using(List<String> names) {
    return names.toArray(new String[0]);
  }

  private static Row lowestSeed(Dataset<Row> models) {
    List<Row> rows = models.orderBy("seed").limit(1).collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalStateException("report: probe_models has no matching probe");
    }
    return rows.get(0);
  }

  /**
   * ROC points per evaluation domain (and all pooled) for each score column: scores binned into
   * {@code bins} equal-width bins between the score's min and max, counted per label in Spark;
   * the driver cumulates at most bins x 2 counts per curve and domain.
   */
  static Map<String, List<Charts.Curve>> rocCurves(Dataset<Row> examples, List<Column> scores, List<String> names,
      int bins) {
    Dataset<Row> scored = null;
    for (int i = 0; i < scores.size(); i++) {
      Dataset<Row> one = examples.select(lit(i).as("curve"), col("domain"), col("label"),
          scores.get(i).as("score"));
      scored = scored == null ? one : scored.unionByName(one);
    }
    scored = scored.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    try {
      Map<Integer, double[]> range = new TreeMap<>();
      for (Row x : scored.groupBy("curve").agg(min("score"), max("score")).collectAsList()) {
        range.put(x.getInt(0), new double[] {x.getDouble(1), x.getDouble(2)});
      }
      Column lo = lit(0.0);
      Column width = lit(1.0);
      for (Map.Entry<Integer, double[]> e : range.entrySet()) {
        Column is = col("curve").equalTo(e.getKey());
        double w = Math.max(e.getValue()[1] - e.getValue()[0], 1e-12);
        lo = org.apache.spark.sql.functions.when(is, e.getValue()[0]).otherwise(lo);
        width = org.apache.spark.sql.functions.when(is, w).otherwise(width);
      }
      Column bin = least(greatest(floor(col("score").minus(lo).divide(width).multiply(bins)), lit(0L)),
          lit((long) bins - 1));
      Dataset<Row> counted = scored.withColumn("bin", bin)
          .withColumn("domains", org.apache.spark.sql.functions.array(col("domain"), lit(POOLED)))
          .withColumn("d", org.apache.spark.sql.functions.explode(col("domains")))
          .groupBy("curve", "d", "bin", "label").agg(count(lit(1)).as("n"));
      // curve -> domain -> bin -> {n0, n1}
      Map<String, Map<Integer, long[][]>> counts = new TreeMap<>();
      for (Row x : counted.collectAsList()) { // at most curves x (domains + 1) x bins x 2 rows
        long[][] perBin = counts.computeIfAbsent(x.getString(1), k -> new TreeMap<>())
            .computeIfAbsent(x.getInt(0), k -> new long[bins][2]);
        perBin[(int) x.getLong(2)][x.getInt(3)] += x.getLong(4);
      }
      Map<String, List<Charts.Curve>> out = new LinkedHashMap<>();
      List<String> domains = new ArrayList<>(counts.keySet());
      if (domains.remove(POOLED)) {
        domains.add(0, POOLED);
      }
      for (String d : domains) {
        List<Charts.Curve> curves = new ArrayList<>();
        for (int i = 0; i < scores.size(); i++) {
          long[][] perBin = counts.get(d).getOrDefault(i, new long[bins][2]);
          curves.add(rocPoints(names.get(i), perBin));
        }
        out.put(d, curves);
      }
      return out;
    } finally {
      scored.unpersist();
    }
  }

  /** ROC points from per-bin class counts, thresholds from the highest bin down (class 1 positive). */
  static Charts.Curve rocPoints(String name, long[][] perBin) {
    long n0 = 0;
    long n1 = 0;
    for (long[] b : perBin) {
      n0 += b[0];
      n1 += b[1];
    }
    double[] fpr = new double[perBin.length + 1];
    double[] tpr = new double[perBin.length + 1];
    long c0 = 0;
    long c1 = 0;
    for (int i = perBin.length - 1, p = 1; i >= 0; i--, p++) {
      c0 += perBin[i][0];
      c1 += perBin[i][1];
      fpr[p] = n0 == 0 ? 0 : (double) c0 / n0;
      tpr[p] = n1 == 0 ? 0 : (double) c1 / n1;
    }
    return new Charts.Curve(name, fpr, tpr);
  }

  private static void layerSection(Html html, List<Row> cross, String band, String labelKind) {
    html.section("layers", "AUC by layer");
    TreeSet<Integer> layers = new TreeSet<>();
    Map<String, Map<Integer, double[]>> byKind = new TreeMap<>();
    Double bet = null;
    Double betFt = null;
    for (Row x : cross) {
      if (!pooledRow(x, band, labelKind)) {
        continue;
      }
      Integer layer = x.getAs("layer");
      if (layer != null) {
        layers.add(layer);
        byKind.computeIfAbsent(x.getAs("probe_kind"), k -> new TreeMap<>()).put(layer,
            new double[] {x.<Double>getAs("auc_mean"), std(x)});
      } else if ("bet".equals(x.getAs("probe_kind"))) {
        bet = x.getAs("auc_mean");
      } else if ("bet_ft".equals(x.getAs("probe_kind"))) {
        betFt = x.getAs("auc_mean");
      }
    }
    if (layers.isEmpty()) {
      html.p("No hidden-state probes in this run.");
      return;
    }
    List<String> cats = layers.stream().map(l -> "layer " + l).toList();
    Map<String, double[]> series = new LinkedHashMap<>();
    Map<String, double[]> errors = new LinkedHashMap<>();
    for (Map.Entry<String, Map<Integer, double[]>> e : byKind.entrySet()) {
      double[] y = new double[layers.size()];
      double[] err = new double[layers.size()];
      int i = 0;
      for (int l : layers) {
        double[] v = e.getValue().getOrDefault(l, new double[] {Double.NaN, Double.NaN});
        y[i] = v[0];
        err[i++] = v[1];
      }
      series.put(e.getKey(), y);
      errors.put(e.getKey(), err);
    }
    if (bet != null) {
      double[] y = new double[layers.size()];
      java.util.Arrays.fill(y, bet);
      series.put("bet (no layer)", y);
    }
    if (betFt != null) {
      double[] y = new double[layers.size()];
      java.util.Arrays.fill(y, betFt);
      series.put("bet_ft (final layer)", y);
    }
    html.p("Pooled test AUC per hidden-state layer, band " + esc(band) + "; error bars: standard deviation over seeds. "
        + "BET does not read a layer, BET-FT reads only the final one: their bars repeat for reference.");
    html.chart("auc-by-layer", Charts.pngLater(Charts.bars("AUC by layer, band " + band, "layer", cats, series, errors,
        0.4)), "AUC by layer");
  }

  private static double std(Row x) {
    Double s = x.getAs("auc_std");
    return s == null ? 0.0 : s;
  }

  private static void bandSection(Html html, List<Row> cross, String labelKind) {
    html.section("bands", "AUC by band");
    TreeSet<String> bands = new TreeSet<>();
    Map<String, Map<String, double[]>> byProbe = new TreeMap<>();
    for (Row x : cross) {
      if (!x.getAs("label_kind").equals(labelKind) || !POOLED.equals(x.getAs("train_domain"))
          || !POOLED.equals(x.getAs("eval_domain"))) {
        continue;
      }
      String b = x.getAs("band");
      bands.add(b);
      Integer layer = x.getAs("layer");
      String probe = layer == null ? x.getAs("probe_kind") : x.getAs("probe_kind") + " L" + layer;
      byProbe.computeIfAbsent(probe, k -> new TreeMap<>()).put(b, new double[] {x.<Double>getAs("auc_mean"), std(x)});
    }
    List<String> cats = new ArrayList<>(bands);
    Map<String, double[]> series = new LinkedHashMap<>();
    Map<String, double[]> errors = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, double[]>> e : byProbe.entrySet()) {
      double[] y = new double[cats.size()];
      double[] err = new double[cats.size()];
      for (int i = 0; i < cats.size(); i++) {
        double[] v = e.getValue().getOrDefault(cats.get(i), new double[] {Double.NaN, 0});
        y[i] = v[0];
        err[i] = v[1];
      }
      series.put(e.getKey(), y);
      errors.put(e.getKey(), err);
    }
    html.p("Pooled test AUC per entropy band (H_S range, nats) for every probe kind (hidden-state probes per layer "
        + "L); error bars: standard deviation over seeds.");
    html.chart("auc-by-band", Charts.pngLater(Charts.bars("AUC by band", "band of H_S (nats)", cats, series, errors, 0.3)),
        "AUC by band");
  }

  private static void densitySection(SparkSession spark, Html html, RunTables tables, KnowableConfig config,
      KnowableConfig.Report r) {
    html.section("density", "H_S vs H_L");
    if (!tables.isCommitted("small_scores") || !tables.isCommitted("large_scores")) {
      html.p("small_scores or large_scores is missing: no density.");
      return;
    }
    int bins = r.densityBins();
    Dataset<Row> pairs = tables.read("small_scores", "score-small").select("doc_id", "position", "entropy")
        .withColumnRenamed("entropy", "hs")
        .join(tables.read("large_scores", "score-large").select("doc_id", "position", "entropy")
            .withColumnRenamed("entropy", "hl"), using(List.of("doc_id", "position")))
        .filter(col("hs").isNotNull().and(col("hl").isNotNull())
            .and(org.apache.spark.sql.functions.not(org.apache.spark.sql.functions.isnan(col("hs"))))
            .and(org.apache.spark.sql.functions.not(org.apache.spark.sql.functions.isnan(col("hl")))));
    Row top = pairs.agg(max(greatest(col("hs"), col("hl"))), count(lit(1))).first();
    if (top.isNullAt(0)) {
      html.p("No scored positions.");
      return;
    }
    double maxH = Math.ceil(top.getFloat(0) * 10) / 10.0;
    double w = maxH / bins;
    List<Row> cells = pairs.groupBy(least(floor(col("hs").divide(w)), lit((long) bins - 1)).as("bx"),
            least(floor(col("hl").divide(w)), lit((long) bins - 1)).as("by"))
        .agg(count(lit(1)).as("n")).collectAsList(); // at most bins^2 cells
    double[] x = new double[cells.size()];
    double[] y = new double[cells.size()];
    long[] n = new long[cells.size()];
    for (int i = 0; i < cells.size(); i++) {
      x[i] = (cells.get(i).getLong(0) + 0.5) * w;
      y[i] = (cells.get(i).getLong(1) + 0.5) * w;
      n[i] = cells.get(i).getLong(2);
    }
    double class0 = config.label().labeler().epistemicMaxLargeEntropy();
    double gap = config.label().labeler().aleatoricMaxGap();
    Band.Spec first = config.label().bands().get(0);
    // A quantile band is drawn at the nats its label stage resolved it to, when known.
    Band resolved = first.unit() == Band.Unit.NATS || !tables.isCommitted(ProbeExamplesTable.TABLE) ? null
        : ProbeExamplesTable.resolvedBand(tables, config.runId(), first);
    double bandMin = resolved == null ? first.lower() : resolved.minNats();
    html.p(String.format(Locale.ROOT, "Every scored position of the run (%,d), binned into %d x %d cells of %.2f nats "
        + "(a 2-D histogram computed in Spark; darker = more positions, log scale). The gap labels: class 0 "
        + "(epistemic) below the red line, H_L &lt; %s; class 1 (aleatoric) between the orange lines, "
        + "|H_L - H_S| &le; %s; positions elsewhere are not labelled. Probes are trained in bands of H_S (grey line: "
        + "the lower edge of the first band).", top.getLong(1), bins, bins, w, class0, gap));
    html.chart("density", Charts.pngLater(Charts.density("H_S vs H_L, all scored positions", x, y, n, maxH, bandMin, class0,
        gap)), "H_S vs H_L density with the gap-label regions");
  }

  private static void icltSection(SparkSession spark, Html html, RunTables tables) {
    html.section("iclt", "ICLT score distributions by class");
    if (!tables.isCommitted("iclt_scores")) {
      html.p("This run has no iclt_scores (the iclt stage did not run).");
      return;
    }
    Dataset<Row> scores = tables.read("iclt_scores", "iclt").filter(col("split").equalTo("test"));
    List<String> separators = scores.select("separator").distinct().orderBy("separator").as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList();
    html.p("The unsupervised in-context learning test on the labelled test positions it scored: the share of each "
        + "class's positions per score bin (20 equal-width bins from the 1st to the 99th percentile, the ends clipped "
        + "into the outer bins; class 0 epistemic, class 1 aleatoric). A score that "
        + "separates the classes puts them in different bins; see iclt_metrics for the AUCs.");
    if (tables.isCommitted("iclt_metrics")) {
      List<Row> m = tables.read("iclt_metrics", "iclt").filter(col("train_domain").equalTo(POOLED)
          .and(col("eval_domain").equalTo(POOLED)).and(col("eval_split").equalTo("test")))
          .orderBy("band", "balance", "probe_kind").select(org.apache.spark.sql.functions.concat(col("band"),
              lit(" "), col("balance")), col("probe_kind"), col("auc"), col("auc_ci_low"), col("auc_ci_high"),
              col("n_class0"), col("n_class1")).collectAsList();
      html.icltTable(m);
    }
    for (String score : List.of("mi", "mi_ratio", "min_entropy", "hint_repeat")) {
      List<Charts.Curve> curves = new ArrayList<>();
      // Bins between the 1st and 99th percentile (ends clipped into the outer bins): a few outliers
      // would otherwise squeeze almost every position into one bin.
      Dataset<Row> finite = scores.filter(col(score).isNotNull()
          .and(org.apache.spark.sql.functions.not(org.apache.spark.sql.functions.isnan(col(score)))));
      double[] q = finite.stat().approxQuantile(score, new double[] {0.01, 0.99}, 0.001);
      if (q.length < 2) {
        continue;
      }
      double lo = q[0];
      double w = Math.max(q[1] - lo, 1e-12) / 20;
      List<Row> hist = finite.groupBy(col("separator"), col("label"),
              least(greatest(floor(col(score).minus(lo).divide(w)), lit(0L)), lit(19L)).as("bin"))
          .agg(count(lit(1)).as("n")).collectAsList();
      for (String sep : separators) {
        for (int label = 0; label <= 1; label++) {
          double[] y = new double[20];
          double total = 0;
          for (Row h : hist) {
            if (h.getString(0).equals(sep) && h.getInt(1) == label) {
              y[(int) h.getLong(2)] += h.getLong(3);
              total += h.getLong(3);
            }
          }
          double[] x = new double[20];
          for (int i = 0; i < 20; i++) {
            x[i] = lo + (i + 0.5) * w;
            y[i] = total == 0 ? 0 : y[i] / total;
          }
          curves.add(new Charts.Curve("class " + label + (label == 0 ? " (epistemic)" : " (aleatoric)") + ", " + sep,
              x, y));
        }
      }
      html.chart("iclt-" + score, Charts.pngLater(Charts.distributions("ICLT " + score + " by class (test)", score, curves)),
          "ICLT " + score + " distribution by class", "small");
    }
  }

  private static void tokenSection(SparkSession spark, Html html, RunTables tables, KnowableConfig config,
      List<Row> cross, String band, String labelKind, KnowableConfig.Report r) {
    html.section("tokens", "Token view: where the small model's uncertainty is epistemic");
    String kind = bestLayer(cross, "mlp", band, labelKind) != null ? "mlp" : "linear";
    Integer layer = bestLayer(cross, kind, band, labelKind);
    if (layer == null || !tables.isCommitted("small_scores") || !tables.isCommitted("documents")) {
      html.p("No hidden-state probe or no small_scores: no token view.");
      return;
    }
    int passages = r.passages();
    int maxTokens = r.passageTokens();
    Dataset<Row> models = spark.read().parquet(tables.tablePath("probe_models").toString())
        .filter(col("band").equalTo(band).and(col("label_kind").equalTo(labelKind))
            .and(col("train_domain").equalTo(POOLED)).and(col("probe_kind").equalTo(kind))
            .and(col("layer").equalTo(layer)).and(col("balance").equalTo(cross.get(0).<String>getAs("balance"))));
    Row probe = lowestSeed(models);
    // The first test document of each domain (by doc_id), up to `passages`.
    List<Row> docs = tables.read("documents", "ingest").filter(col("split").equalTo("test"))
        .groupBy("domain").agg(min("doc_id").as("doc_id")).orderBy("domain").limit(passages).collectAsList();
    // A quantile band is shaded in the nats range this run's label stage resolved it to.
    Band b = ProbeExamplesTable.resolvedBand(tables, config.runId(), Band.Spec.parse(band));
    if (b == null) {
      throw new IllegalStateException("report: the probe_examples manifest of run " + config.runId()
          + " records no nats bounds for band " + band);
    }
    html.p(String.format(Locale.ROOT, "The first %d tokens of held-out test passages. Each token is shaded by the "
        + "%s probe's (layer %d, trained on all domains, band %s, seed %s) probability that the small model's "
        + "uncertainty at that position is <b>epistemic</b> (class 0: a larger model would be confident): red = "
        + "likely epistemic, white = likely aleatoric. Each token carries the values of the prediction that produced it "
        + "(the model had read every token before it). The probe was trained only on positions with H_S in %s: "
        + "other tokens are not shaded (dotted grey underline). Under each token two strips show H_S and H_L. "
        + "Hover a token for the exact values.", maxTokens, kind, layer, band, probe.getAs("seed"), band));
    html.tokenKey();
    if (docs.isEmpty()) {
      html.p("The run has no test documents.");
      return;
    }
    UserDefinedFunction p0 = StoredProbes.epistemicProbability(probe, kind,
        HiddenStates.dtype(tables));
    List<String> ids = docs.stream().map(d -> d.<String>getAs("doc_id")).toList();
    Object[] domains = docs.stream().map(d -> d.<String>getAs("domain")).distinct().toArray();
    // The domain filter prunes partitions; the doc_id filter is pushed down to the Parquet reader.
    Dataset<Row> small = tables.read("small_scores", "score-small").filter(col("domain").isin(domains))
        .filter(col("doc_id").isin(ids.toArray())
        .and(col("position").lt(maxTokens)));
    Dataset<Row> rows = small.select(col("doc_id"), col("position"), col("token_id"), col("entropy").as("hs"),
        p0.apply(col("hidden_l" + layer)).as("p"));
    if (tables.isCommitted("large_scores")) {
      rows = rows.join(tables.read("large_scores", "score-large").filter(col("domain").isin(domains))
          .filter(col("doc_id").isin(ids.toArray())
          .and(col("position").lt(maxTokens))).select(col("doc_id"), col("position"), col("entropy").as("hl")),
          using(List.of("doc_id", "position")), "left");
    } else {
      rows = rows.withColumn("hl", lit(null).cast(DataTypes.FloatType));
    }
    // A few passages of at most passage-tokens positions each: bounded, fine on the driver.
    List<Row> collected = rows.orderBy("doc_id", "position").collectAsList();
    Map<String, String> texts = new TreeMap<>();
    for (Row t : tables.read("documents", "ingest").filter(col("doc_id").isin(ids.toArray()))
        .select("doc_id", "text").collectAsList()) {
      texts.put(t.getString(0), t.getString(1));
    }
    java.nio.file.Path tokenizerFile = Paths.get(config.small().path()).resolve("tokenizer.json");
    HuggingFaceTokenizer tokenizer = null;
    try {
      if (Files.isRegularFile(tokenizerFile)) {
        tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerFile).optAddSpecialTokens(false)
            .optTruncation(false).optPadding(false).build();
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("report: cannot load {} ({}); the token view shows token ids", tokenizerFile, e.getMessage());
    }
    try {
      for (Row d : docs) {
        String id = d.getAs("doc_id");
        List<Row> positions = collected.stream().filter(x -> x.getString(0).equals(id)).toList();
        String text = texts.get(id);
        String[] pieces = null;
        if (tokenizer != null && text != null) {
          Encoding enc = tokenizer.encode(text, false, false);
          CharSpan[] spans = enc.getCharTokenSpans();
          long[] encIds = enc.getIds();
          pieces = new String[encIds.length];
          for (int i = 0; i < encIds.length; i++) {
            pieces[i] = spans[i] == null ? null : text.substring(spans[i].getStart(), spans[i].getEnd());
          }
        }
        // Row i holds the small model's uncertainty about token i+1 after reading tokens 0..i: drawn on token i+1.
        html.passage(id, d.getAs("domain"), positions, pieces, b.minNats(), b.maxNats());
      }
    } finally {
      if (tokenizer != null) {
        tokenizer.close();
      }
    }
  }

  private static void configSection(Html html, RunTables tables) {
    html.section("config", "Run, config and fingerprints");
    Map<String, Object> manifest = tables.readManifest("probe_metrics");
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("run id", String.valueOf(manifest.get("run_id")));
    facts.put("model pair", String.valueOf(manifest.get("model_pair")));
    for (String t : List.of("tokens", "small_scores", "large_scores", "probe_examples", "probe_metrics",
        "iclt_metrics")) {
      if (tables.isCommitted(t)) {
        Map<String, Object> m = tables.readManifest(t);
        facts.put(t + " config fingerprint", String.valueOf(m.get("config_fingerprint")));
        if (m.containsKey("tokenizer_sha256")) {
          facts.put(t + " tokenizer sha256", String.valueOf(m.get("tokenizer_sha256")));
        }
        if (m.containsKey("model_path")) {
          facts.put(t + " model", m.get("model") + " at " + m.get("model_path"));
        }
        facts.put(t + " rows / committed", m.get("rows") + " / " + m.get("committed_at"));
      }
    }
    facts.put("versions (probe_metrics)", String.valueOf(manifest.get("versions")));
    html.facts(facts);
    try {
      html.pre(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(manifest.get("config")));
    } catch (IOException e) {
      html.p("config not readable: " + esc(e.getMessage()));
    }
  }

  static String esc(String s) {
    return Html.esc(s);
  }
}
