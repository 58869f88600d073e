package dev.knowable.jobs.probe;

import dev.knowable.probe.MlpProbeTrainer;
import dev.knowable.probe.MlpSettings;
import dev.knowable.probe.MlpWeights;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Spark task per MLP configuration (layer, band, label kind, train domain, seed): the
 * group holds that configuration's train and val rows (role "fit") and every evaluation
 * row (role "eval"). It trains with {@link MlpProbeTrainer}, scores the evaluation rows
 * with the best checkpoint and returns one small row: the weights and the scores.
 *
 * <p>Input columns: layer, band, label_kind, train_domain, seed, role, domain, split,
 * label, features (array&lt;float&gt;), doc_id, position. Output: {@link ProbeTables#mlpFit()}.
 */
final class MlpProbeTask implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(MlpProbeTask.class);
  static final String FIT = "fit";
  static final String EVAL = "eval";

  private final MlpSettings settings;
  private final String modelPair;

  MlpProbeTask(MlpSettings settings, String modelPair) {
    this.settings = settings;
    this.modelPair = modelPair;
  }

  /** The grouping key of a row: its configuration. */
  static String key(Row r) {
    return r.getAs("layer") + "\u0001" + r.getAs("band") + "\u0001" + r.getAs("label_kind") + "\u0001"
        + r.getAs("train_domain") + "\u0001" + r.getAs("seed");
  }

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    List<float[]> trainX = new ArrayList<>();
    List<Integer> trainY = new ArrayList<>();
    List<float[]> valX = new ArrayList<>();
    List<Integer> valY = new ArrayList<>();
    List<Row> eval = new ArrayList<>();
    Row first = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      first = first == null ? r : first;
      if (EVAL.equals(r.getAs("role"))) {
        eval.add(r);
      } else if ("train".equals(r.getAs("split"))) {
        trainX.add(features(r));
        trainY.add(r.getAs("label"));
      } else {
        valX.add(features(r));
        valY.add(r.getAs("label"));
      }
    }
    String config = "layer=" + first.getAs("layer") + " band=" + first.getAs("band") + " kind="
        + first.getAs("label_kind") + " train_domain=" + first.getAs("train_domain") + " seed=" + first.getAs("seed");
    if (trainY.stream().distinct().count() < 2) {
      LOG.warn("MLP probe {}: the train split holds {} rows and not both classes; not trained", config,
          trainY.size());
      return Collections.emptyIterator();
    }
    long start = System.nanoTime();
    int seed = first.getAs("seed");
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(trainX.toArray(new float[0][]), ints(trainY),
        valX.toArray(new float[0][]), ints(valY), settings, seed);
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
      scores[i] = fit.weights().probabilityOfClass1(features(r));
      labels[i] = r.getAs("label");
    }
    LOG.info("MLP probe {}: {} train / {} val rows, {} epochs, best epoch {} (val loss {}), {} s", config,
        trainX.size(), valX.size(), fit.epochsRun(), fit.bestEpoch(), String.format("%.4f", fit.bestValLoss()),
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    MlpWeights w = fit.weights();
    Row out = RowFactory.create(modelPair, first.getAs("layer"), first.getAs("band"), first.getAs("label_kind"),
        first.getAs("train_domain"), seed, w.inputDim(), w.hiddenDim(), w.w1(), w.b1(), w.w2(), w.b2(),
        (long) trainX.size(), (long) valX.size(), fit.epochsRun(), fit.bestEpoch(),
        valX.isEmpty() ? null : fit.bestValLoss(), ProbeTables.MLP, domains, splits, scores, labels, docIds,
        positions);
    return List.of(out).iterator();
  }

  private static float[] features(Row r) {
    List<Float> values = r.getList(r.fieldIndex("features"));
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static int[] ints(List<Integer> values) {
    return values.stream().mapToInt(Integer::intValue).toArray();
  }
}
