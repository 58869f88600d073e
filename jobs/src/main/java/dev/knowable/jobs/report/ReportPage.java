package dev.knowable.jobs.report;

import static dev.knowable.jobs.report.Html.esc;
import static dev.knowable.jobs.report.ReportData.POOLED;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.knowable.jobs.report.ReportData.Density;
import dev.knowable.jobs.report.ReportData.Difference;
import dev.knowable.jobs.report.ReportData.Headline;
import dev.knowable.jobs.report.ReportData.Iclt;
import dev.knowable.jobs.report.ReportData.IcltHistogram;
import dev.knowable.jobs.report.ReportData.Passage;
import dev.knowable.jobs.report.ReportData.ProbeAuc;
import dev.knowable.jobs.report.ReportData.RocCounts;
import dev.knowable.jobs.report.ReportData.RunFacts;
import dev.knowable.jobs.report.ReportData.SweepRow;
import dev.knowable.jobs.report.ReportData.TokenView;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The report page drawn from {@link ReportData} values: HTML through {@link Html}, charts
 * through {@link Charts}. No Spark here, so every section can be rendered from hand-made values.
 */
final class ReportPage {
  /** The sections in page order (the nav bar). */
  static final List<String> SECTIONS =
      List.of("headline", "cross-domain", "roc", "layers", "bands", "density", "sweep", "iclt", "tokens", "config");
  /** The ICLT scores drawn, in page order. */
  static final List<String> ICLT_SCORES = List.of("mi", "mi_ratio", "min_entropy", "hint_repeat");

  private ReportPage() {}

  /**
   * Everything the page shows. {@code cross}: every probe configuration of the run (all
   * balancings; the sections below the headline show {@code balances.get(0)} alone); {@code
   * differences} as {@link ReportData#differences} chose them; a null section value draws that
   * section's "missing" note; {@code sweep}: the threshold-sweep rows (empty: none); {@code pieces} splits a passage's text into token texts (null:
   * the token view shows ids).
   */
  record Contents(String runId, List<String> balances, String band, String labelKind, List<ProbeAuc> cross,
      List<Difference> differences, Map<String, Object> probeModels, RocCounts roc, Density density,
      double class0MaxLarge, double class1MaxGap, List<SweepRow> sweep, Iclt iclt, TokenView tokens, int passageTokens,
      Function<String, String[]> pieces, RunFacts facts) {}

  /** The whole page. */
  static String render(Contents c) {
    String lead = c.balances().get(0);
    List<ProbeAuc> cross = c.cross().stream().filter(x -> lead.equals(x.balance())).toList();
    Html html = new Html("knowable report: run " + c.runId());
    html.nav(SECTIONS);
    headline(html, c);
    crossDomain(html, cross, c.band(), c.labelKind());
    roc(html, c.roc(), cross, c.band(), c.labelKind());
    layers(html, cross, c.band(), c.labelKind());
    bands(html, cross, c.labelKind());
    density(html, c.density(), c.class0MaxLarge(), c.class1MaxGap());
    sweep(html, ReportData.sweepOrder(c.sweep(), c.balances()));
    iclt(html, c.iclt());
    tokens(html, c.tokens(), c.band(), c.passageTokens(), c.pieces());
    config(html, c.facts());
    return html.finish();
  }

  // ---- headline -------------------------------------------------------------------------

