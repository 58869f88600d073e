package dev.knowable.jobs.probe;

import dev.knowable.probe.ContextFeatures;
import dev.knowable.probe.LogisticProbeTrainer;
import dev.knowable.probe.MlpProbeTrainer;
import dev.knowable.probe.MlpWeights;
import dev.knowable.probe.ProbeSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Spark task per trained probe (probe kind, layer, band, label kind, train domain,
 * seed): the group holds that probe's train and val rows (role "fit") and every
 * evaluation row (role "eval"). It trains - the MLP with {@link MlpProbeTrainer}, the linear
 * probe and the context baselines with {@link LogisticProbeTrainer} - scores the evaluation
 * rows and returns one small row: the weights and the scores.
 *
 * <p>Rows are sorted by (doc_id, position) within each role and split before anything else:
 * Spark's shuffle delivers them in an order that depends on the cluster layout, and the
 * MLP's minibatches, the L-BFGS sums and the bootstrap all depend on the order. Sorted, the
 * same seed gives the same bits on any layout.
 *
 * <p>Input columns: probe_kind, layer, band, label_kind, train_domain, seed, role, domain,
 * split, label, features (array&lt;float&gt;; linear and mlp), context (array&lt;int&gt;, the last
 * k token ids, current first; context_k&lt;k&gt;), doc_id, position. Output:
 * {@link ProbeTables#fitted()}.
 */
public final class ProbeFitTask implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 2L;
  private static final Logger LOG = LoggerFactory.getLogger(ProbeFitTask.class);
  static final String FIT = "fit";
  static final String EVAL = "eval";
  private static final Comparator<Row> DOC_ORDER = Comparator.<Row, String>comparing(r -> r.getAs("doc_id"))
      .thenComparing(r -> r.<Integer>getAs("position"));

  private final ProbeSettings settings;
  private final int maxTokenId;

  /**
   * @param maxTokenId the largest token id of the context columns (sizes the one-hot slots)
   */
  ProbeFitTask(ProbeSettings settings, int maxTokenId) {
    this.settings = settings;
    this.maxTokenId = maxTokenId;
  }

  /** The grouping key of a row: its probe. */
  static String key(Row r) {
    return r.getAs("probe_kind") + "\u0001" + r.getAs("layer") + "\u0001" + r.getAs("band") + "\u0001"
        + r.getAs("label_kind") + "\u0001" + r.getAs("balance") + "\u0001" + r.getAs("train_domain") + "\u0001" + r.getAs("seed");
  }

  /** A trained probe's scorer for the evaluation rows. */
  private interface Scorer {
    double score(Row r);
  }

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    List<Row> train = new ArrayList<>();
    List<Row> val = new ArrayList<>();
    List<Row> eval = new ArrayList<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      if (EVAL.equals(r.getAs("role"))) {
        eval.add(r);
      } else if ("train".equals(r.getAs("split"))) {
        train.add(r);
      } else {
        val.add(r);
      }
    }
    train.sort(DOC_ORDER);
    val.sort(DOC_ORDER);
    eval.sort(Comparator.<Row, String>comparing(r -> r.getAs("domain")).thenComparing(r -> r.<String>getAs("split"))
        .thenComparing(DOC_ORDER));
    Row first = !train.isEmpty() ? train.get(0) : !val.isEmpty() ? val.get(0) : eval.get(0);
    String kind = first.getAs("probe_kind");
    String config = kind + " layer=" + first.getAs("layer") + " band=" + first.getAs("band") + " kind="
        + first.getAs("label_kind") + " balance=" + first.getAs("balance") + " train_domain=" + first.getAs("train_domain") + " seed=" + first.getAs("seed");
    int[] trainY = labels(train);
    int[] valY = labels(val);
    if (java.util.Arrays.stream(trainY).distinct().count() < 2) {
      LOG.warn("Probe {}: the train split holds {} rows and not both classes; not trained", config, train.size());
      return Collections.emptyIterator();
    }
    long start = System.nanoTime();
    int seed = first.getAs("seed");
    Object[] model;
    Scorer scorer;
    String summary;
    if (ProbeTables.MLP.equals(kind)) {
      MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(dense(train), trainY, dense(val), valY, settings.mlp(), seed);
      MlpWeights w = fit.weights();
      dev.knowable.probe.MlpScorer mlp = new dev.knowable.probe.MlpScorer(w);
      scorer = r -> mlp.probabilityOfClass1(features(r));
      model = new Object[] {w.inputDim(), w.hiddenDim(), w.w1(), w.b1(), w.w2(), w.b2(), (long) train.size(),
          (long) val.size(), fit.epochsRun(), fit.bestEpoch(), val.isEmpty() ? null : fit.bestValLoss(), null,
          fit.converged()};
      summary = fit.epochsRun() + " epochs" + (fit.converged() ? "" : " (cap reached)") + ", best epoch "
          + fit.bestEpoch() + " (val loss " + String.format("%.4f", fit.bestValLoss()) + ")";
    } else {
      LogisticProbeTrainer.Fit fit;
      int inputDim;
      if (ProbeTables.LINEAR.equals(kind)) {
        fit = LogisticProbeTrainer.trainDense(dense(train), trainY, dense(val), valY, settings.linear().grid(),
            settings.linear().maxIter(), settings.linear().tolerance());
        float[] stored = floats(fit.weights());
        float intercept = (float) fit.intercept();
        // Scored with the weights as probe_models stores them (floats), as the apply stage does.
        scorer = r -> storedLinear(stored, intercept, features(r));
        inputDim = fit.weights().length;
      } else if (kind.startsWith(ProbeTables.COMBINED_PREFIX)) {
        int k = Integer.parseInt(kind.substring(ProbeTables.COMBINED_PREFIX.length()));
        ContextFeatures encoder = new ContextFeatures(k, maxTokenId);
        int oneHotDim = encoder.size();
        fit = LogisticProbeTrainer.trainMixed(active(train, encoder), dense(train), trainY, active(val, encoder),
            dense(val), valY, oneHotDim, settings.linear().grid(), settings.linear().maxIter(),
            settings.linear().tolerance());
        LogisticProbeTrainer.Fit f = fit;
        scorer = r -> LogisticProbeTrainer.mixedProbability(f, oneHotDim, encoder.active(context(r)), features(r));
        inputDim = fit.weights().length;
      } else {
        int k = Integer.parseInt(kind.substring(ProbeTables.CONTEXT_PREFIX.length()));
        ContextFeatures encoder = new ContextFeatures(k, maxTokenId);
        fit = LogisticProbeTrainer.train(LogisticProbeTrainer.oneHot(active(train, encoder), encoder.size()), trainY,
            LogisticProbeTrainer.oneHot(active(val, encoder), encoder.size()), valY, settings.linear().grid(),
            settings.linear().maxIter(), settings.linear().tolerance());
        LogisticProbeTrainer.Fit f = fit;
        scorer = r -> f.probabilityOfClass1(encoder.active(context(r)));
        inputDim = encoder.size();
      }
      float[] w = floats(fit.weights());
      Double valLoss = val.isEmpty() ? null : fit.valLosses()[java.util.Arrays.binarySearch(fit.grid(),
          fit.regParam())];
      model = new Object[] {inputDim, 0, w, new float[] {(float) fit.intercept()}, null, null, (long) train.size(),
          (long) val.size(), fit.iterations(), null, valLoss, fit.regParam(), fit.converged()};
      summary = fit.iterations() + " iterations" + (fit.converged() ? "" : " (not converged)") + ", penalty "
          + fit.regParam() + " (val loss " + (valLoss == null ? "-" : String.format("%.4f", valLoss)) + ")";
    }
    String[] domains = new String[eval.size()];
    String[] splits = new String[eval.size()];
    double[] scores = new double[eval.size()];
    int[] labels = new int[eval.size()];
    String[] docIds = new String[eval.size()];
    int[] positions = new int[eval.size()];
    for (int i = 0; i < eval.size(); i++) {
      Row r = eval.get(i);
      docIds[i] = r.getAs("doc_id");
      positions[i] = r.getAs("position");
      domains[i] = r.getAs("domain");
      splits[i] = r.getAs("split");
      scores[i] = scorer.score(r);
      labels[i] = r.getAs("label");
    }
    LOG.info("Probe {}: {} train / {} val rows, {}, {} s", config, train.size(), val.size(), summary,
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    List<Object> out = new ArrayList<>(List.of(settings.modelPair()));
    out.add(first.getAs("layer"));
    out.add(first.getAs("band"));
    out.add(first.getAs("label_kind"));
    out.add(first.getAs("balance"));
    out.add(first.getAs("train_domain"));
    out.add(seed);
    out.addAll(java.util.Arrays.asList(model));
    out.add(kind);
    out.addAll(List.of(domains, splits, scores, labels, docIds, positions));
    return List.of(RowFactory.create(out.toArray())).iterator();
  }

  /** P(class 1) of a linear probe from its stored float weights, summed in double in input order. */
  public static double storedLinear(float[] w, float intercept, float[] x) {
    double margin = intercept;
    for (int i = 0; i < w.length; i++) {
      margin += (double) w[i] * x[i];
    }
    return 1.0 / (1.0 + Math.exp(-margin));
  }

  private static float[] floats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  private static int[] labels(List<Row> rows) {
    return rows.stream().mapToInt(r -> r.<Integer>getAs("label")).toArray();
  }

  private static float[][] dense(List<Row> rows) {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = features(rows.get(i));
    }
    return out;
  }

  private static int[][] active(List<Row> rows, ContextFeatures encoder) {
    int[][] out = new int[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = encoder.active(context(rows.get(i)));
    }
    return out;
  }

  private static float[] features(Row r) {
    List<Float> values = r.getList(r.fieldIndex("features"));
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static int[] context(Row r) {
    List<Integer> values = r.getList(r.fieldIndex("context"));
    int[] out = new int[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
