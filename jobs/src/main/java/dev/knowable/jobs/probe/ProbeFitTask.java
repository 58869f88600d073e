package dev.knowable.jobs.probe;

import dev.knowable.jobs.evaluate.StoredProbes;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.probe.ContextFeatures;
import dev.knowable.probe.LogisticProbeTrainer;
import dev.knowable.probe.MlpProbeTrainer;
import dev.knowable.probe.MlpWeights;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.probe.ProbeTaskSettings;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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
 * same seed gives the same bits on any layout. The rows are held as they arrive in compact
 * form ({@link ProbeTaskRows}: features as fp16), and the MLP trains on the GPU Spark
 * assigned to the task when there is one ({@code knowable.probe.task.device}).
 *
 * <p>Input columns: probe_kind, layer, band, label_kind, train_domain, seed, role, domain,
 * split, label, features (fp16 bytes, {@link ProbeTaskRows#halfBytes}, or array&lt;float&gt;; linear
 * and mlp), context (array&lt;int&gt;, the last
 * k token ids, current first; context_k&lt;k&gt;), doc_id, position. Output:
 * {@link #fitted()}.
 */
public final class ProbeFitTask implements FlatMapGroupsFunction<String, Row, Row> {
  private static final long serialVersionUID = 3L;
  private static final Logger LOG = LoggerFactory.getLogger(ProbeFitTask.class);
  static final String FIT = "fit";
  static final String EVAL = "eval";
  private final ProbeSettings settings;
  private final int maxTokenId;
  private final ProbeTaskSettings task;

  /**
   * @param maxTokenId the largest token id of the context columns (sizes the one-hot slots)
   * @param task where the MLP trains (device); the memory settings are checked on the driver
   *     ({@link ProbeMemoryCheck})
   */
  ProbeFitTask(ProbeSettings settings, int maxTokenId, ProbeTaskSettings task) {
    this.settings = settings;
    this.maxTokenId = maxTokenId;
    this.task = task;
  }

  /** The grouping key of a row: its probe. */
  static String key(Row r) {
    return r.getAs("probe_kind") + "\u0001" + r.getAs("layer") + "\u0001" + r.getAs("band") + "\u0001"
        + r.getAs("label_kind") + "\u0001" + r.getAs("balance") + "\u0001" + r.getAs("train_domain") + "\u0001" + r.getAs("seed");
  }

  /** A trained probe's scorer for the evaluation rows. */
  private interface Scorer {
    double score(EvalRow r);
  }

  /** One evaluation row at a time: its features decoded into a reused buffer, or its context ids. */
  private static final class EvalRow {
    private final ProbeTaskRows.Group group;
    private final float[] buffer;
    private int index;

    EvalRow(ProbeTaskRows.Group group) {
      this.group = group;
      this.buffer = group.features == null ? null : new float[group.features.dim()];
    }

    void at(int i) {
      index = i;
      if (buffer != null) {
        group.features.copyRow(i, buffer, 0);
      }
    }

    float[] features() {
      return buffer;
    }

    int[] context() {
      return group.context[index];
    }
  }

  /** The task's GPU for the MLP under auto or gpu, when Spark assigned one (TaskResources); else the CPU. */
  private ai.djl.Device mlpDevice() {
    try {
      return dev.knowable.jobs.runtime.TaskResources.device(task.device());
    } catch (IllegalStateException e) {
      throw new IllegalStateException("knowable.probe.task.device=gpu, but Spark assigned no GPU to this probe "
          + "task: set spark.task.resource.gpu.amount and spark.executor.resource.gpu.amount (and a discovery "
          + "script), or knowable.probe.task.device=auto", e);
    }
  }

  /** A trained probe: its probe_models columns (after seed, before probe_kind), scorer and log summary. */
  private record Trained(Object[] model, Scorer scorer, String summary) {}

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows) {
    ProbeTaskRows held = ProbeTaskRows.collect(rows);
    ProbeTaskRows.Group train = held.train;
    ProbeTaskRows.Group val = held.val;
    ProbeTaskRows.Group eval = held.eval;
    Row first = held.first;
    String kind = first.getAs("probe_kind");
    String config = kind + " layer=" + first.getAs("layer") + " band=" + first.getAs("band") + " kind="
        + first.getAs("label_kind") + " balance=" + first.getAs("balance") + " train_domain=" + first.getAs("train_domain") + " seed=" + first.getAs("seed");
    if (java.util.Arrays.stream(train.labels).distinct().count() < 2) {
      LOG.warn("Probe {}: the train split holds {} rows and not both classes; not trained", config, train.size());
      return Collections.emptyIterator();
    }
    long start = System.nanoTime();
    int seed = first.getAs("seed");
    Trained trained = ProbeTables.MLP.equals(kind) ? trainMlp(train, val, seed) : trainLogistic(kind, train, val);
    double[] scores = scoreEvaluation(trained.scorer(), eval);
    long clamped = (train.features == null ? 0 : train.features.clamped())
        + (val.features == null ? 0 : val.features.clamped()) + (eval.features == null ? 0 : eval.features.clamped());
    if (clamped > 0) {
      LOG.warn("Probe {}: {} feature values beyond fp16's range were held as +-65504", config, clamped);
    }
    LOG.info("Probe {}: {} train / {} val rows, {}, {} s", config, train.size(), val.size(), trained.summary(),
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    return List.of(fittedRow(first, seed, trained.model(), kind, eval, scores)).iterator();
  }

  /** The MLP probe, early-stopped on the val rows, on the task's device. */
  private Trained trainMlp(ProbeTaskRows.Group train, ProbeTaskRows.Group val, int seed) {
    MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(dense(train), train.labels, dense(val), val.labels, settings.mlp(),
        seed, mlpDevice());
    MlpWeights w = fit.weights();
    dev.knowable.probe.MlpScorer mlp = new dev.knowable.probe.MlpScorer(w);
    Scorer scorer = x -> mlp.probabilityOfClass1(x.features());
    Object[] model = new Object[] {w.inputDim(), w.hiddenDim(), w.w1(), w.b1(), w.w2(), w.b2(), (long) train.size(),
        (long) val.size(), fit.epochsRun(), fit.bestEpoch(), val.size() == 0 ? null : fit.bestValLoss(), null,
        fit.converged()};
    String summary = fit.epochsRun() + " epochs" + (fit.converged() ? "" : " (cap reached)") + ", best epoch "
        + fit.bestEpoch() + " (val loss " + String.format("%.4f", fit.bestValLoss()) + ")";
    return new Trained(model, scorer, summary);
  }

  /**
   * A logistic probe, its penalty picked on the val rows: the linear probe on the hidden
   * states, the combined control (context one-hot plus dense features) or a context baseline.
   */
  private Trained trainLogistic(String kind, ProbeTaskRows.Group train, ProbeTaskRows.Group val) {
    int[] trainY = train.labels;
    int[] valY = val.labels;
    LogisticProbeTrainer.Fit fit;
    Scorer scorer;
    int inputDim;
    if (ProbeTables.LINEAR.equals(kind)) {
      fit = LogisticProbeTrainer.trainDense(dense(train), trainY, dense(val), valY, settings.linear().grid(),
          settings.linear().maxIter(), settings.linear().tolerance());
      float[] stored = floats(fit.weights());
      float intercept = (float) fit.intercept();
      // Scored with the weights as probe_models stores them (floats), as the apply stage does.
      scorer = x -> StoredProbes.storedLinear(stored, intercept, x.features());
      inputDim = fit.weights().length;
    } else if (kind.startsWith(ProbeTables.COMBINED_PREFIX)) {
      int k = Integer.parseInt(kind.substring(ProbeTables.COMBINED_PREFIX.length()));
      ContextFeatures encoder = new ContextFeatures(k, maxTokenId);
      int oneHotDim = encoder.size();
      fit = LogisticProbeTrainer.trainMixed(active(train, encoder), floatRows(train), trainY, active(val, encoder),
          floatRows(val), valY, oneHotDim, settings.linear().grid(), settings.linear().maxIter(),
          settings.linear().tolerance());
      LogisticProbeTrainer.Fit f = fit;
      scorer = x -> LogisticProbeTrainer.mixedProbability(f, oneHotDim, encoder.active(x.context()), x.features());
      inputDim = fit.weights().length;
    } else {
      int k = Integer.parseInt(kind.substring(ProbeTables.CONTEXT_PREFIX.length()));
      ContextFeatures encoder = new ContextFeatures(k, maxTokenId);
      fit = LogisticProbeTrainer.train(LogisticProbeTrainer.oneHot(active(train, encoder), encoder.size()), trainY,
          LogisticProbeTrainer.oneHot(active(val, encoder), encoder.size()), valY, settings.linear().grid(),
          settings.linear().maxIter(), settings.linear().tolerance());
      LogisticProbeTrainer.Fit f = fit;
      scorer = x -> f.probabilityOfClass1(encoder.active(x.context()));
      inputDim = encoder.size();
    }
    float[] w = floats(fit.weights());
    Double valLoss = val.size() == 0 ? null : fit.valLosses()[java.util.Arrays.binarySearch(fit.grid(),
        fit.regParam())];
    Object[] model = new Object[] {inputDim, 0, w, new float[] {(float) fit.intercept()}, null, null,
        (long) train.size(), (long) val.size(), fit.iterations(), null, valLoss, fit.regParam(), fit.converged()};
    String summary = fit.iterations() + " iterations" + (fit.converged() ? "" : " (not converged)") + ", penalty "
        + fit.regParam() + " (val loss " + (valLoss == null ? "-" : String.format("%.4f", valLoss)) + ")";
    return new Trained(model, scorer, summary);
  }

  /** The trained probe's score of every evaluation row, in the group's order. */
  private static double[] scoreEvaluation(Scorer scorer, ProbeTaskRows.Group eval) {
    int n = eval.size();
    double[] scores = new double[n];
    EvalRow row = new EvalRow(eval);
    for (int i = 0; i < n; i++) {
      row.at(i);
      scores[i] = scorer.score(row);
    }
    return scores;
  }

  /** The task's one output row ({@link #fitted()}): the probe_models columns, then the evaluation arrays. */
  private Row fittedRow(Row first, int seed, Object[] model, String kind, ProbeTaskRows.Group eval,
      double[] scores) {
    List<Object> out = new ArrayList<>(List.of(settings.modelPair()));
    out.add(first.getAs("layer"));
    out.add(first.getAs("band"));
    out.add(first.getAs("label_kind"));
    out.add(first.getAs("balance"));
    out.add(first.getAs("train_domain"));
    out.add(seed);
    out.addAll(java.util.Arrays.asList(model));
    out.add(kind);
    out.addAll(List.of(eval.domains, eval.splits, scores, eval.labels, eval.docIds, eval.positions));
    return RowFactory.create(out.toArray());
  }

  /** The rows a probe task returns: a probe_models row plus its evaluation scores as parallel arrays. */
  static StructType fitted() {
    return ProbeTables.schema(Table.PROBE_MODELS)
        .add("eval_domains", DataTypes.createArrayType(DataTypes.StringType))
        .add("eval_splits", DataTypes.createArrayType(DataTypes.StringType))
        .add("eval_scores", DataTypes.createArrayType(DataTypes.DoubleType))
        .add("eval_labels", DataTypes.createArrayType(DataTypes.IntegerType))
        .add("eval_doc_ids", DataTypes.createArrayType(DataTypes.StringType))
        .add("eval_positions", DataTypes.createArrayType(DataTypes.IntegerType));
  }

  private static float[] floats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** The rows' features, or no rows of no features when the group is empty. */
  private static dev.knowable.probe.FeatureRows dense(ProbeTaskRows.Group g) {
    return g.features != null ? g.features : dev.knowable.probe.FeatureRows.of(new float[0][]);
  }

  /** The rows' few dense control features (H_S, H_S^2, ln(1 + position)) as float arrays. */
  private static float[][] floatRows(ProbeTaskRows.Group g) {
    float[][] out = new float[g.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new float[g.features.dim()];
      g.features.copyRow(i, out[i], 0);
    }
    return out;
  }

  private static int[][] active(ProbeTaskRows.Group g, ContextFeatures encoder) {
    int[][] out = new int[g.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = encoder.active(g.context[i]);
    }
    return out;
  }
}
