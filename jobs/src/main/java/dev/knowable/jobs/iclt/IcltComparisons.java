package dev.knowable.jobs.iclt;

import dev.knowable.jobs.probe.ProbeTables;
import dev.knowable.metrics.PairedBootstrap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The rows of one evaluation set (band, label kind, train domain, eval domain, eval
 * split; every score, oriented by its score_sign) -> one iclt_comparisons row per ICLT
 * score: AUC(score) - AUC(BET) on the positions both have, with a document-level paired
 * bootstrap interval ({@link PairedBootstrap}). Rows are keyed by (doc_id, position) and
 * taken in that order, so the numbers do not depend on how Spark delivered them.
 */
final class IcltComparisons implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 1L;

  private final String modelPair;
  private final int resamples;

  IcltComparisons(String modelPair, int resamples) {
    this.modelPair = modelPair;
    this.resamples = resamples;
  }

  /** The grouping key: one evaluation set. */
  static String key(Row r) {
    return r.<String>getAs("band") + '\u0001' + r.<String>getAs("label_kind") + '\u0001'
        + r.<String>getAs("train_domain") + '\u0001' + r.<String>getAs("eval_domain") + '\u0001'
        + r.<String>getAs("eval_split");
  }

  private record Point(String docId, int label, double score) {}

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    Map<String, Map<String, Point>> byKind = new TreeMap<>();
    Row first = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      first = first == null ? r : first;
      String position = r.<String>getAs("doc_id") + '\u0001' + String.format("%09d", r.<Integer>getAs("position"));
      byKind.computeIfAbsent(r.getAs("probe_kind"), k -> new TreeMap<>())
          .put(position, new Point(r.getAs("doc_id"), r.getAs("label"), r.getAs("score")));
    }
    Map<String, Point> bet = byKind.get(ProbeTables.BET);
    List<Row> out = new ArrayList<>();
    if (bet == null) {
      return out.iterator();
    }
    for (Map.Entry<String, Map<String, Point>> e : byKind.entrySet()) {
      if (e.getKey().equals(ProbeTables.BET)) {
        continue;
      }
      List<String> shared = e.getValue().keySet().stream().filter(bet::containsKey).toList();
      int n = shared.size();
      double[] a = new double[n];
      double[] b = new double[n];
      int[] y = new int[n];
      String[] docs = new String[n];
      long n1 = 0;
      for (int i = 0; i < n; i++) {
        Point p = e.getValue().get(shared.get(i));
        a[i] = p.score();
        b[i] = bet.get(shared.get(i)).score();
        y[i] = p.label();
        docs[i] = p.docId();
        n1 += y[i];
      }
      PairedBootstrap.Difference d = PairedBootstrap.aucDifference(a, b, y, docs, resamples,
          (key + e.getKey()).hashCode());
      out.add(RowFactory.create(modelPair, e.getKey(), ProbeTables.BET, first.getAs("band"),
          first.getAs("label_kind"), first.getAs("train_domain"), first.getAs("eval_domain"),
          first.getAs("eval_split"), d.groups(), n - n1, n1, d.aucA(), d.aucB(), d.difference(), d.low(), d.high(),
          resamples));
    }
    return out.iterator();
  }
}
