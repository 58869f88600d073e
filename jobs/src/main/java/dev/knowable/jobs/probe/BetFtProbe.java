package dev.knowable.jobs.probe;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.evaluate.ProbeMetricsFunction;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.label.LabelKind;
import dev.knowable.model.ModelContract;
import dev.knowable.model.TorchScriptModel;
import dev.knowable.probe.BetFtSettings;
import dev.knowable.probe.LmHeadFineTuner;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.tables.Table;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * BET-FT (docs/METHOD.md 6.5): per (band, label kind, balance, train domain), the small
 * model's own LM head fine-tuned ({@link LmHeadFineTuner}) on the train rows' final-layer
 * hidden states toward the large model's stored top-k distribution (large_scores), stopped
 * on the val rows' loss; the evaluation rows are scored with the fine-tuned head's entropy.
 * One Spark task per fit; the head travels as a broadcast. The scores are thresholded on
 * val like BET's ({@link ProbeMetricsFunction}).
 */
final class BetFtProbe {
  private static final Logger LOG = LoggerFactory.getLogger(BetFtProbe.class);

  private BetFtProbe() {}

  /** The head as the tasks receive it. */
  record Head(int vocab, int dim, float[] weight, float[] bias) implements java.io.Serializable {}

  /**
   * The fitted BET-FT rows ({@link ProbeFitTask#fitted()}), or null when BET-FT is off or
   * cannot run here (the reason is logged): no small model path, the final layer not among
   * the stored layers, no large_scores, or only construction labels.
   */
  static Dataset<Row> fits(SparkSession spark, KnowableConfig config, RunTables tables, Dataset<Row> examples,
      List<String> trainDomains, ProbeSettings settings) {
    BetFtSettings s = config.betFt();
    if (!s.enabled()) {
      return null;
    }
    String path = config.small().path();
    if (path == null || path.isBlank()) {
      LOG.warn("BET-FT skipped: knowable.models.small.path is empty, so there is no LM head to fine-tune");
      return null;
    }
    ModelContract contract = ModelContract.read(Path.of(path));
    int finalLayer = contract.numLayers();
    String hidden = "hidden_l" + finalLayer;
    List<String> stored = ProbeExamplesTable.hiddenColumns(examples.schema());
    if (!stored.contains(hidden)) {
      LOG.warn("BET-FT skipped: it reads the final layer {} (after the final norm), but probe_examples stores {}"
          + " (add {} to knowable.models.small.layers, or -1)", finalLayer, stored, finalLayer);
      return null;
    }
    if (!tables.isCommitted(Table.LARGE_SCORES)) {
      LOG.warn("BET-FT skipped: run {} has no large_scores (the fine-tuning target)", tables.runId());
      return null;
    }
    Dataset<Row> rows = examples.filter(col("label_kind").notEqual(LabelKind.CONSTRUCTION.tableValue()));
    Object recorded = tables.readManifest(Table.SMALL_SCORES).get("vocab_limit");
    int vocab = recorded instanceof Number n ? n.intValue() : contract.effectiveVocabLimit(config.small().vocabLimit());
    Head head;
    try (TorchScriptModel model = TorchScriptModel.load(contract, ai.djl.Device.cpu())) {
      TorchScriptModel.OutputWeights w = model.outputWeights(vocab);
      head = new Head(w.vocab(), w.dim(), w.weight(), w.bias());
      LOG.info("BET-FT: the head {} of {} ({} x {}{}), fine-tuned on {} toward large_scores' top-k; {}", w.name(),
          path, w.vocab(), w.dim(), w.bias() == null ? ", no bias" : " + bias", hidden, s);
    }
    Broadcast<Head> shared = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(head);
    Column fitTargets = settings.pooled() ? array(col("domain"), lit(ProbeSettings.POOLED)) : array(col("domain"));
    Dataset<Row> base = rows.select(lit(ProbeTables.BET_FT).as("probe_kind"), col("band"), col("label_kind"),
        col("balance"), col("domain"), col("split"), col("label"), col(hidden).as("features"), col("doc_id"),
        col("position"));
    Dataset<Row> large = tables.read(Table.LARGE_SCORES)
        .select(col("doc_id"), col("position"), col("topk_ids"), col("topk_logprobs"));
    Dataset<Row> fit = base.filter(col("split").isin("train", "val"))
        .join(large, new String[] {"doc_id", "position"})
        .withColumn("train_domain", explode(fitTargets))
        .filter(col("train_domain").isin(trainDomains.toArray()))
        .withColumn("role", lit(ProbeFitTask.FIT));
    Dataset<Row> eval = base.filter(col("split").isin("val", "test"))
        .withColumn("topk_ids", lit(null).cast(DataTypes.createArrayType(DataTypes.IntegerType)))
        .withColumn("topk_logprobs", lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType)))
        .withColumn("train_domain", explode(array(trainDomains.stream().map(d -> lit(d)).toArray(Column[]::new))))
        .withColumn("role", lit(ProbeFitTask.EVAL));
    return fit.unionByName(eval).withColumn("seed", lit(settings.seeds().get(0)))
        .withColumn("layer", lit(null).cast(DataTypes.IntegerType))
        .groupByKey((org.apache.spark.api.java.function.MapFunction<Row, String>) ProbeFitTask::key,
            Encoders.STRING())
        .flatMapGroups(new Task(settings.modelPair(), s, shared), Encoders.row(ProbeFitTask.fitted()));
  }

  /** One fit: the rows of one (band, label kind, balance, train domain). */
  static final class Task implements FlatMapGroupsFunction<String, Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String modelPair;
    private final BetFtSettings settings;
    private final Broadcast<Head> head;

    Task(String modelPair, BetFtSettings settings, Broadcast<Head> head) {
      this.modelPair = modelPair;
      this.settings = settings;
      this.head = head;
    }

    private record Item(String docId, int position, String domain, String split, int label, float[] x, int[] ids,
        float[] logprobs) {}

    @Override
    public Iterator<Row> call(String key, Iterator<Row> rows) {
      List<Item> train = new ArrayList<>();
      List<Item> val = new ArrayList<>();
      List<Item> eval = new ArrayList<>();
      Row first = null;
      while (rows.hasNext()) {
        Row r = rows.next();
        first = first == null ? r : first;
        boolean fit = ProbeFitTask.FIT.equals(r.getAs("role"));
        String split = r.getAs("split");
        Item item = new Item(r.getAs("doc_id"), r.<Integer>getAs("position"), r.getAs("domain"), split,
            r.<Integer>getAs("label"), floats(r.getList(r.fieldIndex("features"))),
            fit ? ints(r.getList(r.fieldIndex("topk_ids"))) : null,
            fit ? floats(r.getList(r.fieldIndex("topk_logprobs"))) : null);
        (fit ? ("train".equals(split) ? train : val) : eval).add(item);
      }
      // Shuffle order depends on the cluster layout; the fit must not.
      Comparator<Item> order = Comparator.comparing(Item::docId).thenComparingInt(Item::position);
      train.sort(order);
      val.sort(order);
      eval.sort(Comparator.comparing(Item::domain).thenComparing(Item::split).thenComparing(order));
      String config = "bet_ft band=" + first.getAs("band") + " kind=" + first.getAs("label_kind") + " balance="
          + first.getAs("balance") + " train_domain=" + first.getAs("train_domain");
      if (train.isEmpty()) {
        LOG.warn("BET-FT {}: no train rows with large-model targets; not fitted", config);
        return Collections.emptyIterator();
      }
      Head h = head.value();
      LmHeadFineTuner.Head init = LmHeadFineTuner.Head.of(h.vocab(), h.dim(), h.weight(), h.bias());
      int seed = first.getAs("seed");
      long start = System.nanoTime();
      LmHeadFineTuner.Fit fit = LmHeadFineTuner.train(init, features(train), targets(train, h.vocab()),
          features(val), targets(val, h.vocab()), settings, seed);
      int n = eval.size();
      double[] scores = new double[n];
      String[] domains = new String[n];
      String[] splits = new String[n];
      int[] labels = new int[n];
      String[] docIds = new String[n];
      int[] positions = new int[n];
      for (int i = 0; i < n; i++) {
        Item e = eval.get(i);
        scores[i] = fit.head().entropy(e.x());
        domains[i] = e.domain();
        splits[i] = e.split();
        labels[i] = e.label();
        docIds[i] = e.docId();
        positions[i] = e.position();
      }
      LOG.info("BET-FT {}: {} train / {} val rows, {} epochs{}, best epoch {} (val loss {} -> {}), {} s", config,
          train.size(), val.size(), fit.epochsRun(), fit.converged() ? "" : " (cap reached)", fit.bestEpoch(),
          String.format("%.4f", fit.initialValLoss()), String.format("%.4f", fit.bestValLoss()),
          String.format("%.1f", (System.nanoTime() - start) / 1e9));
      // The fine-tuned head (vocab x d) is not stored: it is refitted from these rows and the seed.
      Object[] out = {modelPair, null, first.getAs("band"), first.getAs("label_kind"), first.getAs("balance"),
          first.getAs("train_domain"), seed, h.dim(), 0, null, null, null, null, (long) train.size(),
          (long) val.size(), fit.epochsRun(), fit.bestEpoch(), val.isEmpty() ? null : fit.bestValLoss(), null,
          fit.converged(), ProbeTables.BET_FT, domains, splits, scores, labels, docIds, positions};
      return List.of(RowFactory.create(out)).iterator();
    }

    private static float[][] features(List<Item> items) {
      return items.stream().map(Item::x).toArray(float[][]::new);
    }

    private static LmHeadFineTuner.Target[] targets(List<Item> items, int vocab) {
      return items.stream().map(i -> LmHeadFineTuner.target(vocab, i.ids(), i.logprobs()))
          .toArray(LmHeadFineTuner.Target[]::new);
    }

    private static float[] floats(List<Object> values) {
      float[] out = new float[values.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = ((Number) values.get(i)).floatValue();
      }
      return out;
    }

    private static int[] ints(List<Object> values) {
      int[] out = new int[values.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = ((Number) values.get(i)).intValue();
      }
      return out;
    }
  }
}
