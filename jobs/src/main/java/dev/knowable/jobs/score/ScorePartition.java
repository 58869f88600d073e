package dev.knowable.jobs.score;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.ChunkedRows;
import dev.knowable.jobs.TaskResources;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TokenBatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores the documents of one partition (executor side). Token ids of the partition are
 * held in memory (ints, small next to the scores), grouped into token-budget batches,
 * longest first, and scored batch by batch as the output iterator is consumed, so at most
 * one batch of per-position rows is alive at a time.
 *
 * <p>Input rows: doc_id, split, token_ids, domain. Output rows follow small_scores or
 * large_scores.
 */
final class ScorePartition implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ScorePartition.class);

  private final String role;
  private final String modelPath;
  private final String engine;
  private final KnowableConfig.Score score;
  private final ScoreRequest request;
  private final int hiddenSize;
  private final HiddenEncoder hiddenEncoder;

  ScorePartition(String role, String modelPath, String engine, KnowableConfig.Score score, ScoreRequest request,
      int hiddenSize, HiddenEncoder hiddenEncoder) {
    this.role = role;
    this.modelPath = modelPath;
    this.engine = engine;
    this.score = score;
    this.request = request;
    this.hiddenSize = hiddenSize;
    this.hiddenEncoder = hiddenEncoder;
  }

  private record Doc(String docId, String split, int[] ids, String domain) {}

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    List<Doc> docs = new ArrayList<>();
    while (input.hasNext()) {
      Row r = input.next();
      List<Integer> ids = r.getList(2);
      int[] a = new int[ids.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = ids.get(i);
      }
      docs.add(new Doc(r.getString(0), r.getString(1), a, r.getString(3)));
    }
    if (docs.isEmpty()) {
      return java.util.Collections.emptyIterator();
    }
    LanguageModel model = ModelRegistry.get(Paths.get(modelPath), engine, TaskResources.device(score.device()),
        TaskResources.threads(score.threads()));
    int[] lengths = docs.stream().mapToInt(d -> d.ids().length).toArray();
    List<List<Integer>> batches = TokenBatcher.batches(lengths, score.tokenBudget(), score.maxBatchSize());
    long totalTokens = java.util.Arrays.stream(lengths).asLongStream().sum();
    int partition = TaskContext.get() == null ? -1 : TaskContext.get().partitionId();
    long start = System.nanoTime();

    return new ChunkedRows() {
      private int nextBatch;
      private long done;

      @Override
      protected boolean nextChunk() {
        if (nextBatch == batches.size()) {
          return false;
        }
        List<Integer> batch = batches.get(nextBatch++);
        List<int[]> seqs = new ArrayList<>(batch.size());
        batch.forEach(i -> seqs.add(docs.get(i).ids()));
        List<SequenceScores> scores = model.score(seqs, request);
        for (int b = 0; b < batch.size(); b++) {
          emit(docs.get(batch.get(b)), scores.get(b));
        }
        done += seqs.stream().mapToLong(s -> s.length).sum();
        return true;
      }

      @Override
      protected void finish() {
        if (hiddenEncoder != null) {
          hiddenEncoder.flush();
        }
        double s = (System.nanoTime() - start) / 1e9;
        LOG.info("{} partition {}: {} documents, {} tokens in {} batches, {} s, {} tokens/s", role, partition,
            docs.size(), totalTokens, batches.size(), String.format("%.2f", s),
            String.format("%.0f", done / Math.max(s, 1e-9)));
      }

      private void emit(Doc d, SequenceScores s) {
        int[] ids = d.ids();
        for (int p = 0; p < s.length(); p++) {
          int next = p + 1 < ids.length ? ids[p + 1] : -1;
          if (role.equals(ScoreStage.SMALL)) {
            Object[] v = new Object[10 + s.hidden().length];
            v[0] = d.docId();
            v[1] = d.split();
            v[2] = p;
            v[3] = ids[p];
            v[4] = p > 0 ? ids[p - 1] : -1;
            v[5] = next;
            v[6] = s.entropy()[p];
            v[7] = s.top1Id(p);
            v[8] = s.top1Prob(p);
            v[9] = d.domain();
            boolean kept = hiddenEncoder.keeps(s.entropy()[p]);
            for (int l = 0; l < s.hidden().length; l++) {
              v[10 + l] = kept ? hiddenEncoder.encode(s.hiddenAt(l, p, hiddenSize)) : null;
            }
            add(RowFactory.create(v));
          } else {
            add(RowFactory.create(d.docId(), d.split(), p, ids[p], next, s.entropy()[p], s.topkIdsAt(p),
                s.topkLogprobsAt(p), d.domain()));
          }
        }
      }
    };
  }
}