  static void headline(Html html, Contents c) {
    List<String> balances = c.balances();
    String lead = balances.get(0);
    html.section("headline", "Headline: pooled test AUC");
    html.p("Probes trained on every domain pooled (train domain <b>all</b>) and evaluated on the pooled test split "
        + "(<b>all</b>), band <b>" + esc(c.band()) + "</b>, label kind <b>" + esc(c.labelKind()) + "</b>. AUC: mean "
        + "over seeds; interval: mean over seeds of each seed's 95% bootstrap interval. Class 1 (aleatoric) is the "
        + "positive class; 0.5 is chance. Linear, BET, context and combined controls are deterministic (one "
        + "seed); MLPs are trained with every seed. Balancing <b>" + esc(lead) + "</b> leads "
        + (balances.size() > 1 ? "(the others follow it: " + esc(String.join(", ", balances.subList(1,
            balances.size()))) + ")" : "") + ": entropy_matched equalises the classes within each (token, H_S bin) "
        + "cell, so BET and the current-token control sit near 0.5 and what a probe finds is not H_S or the "
        + "token; token is the paper's token-identity balancing. combined_k&lt;k&gt; is the strongest control: one "
        + "logistic regression on the last k token ids with H_S, H_S&sup2; and ln(1 + position). bet_ft is the "
        + "paper's second baseline: the entropy of the small model's LM head fine-tuned toward the large model's "
        + "top-k distribution on the train split, thresholded like BET (docs/METHOD.md 6.5)."
        + mlpNote(c.probeModels()) + betFtNote(c.probeModels()));
    html.headlineTable(ReportData.headline(c.cross(), c.band(), c.labelKind(), balances));
    html.p("Paired differences (probe_comparisons): the probe's AUC minus the baseline's on exactly the same test "
        + "positions, with a 95% interval that resamples documents. The probe beats the baseline when the lower "
        + "bound is above 0.");
    html.differenceTable(c.differences());
  }

  /** How BET-FT's fits ended (probe_models manifest), as a sentence; empty when it did not run. */
  static String betFtNote(Map<String, Object> m) {
    if (m.get("bet_ft_fits") == null) {
      return "";
    }
    return " BET-FT: " + m.get("bet_ft_stopped_at_cap") + " of " + m.get("bet_ft_fits") + " fits reached max-epochs = "
        + m.get("bet_ft_max_epochs") + " (patience " + m.get("bet_ft_patience") + ", min-delta "
        + m.get("bet_ft_min_delta") + "), " + m.get("bet_ft_kept_own_head") + " kept the model's own head.";
  }

