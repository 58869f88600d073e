package dev.knowable.jobs.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What the report shows, as plain values: {@link ReportQueries} gathers them from the run's
 * tables (small aggregates only), {@link ReportPage} draws them. No Spark type appears here, so
 * the page can be tested from hand-made values. Also the choices the sections share (which
 * balancing leads, which band, which probe the ROC and token view show), stated once.
 */
final class ReportData {
  /** The pooled domain name of probe_metrics (knowable's ProbeSettings.POOLED). */
  static final String POOLED = dev.knowable.probe.ProbeSettings.POOLED;

  private ReportData() {}

  /**
   * The test AUC of one probe configuration over its seeds, trained on one domain and evaluated
   * on one (a row of agg_cross_domain for this run). {@code layer} is null for BET, BET-FT and
   * the context controls; {@code aucStd} is null for one seed; CI bounds NaN when not computed.
   */
  record ProbeAuc(String balance, String band, String labelKind, String probeKind, Integer layer,
      String trainDomain, String evalDomain, long seeds, double auc, Double aucStd, double ciLow, double ciHigh,
      long nClass0, long nClass1) {
    /** Trained and evaluated on all domains pooled, in this band and label kind. */
    boolean pooled(String inBand, String ofLabelKind) {
      return band.equals(inBand) && labelKind.equals(ofLabelKind) && POOLED.equals(trainDomain)
          && POOLED.equals(evalDomain);
    }

    double std() {
      return aucStd == null ? 0.0 : aucStd;
    }
  }

  /** One headline row: pooled test AUC over seeds of one probe (kind, layer) in the headline band. */
  record Headline(String balance, String probeKind, Integer layer, long seeds, double auc, double ciLow,
      double ciHigh, long nClass0, long nClass1) {
    String label() {
      return layer == null ? probeKind : probeKind + " (layer " + layer + ")";
    }
  }

  /** One paired comparison row (probe_comparisons, pooled test, lowest seed). */
  record Difference(String balance, String probeKind, int layer, int seed, String baseline, double difference,
      double low, double high) {}

  /**
   * The ROC section's class counts: per evaluation domain (pooled first), one entry per curve
   * (the probe, BET, then the strongest control when there is one), each {@code bins} x {n0, n1}
   * counts with bins ordered by score. {@code control}: a combined_k or context_k kind, or null.
   */
  record RocCounts(String kind, int layer, int seed, String control, int bins,
      Map<String, List<long[][]>> byDomain) {}

  /**
   * The H_S x H_L 2-D histogram: {@code positions} scored positions in cells of {@code width}
   * nats up to {@code maxH}; cell i is (bx[i], by[i]) with n[i] positions. {@code bandMin}: the
   * lower edge of the first band in nats.
   */
  record Density(long positions, int bins, double maxH, double width, long[] bx, long[] by, long[] n,
      double bandMin) {}

  /** One row of iclt_metrics (pooled test): "band balance", the score, its AUC and class counts. */
  record IcltAuc(String bandBalance, String score, double auc, double ciLow, double ciHigh, long nClass0,
      long nClass1) {}

  /**
   * One ICLT score's histogram on the test split: 20 bins of {@code width} from {@code low},
   * per separator {n per bin of class 0, n per bin of class 1}.
   */
  record IcltHistogram(String score, double low, double width, Map<String, long[][]> bySeparator) {
    static final int BINS = 20;
  }

  /**
   * The ICLT section: the separators (sorted), the pooled test metrics (null: no iclt_metrics)
   * and one histogram per score that has finite values.
   */
  record Iclt(List<String> separators, List<IcltAuc> metrics, List<IcltHistogram> histograms) {}

  /** One scored position of a passage: the prediction of token position + 1. {@code hl} null: no large score. */
  record Token(int position, int tokenId, float hs, double p, Float hl) {}

  /** One passage of the token view; {@code text} null when the document's text is missing. */
  record Passage(String docId, String domain, String text, List<Token> tokens) {}

  /**
   * The token view: the probe that shades it (kind, layer, lowest seed) and the band it was
   * trained in (nats bounds as the label stage resolved them), with the first tokens of a few
   * test passages.
   */
  record TokenView(String kind, int layer, int seed, double bandMin, double bandMax, List<Passage> passages) {}

  /**
   * One balancing of one threshold-sweep cell (bench/threshold-sweep.sh): the gap labels' class-0
   * cut (H_L &lt; cut) and class-1 gap (|H_L - H_S| &le; gap) as the cell's manifest records them,
   * test positions per class, and the paired MLP - combined and linear - combined test AUC
   * differences (null when the cell has no such row). {@code source}: the cell's folder under
   * the output root, or null for the run's own thresholds; {@code seeds}: distinct seeds.
   */
  record SweepRow(String balance, double class0Cut, double class1Gap, String source, String band, int layer,
      long nClass0, long nClass1, SweepDifference mlp, SweepDifference linear, long seeds) {
    boolean own() {
      return source == null;
    }
  }

  /** Mean over the matched rows (seeds) of a paired difference and of its interval bounds. */
  record SweepDifference(double difference, double low, double high) {}

