package dev.knowable.jobs.evaluate;

import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.metrics.BestThreshold;
import dev.knowable.metrics.BootstrapCi;
import dev.knowable.metrics.RocAuc;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Turns the scored evaluation rows of one trained probe (a group of {@link ProbeTables#SCORED}
 * rows; probe-example sized) into probe_metrics rows, one per (eval domain, eval split):
 * exact AUC, seeded bootstrap interval resampling documents, class counts and accuracy.
 * Rows are taken in (doc_id, position) order, so the numbers do not depend on the order
 * in which Spark delivered them.
 *
 * <p>Accuracy: probes predict class 1 when P(class 1) &gt;= 0.5. BET (and BET-FT, an entropy
 * too) has no decision threshold of its own, so
 * its threshold (and direction) is the best one on the train domain's own val split,
 * applied unchanged to every evaluation set; its oracle columns hold the best threshold
 * on the evaluation set itself, the number the reference reports.
 *
 * <p>Oriented mode (unsupervised scores such as ICLT's, whose sign is not known in
 * advance): the score's direction is chosen on the train domain's val split (negated when
 * its AUC there is below 0.5), recorded in score_sign and applied unchanged to every
 * evaluation set, so a test AUC below 0.5 means the direction chosen on val did not hold.
 */
public final class ProbeMetricsFunction implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 1L;
  /** Probes output P(class 1): the natural decision threshold. */
  static final double PROBE_THRESHOLD = 0.5;

  private final String modelPair;
  private final int bootstrapResamples;
  private final boolean oriented;

  /** Probe metrics: scores are used as they are. */
  public ProbeMetricsFunction(String modelPair, int bootstrapResamples) {
    this(modelPair, bootstrapResamples, false);
  }

  /**
   * @param oriented choose each score's direction on the train domain's val split (iclt_metrics);
   *     every score is then thresholded like BET
   */
  public ProbeMetricsFunction(String modelPair, int bootstrapResamples, boolean oriented) {
    this.modelPair = modelPair;
    this.bootstrapResamples = bootstrapResamples;
    this.oriented = oriented;
  }

  /** The grouping key: the probe's identity. */
  public static String key(Row r) {
    StringBuilder sb = new StringBuilder();
    for (String c : ProbeTables.PROBE_IDENTITY) {
      sb.append(r.<Object>getAs(c)).append('\u0001');
    }
    return sb.toString();
  }

  /** One evaluation set's rows, taken in (doc_id, position) order whatever order Spark delivered. */
  private static final class EvalSet {
    private record Item(String docId, int position, double score, int label) {}

    private final List<Item> items = new ArrayList<>();
    private boolean sorted;

    void add(String docId, int position, double score, int label) {
      items.add(new Item(docId, position, score, label));
      sorted = false;
    }

    private List<Item> items() {
      if (!sorted) {
        items.sort(java.util.Comparator.comparing(Item::docId).thenComparingInt(Item::position));
        sorted = true;
      }
      return items;
    }

    double[] scores() {
      return items().stream().mapToDouble(Item::score).toArray();
    }

    int[] labels() {
      return items().stream().mapToInt(Item::label).toArray();
    }

    String[] docIds() {
      return items().stream().map(Item::docId).toArray(String[]::new);
    }

    void negate() {
      items.replaceAll(i -> new Item(i.docId(), i.position(), -i.score(), i.label()));
    }
  }

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    Map<List<String>, EvalSet> sets = new TreeMap<>((a, b) -> {
      int c = a.get(0).compareTo(b.get(0));
      return c != 0 ? c : a.get(1).compareTo(b.get(1));
    });
    Row first = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      first = first == null ? r : first;
      EvalSet s = sets.computeIfAbsent(List.of(r.getAs("eval_domain"), r.getAs("eval_split")), k -> new EvalSet());
      s.add(r.getAs("doc_id"), r.<Integer>getAs("position"), r.<Double>getAs("score"), r.<Integer>getAs("label"));
    }
    String probeKind = first.getAs("probe_kind");
    String trainDomain = first.getAs("train_domain");
    int seed = first.getAs("seed");
    Integer sign = null;
    if (oriented) {
      EvalSet val = sets.get(List.of(trainDomain, "val"));
      double valAuc = val == null ? Double.NaN : RocAuc.exact(val.scores(), val.labels());
      sign = valAuc < 0.5 ? -1 : 1;
      if (sign < 0) {
        sets.values().forEach(EvalSet::negate);
      }
    }
    boolean bet = oriented || ProbeTables.BET.equals(probeKind) || ProbeTables.BET_FT.equals(probeKind);
    BestThreshold.Threshold rule = new BestThreshold.Threshold(PROBE_THRESHOLD, 1, Double.NaN);
    if (bet) {
      EvalSet val = sets.get(List.of(trainDomain, "val"));
      rule = val == null ? null : BestThreshold.best(val.scores(), val.labels());
    }
    List<Row> out = new ArrayList<>();
    for (Map.Entry<List<String>, EvalSet> e : sets.entrySet()) {
      double[] scores = e.getValue().scores();
      int[] labels = e.getValue().labels();
      long n1 = java.util.Arrays.stream(labels).filter(y -> y == 1).count();
      long bootstrapSeed = 31L * seed + (key + e.getKey()).hashCode();
      // Documents, not positions, are resampled: positions of one document are correlated.
      BootstrapCi.Interval ci = BootstrapCi.auc(scores, labels, e.getValue().docIds(), bootstrapResamples,
          bootstrapSeed);
      BestThreshold.Threshold oracle = bet ? BestThreshold.best(scores, labels) : null;
      out.add(RowFactory.create(modelPair, probeKind, first.getAs("layer"), first.getAs("band"),
          first.getAs("label_kind"), first.getAs("balance"), trainDomain, e.getKey().get(0), e.getKey().get(1), seed,
          labels.length - n1, n1, RocAuc.exact(scores, labels), ci.low(), ci.high(),
          rule == null ? null : BestThreshold.accuracy(scores, labels, rule.threshold(), rule.direction()),
          rule == null ? null : rule.threshold(), rule == null ? null : rule.direction(),
          oracle == null ? null : oracle.accuracy(), oracle == null ? null : oracle.threshold(), sign));
    }
    return out.iterator();
  }
}
