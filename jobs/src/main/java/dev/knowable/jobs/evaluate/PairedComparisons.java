package dev.knowable.jobs.evaluate;

import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.metrics.PairedBootstrap;
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
 * The scored rows of one evaluation set (band, label kind, train domain, eval domain, eval
 * split; every probe and baseline, with doc_id and position) -> one comparisons row per
 * (candidate, baseline): AUC(candidate) - AUC(baseline) on the positions both scored, with
 * a document-level paired bootstrap interval ({@link PairedBootstrap}).
 *
 * <ul>
 *   <li>Candidates: every scored identity (probe kind, layer, seed) that is not a baseline
 *       (linear and mlp probes; ICLT scores).</li>
 *   <li>Baselines: bet; bet_ft (the fine-tuned head's entropy); the combined control combined_k&lt;k&gt; (one-hot last k ids with
 *       H_S and position: the strongest control, when trained); and with
 *       {@code strongestContext} the single context_k&lt;k&gt; whose AUC on this evaluation
 *       set is the highest (chosen on the evaluation set itself, which favours the
 *       control).</li>
 * </ul>
 * Rows are keyed by (doc_id, position) and taken in that order, so the numbers do not
 * depend on how Spark delivered them.
 */
public final class PairedComparisons implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 1L;

  private final String modelPair;
  private final int resamples;
  private final boolean strongestContext;

  public PairedComparisons(String modelPair, int resamples, boolean strongestContext) {
    this.modelPair = modelPair;
    this.resamples = resamples;
    this.strongestContext = strongestContext;
  }

  /** The grouping key: one evaluation set. */
  public static String key(Row r) {
    return r.<String>getAs("band") + '\u0001' + r.<String>getAs("label_kind") + '\u0001'
        + r.<String>getAs("balance") + '\u0001'
        + r.<String>getAs("train_domain") + '\u0001' + r.<String>getAs("eval_domain") + '\u0001'
        + r.<String>getAs("eval_split");
  }

  private record Identity(String kind, Integer layer, int seed) implements Comparable<Identity> {
    @Override
    public int compareTo(Identity o) {
      int c = kind.compareTo(o.kind);
      if (c != 0) {
        return c;
      }
      c = Integer.compare(layer == null ? -1 : layer, o.layer == null ? -1 : o.layer);
      return c != 0 ? c : Integer.compare(seed, o.seed);
    }
  }

  private record Point(String docId, int label, double score) {}

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    Map<Identity, Map<String, Point>> scored = new TreeMap<>();
    Row first = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      first = first == null ? r : first;
      Identity id = new Identity(r.getAs("probe_kind"), r.getAs("layer"), r.<Integer>getAs("seed"));
      String position = r.<String>getAs("doc_id") + '\u0001' + String.format("%09d", r.<Integer>getAs("position"));
      scored.computeIfAbsent(id, k -> new TreeMap<>())
          .put(position, new Point(r.getAs("doc_id"), r.getAs("label"), r.getAs("score")));
    }
    List<Map.Entry<Identity, Map<String, Point>>> baselines = new ArrayList<>();
    Map.Entry<Identity, Map<String, Point>> bestContext = null;
    double bestContextAuc = Double.NEGATIVE_INFINITY;
    for (Map.Entry<Identity, Map<String, Point>> e : scored.entrySet()) {
      if (isBaseline(e.getKey().kind()) && !e.getKey().kind().startsWith(ProbeTables.CONTEXT_PREFIX)) {
        baselines.add(e);
      } else if (strongestContext && e.getKey().kind().startsWith(ProbeTables.CONTEXT_PREFIX)) {
        double auc = auc(e.getValue());
        if (auc > bestContextAuc) {
          bestContextAuc = auc;
          bestContext = e;
        }
      }
    }
    if (bestContext != null) {
      baselines.add(bestContext);
    }
    List<Row> out = new ArrayList<>();
    for (Map.Entry<Identity, Map<String, Point>> candidate : scored.entrySet()) {
      if (isBaseline(candidate.getKey().kind())) {
        continue;
      }
      for (Map.Entry<Identity, Map<String, Point>> baseline : baselines) {
        out.add(compare(key, first, candidate, baseline));
      }
    }
    return out.iterator();
  }

  private Row compare(String key, Row first, Map.Entry<Identity, Map<String, Point>> candidate,
      Map.Entry<Identity, Map<String, Point>> baseline) {
    Map<String, Point> base = baseline.getValue();
    List<String> shared = candidate.getValue().keySet().stream().filter(base::containsKey).toList();
    int n = shared.size();
    double[] a = new double[n];
    double[] b = new double[n];
    int[] y = new int[n];
    String[] docs = new String[n];
    long n1 = 0;
    for (int i = 0; i < n; i++) {
      Point p = candidate.getValue().get(shared.get(i));
      a[i] = p.score();
      b[i] = base.get(shared.get(i)).score();
      y[i] = p.label();
      docs[i] = p.docId();
      n1 += y[i];
    }
    Identity id = candidate.getKey();
    PairedBootstrap.Difference d = PairedBootstrap.aucDifference(a, b, y, docs, resamples,
        (key + id + baseline.getKey()).hashCode());
    return RowFactory.create(modelPair, id.kind(), id.layer(), id.seed(), baseline.getKey().kind(),
        first.getAs("band"), first.getAs("label_kind"), first.getAs("balance"), first.getAs("train_domain"), first.getAs("eval_domain"),
        first.getAs("eval_split"), d.groups(), n - n1, n1, d.aucA(), d.aucB(), d.difference(), d.low(), d.high(),
        resamples);
  }

  /** BET and the controls: compared against, never candidates. */
  static boolean isBaseline(String kind) {
    return kind.equals(ProbeTables.BET) || kind.equals(ProbeTables.BET_FT) || kind.startsWith(ProbeTables.CONTEXT_PREFIX)
        || kind.startsWith(ProbeTables.COMBINED_PREFIX);
  }

  private static double auc(Map<String, Point> points) {
    double[] s = points.values().stream().mapToDouble(Point::score).toArray();
    int[] y = points.values().stream().mapToInt(Point::label).toArray();
    double auc = RocAuc.exact(s, y);
    return Double.isNaN(auc) ? Double.NEGATIVE_INFINITY : auc;
  }
}