  /** The facts table of the config section and the probe_metrics manifest's config (any JSON value). */
  record RunFacts(Map<String, String> facts, Object config) {}

  // ---- choices the sections share -------------------------------------------------------

  /** Sweep rows by balancing in {@code balances}' order (others after, by name), then cut, gap, the run's own first. */
  static List<SweepRow> sweepOrder(List<SweepRow> rows, List<String> balances) {
    List<SweepRow> out = new ArrayList<>(rows);
    out.sort(java.util.Comparator.<SweepRow>comparingInt(r -> balances.contains(r.balance())
            ? balances.indexOf(r.balance()) : balances.size())
        .thenComparing(SweepRow::balance).thenComparingDouble(SweepRow::class0Cut)
        .thenComparingDouble(SweepRow::class1Gap).thenComparing(r -> r.own() ? "" : r.source()));
    return out;
  }

  /** The balancings present, in the order {@code configured} lists them (others after, sorted). */
  static List<String> balanceOrder(List<String> configured, List<ProbeAuc> cross) {
    TreeSet<String> present = new TreeSet<>();
    cross.forEach(x -> present.add(x.balance()));
    List<String> out = new ArrayList<>();
    for (String b : configured) {
      if (present.remove(b)) {
        out.add(b);
      }
    }
    out.addAll(present);
    if (out.isEmpty()) {
      throw new IllegalStateException("report: probe_metrics of this run has no test rows");
    }
    return out;
  }

  /** {@code first} (the first configured band) when the run has it, else the first band in the metrics. */
  static String headlineBand(String first, List<ProbeAuc> cross) {
    TreeSet<String> present = new TreeSet<>();
    cross.forEach(x -> present.add(x.band()));
    if (present.contains(first)) {
      return first;
    }
    if (present.isEmpty()) {
      throw new IllegalStateException("report: probe_metrics of this run has no test rows");
    }
    return present.first();
  }

  /** The gap labels when the run has them, else the first row's label kind. */
  static String labelKind(List<ProbeAuc> cross) {
    return cross.stream().map(ProbeAuc::labelKind).filter("gap"::equals).findFirst()
        .orElse(cross.isEmpty() ? "gap" : cross.get(0).labelKind());
  }

  static List<Headline> headline(List<ProbeAuc> cross, String band, String labelKind, List<String> balances) {
    List<Headline> out = new ArrayList<>();
    for (ProbeAuc x : cross) {
      if (x.pooled(band, labelKind)) {
        out.add(new Headline(x.balance(), x.probeKind(), x.layer(), x.seeds(), x.auc(), x.ciLow(), x.ciHigh(),
            x.nClass0(), x.nClass1()));
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

  /** MLP, linear, BET and BET-FT, the combined control, then the rest. */
  static int kindOrder(String kind) {
    return switch (kind) {
      case "mlp" -> 0;
      case "linear" -> 1;
      case "bet", "bet_ft" -> 2; // bet_ft right after bet (by name)
      default -> kind.startsWith("combined_k") ? 3 : 4;
    };
  }

  /** Probe kind, layer and baseline in the headline's order; of one probe and baseline, the lowest seed only. */
  static List<Difference> differences(List<Difference> bySeed, List<String> balances) {
    List<Difference> sorted = new ArrayList<>(bySeed);
    // The lowest seed wins below: ties keep the query's order, so sort by seed first.
    sorted.sort((a, b) -> Integer.compare(a.seed(), b.seed()));
    List<Difference> out = new ArrayList<>();
    TreeSet<String> seen = new TreeSet<>();
    for (Difference d : sorted) {
      if (seen.add(d.balance() + "/" + d.probeKind() + "/" + d.layer() + "/" + d.baseline())) {
        out.add(d);
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

  /** The layer of a hidden-state probe kind with the best pooled AUC in the headline band. */
  static Integer bestLayer(List<ProbeAuc> cross, String kind, String band, String labelKind) {
    Integer best = null;
    double bestAuc = -1;
    for (ProbeAuc x : cross) {
      if (x.pooled(band, labelKind) && kind.equals(x.probeKind())) {
        if (x.auc() > bestAuc || best == null) {
          best = x.layer();
          bestAuc = x.auc();
        }
      }
    }
    return best;
  }

  /** The hidden-state probe kind the ROC and token view show: the MLP when the run has one, else linear. */
  static String shownKind(List<ProbeAuc> cross, String band, String labelKind) {
    return bestLayer(cross, "mlp", band, labelKind) != null ? "mlp" : "linear";
  }

  /**
   * The strongest control: the combined control when the run fitted one (as probe_comparisons
   * uses it), else the single context control with the highest pooled test AUC; null when none.
   */
  static String strongestControl(List<ProbeAuc> cross, String band, String labelKind) {
    String combined = "combined_k";
    String context = null;
    double contextAuc = -1;
    for (ProbeAuc x : cross) {
      String k = x.probeKind();
      if (x.pooled(band, labelKind) && k.startsWith(combined)) {
        return k;
      }
      if (x.pooled(band, labelKind) && k.startsWith("context_k") && x.auc() > contextAuc) {
        context = k;
        contextAuc = x.auc();
      }
    }
    return context;
  }
}