  /** How many MLP fits reached max-epochs (probe_models manifest), as a sentence; empty when unknown. */
  static String mlpNote(Map<String, Object> m) {
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

  /** The headline and the paired differences as plain text for the console. */
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

  // ---- sections on the lead balancing's probe AUCs --------------------------------------

  static void crossDomain(Html html, List<ProbeAuc> cross, String band, String labelKind) {
    html.section("cross-domain", "Cross-domain generalisation");
    html.p("Test AUC (mean over seeds) of probes trained on one domain (rows) and evaluated unchanged on each "
        + "domain (columns); <b>all</b> = every domain pooled. Band " + esc(band) + ", the probe's best layer.");
    for (String kind : List.of("mlp", "linear")) {
      Integer layer = ReportData.bestLayer(cross, kind, band, labelKind);
      if (layer == null) {
        continue;
      }
      TreeSet<String> train = new TreeSet<>();
      TreeSet<String> eval = new TreeSet<>();
      Map<String, Double> cell = new TreeMap<>();
      for (ProbeAuc x : cross) {
        if (x.band().equals(band) && x.labelKind().equals(labelKind) && kind.equals(x.probeKind())
            && layer.equals(x.layer())) {
          train.add(x.trainDomain());
          eval.add(x.evalDomain());
          cell.put(x.trainDomain() + "\u0000" + x.evalDomain(), x.auc());
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
      html.chart("heatmap-" + kind, Charts.pngLater(Charts.heatmap(kind + " probe, layer " + layer
          + ": test AUC, train x eval domain", tr, ev, m)), kind + " probe cross-domain AUC heatmap");
    }
  }

  private static List<String> pooledLast(TreeSet<String> names) {
    List<String> out = new ArrayList<>(names);
    if (out.remove(POOLED)) {
      out.add(POOLED);
    }
    return out;
  }

  /** ROC curves per evaluation domain from {@code roc}'s class counts; the legend names the exact AUCs of {@code cross}. */
  static void roc(Html html, RocCounts roc, List<ProbeAuc> cross, String band, String labelKind) {
    html.section("roc", "ROC curves: probe vs BET vs the strongest control");
    if (roc == null) {
      html.p("No hidden-state probe in this run: no ROC curves.");
      return;
    }
    String kind = roc.kind();
    String control = roc.control();
    List<String> names = new ArrayList<>();
    names.add(kind + " probe (layer " + roc.layer() + ", seed " + roc.seed() + ")");
    names.add("BET (H_S)");
    if (control != null && control.startsWith("combined_k")) {
      int k = Integer.parseInt(control.substring("combined_k".length()));
      names.add("combined control: " + control + " (last " + k + " ids, H_S, H_S^2, ln(1 + position))");
    } else if (control != null) {
      names.add("strongest context control: " + control);
    }
    html.p("Test split, band " + esc(band) + ", probes trained on all domains pooled. Each curve sweeps "
        + roc.bins() + " equal-width score bins (counts computed in Spark); the legend gives the exact test AUC of "
        + "the probe configuration from probe_metrics (mean over seeds). BET and the strongest control (the combined "
        + "control where the run fitted one) are the baselines: a probe that reads knowledge from the hidden "
        + "state should lie above both.");
    Map<String, Double> exact = new LinkedHashMap<>();
    for (ProbeAuc x : cross) {
      if (x.band().equals(band) && x.labelKind().equals(labelKind) && POOLED.equals(x.trainDomain())) {
        exact.put(x.probeKind() + "/" + x.layer() + "/" + x.evalDomain(), x.auc());
      }
    }
    List<String> keys = List.of(kind + "/" + roc.layer(), "bet/null", control + "/null");
    boolean first = true;
    for (Map.Entry<String, List<long[][]>> d : roc.byDomain().entrySet()) {
      List<Charts.Curve> named = new ArrayList<>();
      for (int i = 0; i < d.getValue().size(); i++) {
        Double auc = exact.get(keys.get(i) + "/" + d.getKey());
        named.add(rocPoints(names.get(i) + (auc == null ? "" : String.format(Locale.ROOT, ", AUC %.3f", auc)),
            d.getValue().get(i)));
      }
      boolean pooled = d.getKey().equals(POOLED);
      if (first && !pooled) {
        html.h3("Per evaluation domain");
      }
      html.chart("roc-" + d.getKey(), Charts.pngLater(Charts.roc(pooled ? "ROC, all test domains pooled"
          : "ROC, test domain " + d.getKey(), named, pooled ? 760 : 560, pooled ? 560 : 420)),
          "ROC curves " + d.getKey(), pooled ? null : "small");
      if (pooled) {
        html.h3("Per evaluation domain");
      }
      first = false;
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

  static void layers(Html html, List<ProbeAuc> cross, String band, String labelKind) {
    html.section("layers", "AUC by layer");
    TreeSet<Integer> layers = new TreeSet<>();
    Map<String, Map<Integer, double[]>> byKind = new TreeMap<>();
    Double bet = null;
    Double betFt = null;
    for (ProbeAuc x : cross) {
      if (!x.pooled(band, labelKind)) {
        continue;
      }
      Integer layer = x.layer();
      if (layer != null) {
        layers.add(layer);
        byKind.computeIfAbsent(x.probeKind(), k -> new TreeMap<>()).put(layer, new double[] {x.auc(), x.std()});
      } else if ("bet".equals(x.probeKind())) {
        bet = x.auc();
      } else if ("bet_ft".equals(x.probeKind())) {
        betFt = x.auc();
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
      Arrays.fill(y, bet);
      series.put("bet (no layer)", y);
    }
    if (betFt != null) {
      double[] y = new double[layers.size()];
      Arrays.fill(y, betFt);
      series.put("bet_ft (final layer)", y);
    }
    html.p("Pooled test AUC per hidden-state layer, band " + esc(band) + "; error bars: standard deviation over seeds. "
        + "BET does not read a layer, BET-FT reads only the final one: their bars repeat for reference.");
    html.chart("auc-by-layer", Charts.pngLater(Charts.bars("AUC by layer, band " + band, "layer", cats, series, errors,
        0.4)), "AUC by layer");
  }

  static void bands(Html html, List<ProbeAuc> cross, String labelKind) {
    html.section("bands", "AUC by band");
    TreeSet<String> bands = new TreeSet<>();
    Map<String, Map<String, double[]>> byProbe = new TreeMap<>();
    for (ProbeAuc x : cross) {
      if (!x.labelKind().equals(labelKind) || !POOLED.equals(x.trainDomain()) || !POOLED.equals(x.evalDomain())) {
        continue;
      }
      bands.add(x.band());
      String probe = x.layer() == null ? x.probeKind() : x.probeKind() + " L" + x.layer();
      byProbe.computeIfAbsent(probe, k -> new TreeMap<>()).put(x.band(), new double[] {x.auc(), x.std()});
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
    html.chart("auc-by-band", Charts.pngLater(Charts.bars("AUC by band", "band of H_S (nats)", cats, series, errors,
        0.3)), "AUC by band");
  }

  // ---- sections on per-position aggregates ----------------------------------------------

  /** The H_S x H_L density; {@code class0} and {@code gap}: the gap labels' thresholds (nats). */
  static void density(Html html, Density d, double class0, double gap) {
    html.section("density", "H_S vs H_L");
    if (d == null) {
      html.p("small_scores or large_scores is missing: no density.");
      return;
    }
    if (d.positions() == 0) {
      html.p("No scored positions.");
      return;
    }
    double w = d.width();
    double[] x = new double[d.n().length];
    double[] y = new double[d.n().length];
    for (int i = 0; i < x.length; i++) {
      x[i] = (d.bx()[i] + 0.5) * w;
      y[i] = (d.by()[i] + 0.5) * w;
    }
    html.p(String.format(Locale.ROOT, "Every scored position of the run (%,d), binned into %d x %d cells of %.2f nats "
        + "(a 2-D histogram computed in Spark; darker = more positions, log scale). The gap labels: class 0 "
        + "(epistemic) below the red line, H_L &lt; %s; class 1 (aleatoric) between the orange lines, "
        + "|H_L - H_S| &le; %s; positions elsewhere are not labelled. Probes are trained in bands of H_S (grey line: "
        + "the lower edge of the first band).", d.positions(), d.bins(), d.bins(), w, class0, gap));
    html.chart("density", Charts.pngLater(Charts.density("H_S vs H_L, all scored positions", x, y, d.n(), d.maxH(),
        d.bandMin(), class0, gap)), "H_S vs H_L density with the gap-label regions");
  }

  /** The threshold sweep: one row per (balancing, cell), as bench/threshold-sweep.sh's sweep.md has them. */
  static void sweep(Html html, List<SweepRow> rows) {
    html.section("sweep", "Threshold sweep");
    if (rows.isEmpty()) {
      html.p("No threshold sweep for this run: <code>bench/threshold-sweep.sh CONFIG OUTPUT_ROOT</code> runs the "
          + "label and probe stages once per (class-0 cut, class-1 gap) cell under &lt;output&gt;/sweep/, and this "
          + "section then lists the cells.");
      return;
    }
    TreeSet<Integer> layers = new TreeSet<>();
    rows.forEach(r -> layers.add(r.layer()));
    html.p("How the paired test AUC differences depend on the gap labels' thresholds: class 0 (epistemic) is H_L "
        + "&lt; cut, class 1 (aleatoric) |H_L - H_S| &le; gap. Each cell reruns the label and probe stages on this "
        + "run's scores (bench/threshold-sweep.sh); its thresholds are read from the config its manifest records. "
        + "Band <b>" + esc(rows.get(0).band()) + "</b>, layer " + (layers.size() == 1 ? layers.first()
            : "the highest of each cell (" + layers + ")") + ", train all &rarr; test all, baseline the combined "
        + "control; difference and 95% interval (documents resampled) are means over seeds. <b>this run</b> marks "
        + "the run's own thresholds.");
    html.sweepTable(rows);
  }

  static void iclt(Html html, Iclt iclt) {
    html.section("iclt", "ICLT score distributions by class");
    if (iclt == null) {
      html.p("This run has no iclt_scores (the iclt stage did not run).");
      return;
    }
    html.p("The unsupervised in-context learning test on the labelled test positions it scored: the share of each "
        + "class's positions per score bin (20 equal-width bins from the 1st to the 99th percentile, the ends clipped "
        + "into the outer bins; class 0 epistemic, class 1 aleatoric). A score that "
        + "separates the classes puts them in different bins; see iclt_metrics for the AUCs.");
    if (iclt.metrics() != null) {
      html.icltTable(iclt.metrics());
    }
    int bins = IcltHistogram.BINS;
    for (IcltHistogram h : iclt.histograms()) {
      List<Charts.Curve> curves = new ArrayList<>();
      for (String sep : iclt.separators()) {
        long[][] counts = h.bySeparator().getOrDefault(sep, new long[2][bins]);
        for (int label = 0; label <= 1; label++) {
          double total = 0;
          for (long n : counts[label]) {
            total += n;
          }
          double[] x = new double[bins];
          double[] y = new double[bins];
          for (int i = 0; i < bins; i++) {
            x[i] = h.low() + (i + 0.5) * h.width();
            y[i] = total == 0 ? 0 : counts[label][i] / total;
          }
          curves.add(new Charts.Curve("class " + label + (label == 0 ? " (epistemic)" : " (aleatoric)") + ", " + sep,
              x, y));
        }
      }
      html.chart("iclt-" + h.score(), Charts.pngLater(Charts.distributions("ICLT " + h.score() + " by class (test)",
          h.score(), curves)), "ICLT " + h.score() + " distribution by class", "small");
    }
  }

  /** The token view; {@code maxTokens}: passage-tokens; {@code pieces}: text to token texts, or null. */
  static void tokens(Html html, TokenView view, String band, int maxTokens, Function<String, String[]> pieces) {
    html.section("tokens", "Token view: where the small model's uncertainty is epistemic");
    if (view == null) {
      html.p("No hidden-state probe or no small_scores: no token view.");
      return;
    }
    html.p(String.format(Locale.ROOT, "The first %d tokens of held-out test passages. Each token is shaded by the "
        + "%s probe's (layer %d, trained on all domains, band %s, seed %s) probability that the small model's "
        + "uncertainty at that position is <b>epistemic</b> (class 0: a larger model would be confident): red = "
        + "likely epistemic, white = likely aleatoric. Each token carries the values of the prediction that produced it "
        + "(the model had read every token before it). The probe was trained only on positions with H_S in %s: "
        + "other tokens are not shaded (dotted grey underline). Under each token two strips show H_S and H_L. "
        + "Hover a token for the exact values.", maxTokens, view.kind(), view.layer(), band, view.seed(), band));
    html.tokenKey();
    if (view.passages().isEmpty()) {
      html.p("The run has no test documents.");
      return;
    }
    for (Passage p : view.passages()) {
      String[] texts = pieces == null || p.text() == null ? null : pieces.apply(p.text());
      // Row i holds the small model's uncertainty about token i+1 after reading tokens 0..i: drawn on token i+1.
      html.passage(p.docId(), p.domain(), p.tokens(), texts, view.bandMin(), view.bandMax());
    }
  }

  static void config(Html html, RunFacts facts) {
    html.section("config", "Run, config and fingerprints");
    html.facts(facts.facts());
    try {
      html.pre(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(facts.config()));
    } catch (IOException e) {
      html.p("config not readable: " + esc(e.getMessage()));
    }
  }
}
