package dev.knowable.jobs.score;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.ChunkedRows;
import dev.knowable.jobs.TaskResources;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TokenBatcher;
import dev.knowable.tokenize.Windows;
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
 * <p>A document longer than the window length is scored as consecutive overlapping windows
 * ({@link Windows}): each position is emitted once, by the window that gives it the most
 * left context, with its position, previous and next token taken from the whole document.
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
  private final int windowLength;
  private final int windowOverlap;

  ScorePartition(String role, String modelPath, String engine, KnowableConfig.Score score, ScoreRequest request,
      int hiddenSize, int windowLength, int windowOverlap) {
    this.role = role;
    this.modelPath = modelPath;
    this.engine = engine;
    this.score = score;
    this.request = request;
    this.hiddenSize = hiddenSize;
    this.windowLength = windowLength;
    this.windowOverlap = windowOverlap;
  }

  private record Doc(String docId, String split, int[] ids, String domain) {}

  /** One model input: a window of a document. */
  private record Piece(Doc doc, Windows.Window window) {
    int[] ids() {
      int[] all = doc.ids();
      Windows.Window w = window;
      return w.start() == 0 && w.end() == all.length ? all : java.util.Arrays.copyOfRange(all, w.start(), w.end());
    }
  }

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
    List<Piece> pieces = new ArrayList<>();
    for (Doc d : docs) {
      for (Windows.Window w : Windows.of(d.ids().length, windowLength, windowOverlap)) {
        pieces.add(new Piece(d, w));
      }
    }
    LanguageModel model = ModelRegistry.get(Paths.get(modelPath), engine, TaskResources.device(score.device()),
        TaskResources.threads(score.threads()));
    int[] lengths = pieces.stream().mapToInt(p -> p.window().length()).toArray();
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
        batch.forEach(i -> seqs.add(pieces.get(i).ids()));
        List<SequenceScores> scores = model.score(seqs, request);
        for (int b = 0; b < batch.size(); b++) {
          emit(pieces.get(batch.get(b)), scores.get(b));
        }
        done += seqs.stream().mapToLong(s -> s.length).sum();
        return true;
      }

      @Override
      protected void finish() {
        double s = (System.nanoTime() - start) / 1e9;
        LOG.info("{} partition {}: {} documents, {} windows, {} tokens in {} batches, {} s, {} tokens/s", role,
            partition, docs.size(), pieces.size(), totalTokens, batches.size(), String.format("%.2f", s),
            String.format("%.0f", done / Math.max(s, 1e-9)));
      }

      private void emit(Piece piece, SequenceScores s) {
        Doc d = piece.doc();
        int[] ids = d.ids();
        Windows.Window w = piece.window();
        // Window index i is document position w.start() + i; the positions before scoreFrom
        // are context only (the previous window scored them).
        for (int i = w.scoreFrom() - w.start(); i < s.length(); i++) {
          int p = w.start() + i;
          int next = p + 1 < ids.length ? ids[p + 1] : -1;
          if (role.equals(ScoreStage.SMALL)) {
            Object[] v = new Object[10 + s.hidden().length];
            v[0] = d.docId();
            v[1] = d.split();
            v[2] = p;
            v[3] = ids[p];
            v[4] = p > 0 ? ids[p - 1] : -1;
            v[5] = next;
            v[6] = s.entropy()[i];
            v[7] = s.top1Id(i);
            v[8] = s.top1Prob(i);
            v[9] = d.domain();
            for (int l = 0; l < s.hidden().length; l++) {
              v[10 + l] = s.hiddenAt(l, i, hiddenSize);
            }
            add(RowFactory.create(v));
          } else {
            add(RowFactory.create(d.docId(), d.split(), p, ids[p], next, s.entropy()[i], s.topkIdsAt(i),
                s.topkLogprobsAt(i), d.domain()));
          }
        }
      }
    };
  }
}
