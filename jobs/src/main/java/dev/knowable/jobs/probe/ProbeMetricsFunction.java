package dev.knowable.jobs.probe;

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
 * exact AUC, seeded bootstrap interval, class counts and accuracy.
 *
 * <p>Accuracy: probes predict class 1 when P(class 1) &gt;= 0.5. BET has no training, so
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
  ProbeMetricsFunction(String modelPair, int bootstrapResamples) {
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

  private static final class EvalSet {
    final List<Double> scores = new ArrayList<>();
    final List<Integer> labels = new ArrayList<>();

    double[] scores() {
      return scores.stream().mapToDouble(Double::doubleValue).toArray();
    }

    int[] labels() {
      return labels.stream().mapToInt(Integer::intValue).toArray();
    }

    void negate() {
      scores.replaceAll(x -> -x);
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
      s.scores.add(r.getAs("score"));
      s.labels.add(r.getAs("label"));
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
    boolean bet = oriented || ProbeTables.BET.equals(probeKind);
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
      BootstrapCi.Interval ci = BootstrapCi.auc(scores, labels, bootstrapResamples, bootstrapSeed);
      BestThreshold.Threshold oracle = bet ? BestThreshold.best(scores, labels) : null;
      out.add(RowFactory.create(modelPair, probeKind, first.getAs("layer"), first.getAs("band"),
          first.getAs("label_kind"), trainDomain, e.getKey().get(0), e.getKey().get(1), seed,
          labels.length - n1, n1, RocAuc.exact(scores, labels), ci.low(), ci.high(),
          rule == null ? null : BestThreshold.accuracy(scores, labels, rule.threshold(), rule.direction()),
          rule == null ? null : rule.threshold(), rule == null ? null : rule.direction(),
          oracle == null ? null : oracle.accuracy(), oracle == null ? null : oracle.threshold(), sign));
    }
    return out.iterator();
  }
}
