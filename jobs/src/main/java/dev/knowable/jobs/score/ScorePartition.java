package dev.knowable.jobs.score;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.runtime.ChunkedRows;
import dev.knowable.jobs.runtime.TaskResources;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TokenBatcher;
import dev.knowable.tokenize.Windows;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.CollectionAccumulator;
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
 * A document's rows are emitted once all its windows are scored and all their outputs are
 * finite; otherwise the document is reported as {@link NonFinite} and left out whole.
 *
 * <p>Input rows: doc_id, split, token_ids, domain (read by name). Output rows follow
 * small_scores or large_scores, placed by {@link ScoreRowLayout}.
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
  private final int windowLength;
  private final int windowOverlap;
  private final boolean failOnNonFinite;
  private final int shard;
  /** Column positions of the output rows, from the table's schema. */
  private final ScoreRowLayout layout;
  /** Documents with non-finite scores; updated in the write job's result tasks, so once per task. */
  private final CollectionAccumulator<NonFinite> nonFinite;

  ScorePartition(String role, String modelPath, String engine, KnowableConfig.Score score, ScoreRequest request,
      int hiddenSize, HiddenEncoder hiddenEncoder, int windowLength, int windowOverlap, boolean failOnNonFinite,
      ScoreRowLayout layout) {
    this(role, modelPath, engine, score, request, hiddenSize, hiddenEncoder, windowLength, windowOverlap,
        failOnNonFinite, layout, -1, null);
  }

  private ScorePartition(String role, String modelPath, String engine, KnowableConfig.Score score,
      ScoreRequest request, int hiddenSize, HiddenEncoder hiddenEncoder, int windowLength, int windowOverlap,
      boolean failOnNonFinite, ScoreRowLayout layout, int shard, CollectionAccumulator<NonFinite> nonFinite) {
    this.role = role;
    this.modelPath = modelPath;
    this.engine = engine;
    this.score = score;
    this.request = request;
    this.hiddenSize = hiddenSize;
    this.hiddenEncoder = hiddenEncoder;
    this.windowLength = windowLength;
    this.windowOverlap = windowOverlap;
    this.failOnNonFinite = failOnNonFinite;
    this.layout = layout;
    this.shard = shard;
    this.nonFinite = nonFinite;
  }

  /** The function for one shard's job, reporting documents with non-finite scores to {@code acc}. */
  ScorePartition forShard(int k, CollectionAccumulator<NonFinite> acc) {
    return new ScorePartition(role, modelPath, engine, score, request, hiddenSize, hiddenEncoder, windowLength,
        windowOverlap, failOnNonFinite, layout, k, acc);
  }

  private record Doc(String docId, String split, int[] ids, String domain) {}

  /** One model input: a window of a document. */
  private record Piece(int docIndex, Doc doc, Windows.Window window) {
    int[] ids() {
      int[] all = doc.ids();
      Windows.Window w = window;
      return w.start() == 0 && w.end() == all.length ? all : java.util.Arrays.copyOfRange(all, w.start(), w.end());
    }
  }

  /** A scored window waiting for the other windows of its document. */
  private record Scored(Piece piece, SequenceScores scores) {}

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    List<Doc> docs = readDocuments(input);
    if (docs.isEmpty()) {
      return java.util.Collections.emptyIterator();
    }
    LanguageModel model = ModelRegistry.get(Paths.get(modelPath), engine, TaskResources.device(score.device()),
        TaskResources.threads(score.threads()));
    return new DocumentScorer(docs, model);
  }

  /**
   * The partition's documents, in doc_id order whatever order the input files were read in:
   * the same batches, so a retried or resumed shard is bit-identical to a clean run's.
   */
  private static List<Doc> readDocuments(Iterator<Row> input) {
    List<Doc> docs = new ArrayList<>();
    while (input.hasNext()) {
      Row r = input.next();
      List<Integer> ids = r.getList(r.fieldIndex("token_ids"));
      int[] a = new int[ids.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = ids.get(i);
      }
      docs.add(new Doc(r.getAs("doc_id"), r.getAs("split"), a, r.getAs("domain")));
    }
    docs.sort(java.util.Comparator.comparing(Doc::docId));
    return docs;
  }

  /**
   * Scores the windows of the partition's documents batch by batch as rows are pulled, holds
   * the windows of a multi-window document until its last one is scored, then emits or
   * rejects the whole document.
   */
  private final class DocumentScorer extends ChunkedRows {
    private final List<Doc> docs;
    private final LanguageModel model;
    private final List<Piece> pieces = new ArrayList<>();
    /** Per document, how many of its windows are not scored yet. */
    private final int[] windowsLeft;
    private final List<List<Integer>> batches;
    private final long totalTokens;
    private final int partition;
    private final long start = System.nanoTime();
    /** Windows of multi-window documents scored so far, until the last one arrives. */
    private final Map<Integer, List<Scored>> waiting = new HashMap<>();
    private int nextBatch;
    private long done;
    private int rejected;
    private boolean stopped;

    DocumentScorer(List<Doc> docs, LanguageModel model) {
      this.docs = docs;
      this.model = model;
      this.windowsLeft = new int[docs.size()];
      for (int di = 0; di < docs.size(); di++) {
        Doc d = docs.get(di);
        for (Windows.Window w : Windows.of(d.ids().length, windowLength, windowOverlap)) {
          pieces.add(new Piece(di, d, w));
          windowsLeft[di]++;
        }
      }
      int[] lengths = pieces.stream().mapToInt(p -> p.window().length()).toArray();
      this.batches = TokenBatcher.batches(lengths, score.tokenBudget(), score.maxBatchSize());
      this.totalTokens = java.util.Arrays.stream(lengths).asLongStream().sum();
      this.partition = TaskContext.get() == null ? -1 : TaskContext.get().partitionId();
    }

    @Override
    protected boolean nextChunk() {
      if (nextBatch == batches.size() || stopped) {
        return false;
      }
      List<Integer> batch = batches.get(nextBatch++);
      List<int[]> seqs = new ArrayList<>(batch.size());
      batch.forEach(i -> seqs.add(pieces.get(i).ids()));
      List<SequenceScores> scores = model.score(seqs, request);
      for (int b = 0; b < batch.size() && !stopped; b++) {
        Piece piece = pieces.get(batch.get(b));
        List<Scored> parts = waiting.computeIfAbsent(piece.docIndex(), k -> new ArrayList<>());
        parts.add(new Scored(piece, scores.get(b)));
        if (--windowsLeft[piece.docIndex()] == 0) {
          waiting.remove(piece.docIndex());
          finishDocument(piece.doc(), parts);
        }
      }
      done += seqs.stream().mapToLong(s -> s.length).sum();
      return true;
    }

    private void finishDocument(Doc d, List<Scored> parts) {
      NonFinite bad = firstNonFinite(d, parts, hiddenSize, request.layers());
      if (bad == null) {
        parts.sort(java.util.Comparator.comparingInt(s -> s.piece().window().start()));
        parts.forEach(s -> emit(s.piece(), s.scores()));
        return;
      }
      // NaN / Inf would fall out of every entropy band unnoticed: keep the document out of
      // the table and report it (the driver writes it to the rejects table, or fails).
      rejected++;
      if (nonFinite != null) {
        nonFinite.add(bad);
      }
      LOG.warn("{} shard {}: document '{}' rejected: {}", role, shard, d.docId(), bad.detail());
      if (failOnNonFinite) {
        stopped = true; // the driver fails the stage; no point scoring the rest
      }
    }

    @Override
    protected void finish() {
      if (hiddenEncoder != null) {
        hiddenEncoder.flush();
      }
      double s = (System.nanoTime() - start) / 1e9;
      LOG.info("{} shard {} partition {}: {} documents ({} rejected), {} windows, {} tokens in {} batches, {} s, "
          + "{} tokens/s", role, shard, partition, docs.size(), rejected, pieces.size(), totalTokens,
          batches.size(), String.format("%.2f", s), String.format("%.0f", done / Math.max(s, 1e-9)));
    }

    private void emit(Piece piece, SequenceScores s) {
      Doc d = piece.doc();
      int[] ids = d.ids();
      Windows.Window w = piece.window();
      boolean small = role.equals(ScoreStage.SMALL);
      // Window index i is document position w.start() + i; the positions before scoreFrom
      // are context only (the previous window scored them).
      for (int i = w.scoreFrom() - w.start(); i < s.length(); i++) {
        int p = w.start() + i;
        int next = p + 1 < ids.length ? ids[p + 1] : -1;
        Object[] v = layout.common(d.docId(), d.split(), p, ids[p], next, s.entropy()[i], d.domain());
        if (small) {
          boolean kept = hiddenEncoder.keeps(s.entropy()[i]);
          Object[] hidden = new Object[s.hidden().length];
          for (int l = 0; l < hidden.length; l++) {
            hidden[l] = kept ? hiddenEncoder.encode(s.hiddenAt(l, i, hiddenSize)) : null;
          }
          add(layout.small(v, p > 0 ? ids[p - 1] : -1, s.top1Id(i), s.top1Prob(i), hidden));
        } else {
          add(layout.large(v, s.topkIdsAt(i), s.topkLogprobsAt(i)));
        }
      }
    }
  }

  /**
   * The document's first non-finite output over the positions its windows emit, and how many
   * positions have one; null when all are finite. -Infinity top-k log-probs are finite
   * probabilities (0) and pass.
   */
  private static NonFinite firstNonFinite(Doc d, List<Scored> parts, int hiddenSize, List<Integer> layers) {
    int count = 0;
    int first = -1;
    String field = null;
    float value = 0;
    for (Scored part : parts) {
      SequenceScores s = part.scores();
      Windows.Window w = part.piece().window();
      for (int i = w.scoreFrom() - w.start(); i < s.length(); i++) {
        String f = null;
        float v = 0;
        if (!Float.isFinite(s.entropy()[i])) {
          f = "entropy";
          v = s.entropy()[i];
        }
        for (int j = 0; f == null && j < s.topK(); j++) {
          float lp = s.topkLogprobs()[i * s.topK() + j];
          if (Float.isNaN(lp) || lp == Float.POSITIVE_INFINITY) {
            f = "top-k log-prob " + j;
            v = lp;
          }
        }
        for (int l = 0; f == null && l < s.hidden().length; l++) {
          float[] h = s.hidden()[l];
          for (int x = i * hiddenSize; x < (i + 1) * hiddenSize; x++) {
            if (!Float.isFinite(h[x])) {
              f = "hidden_l" + layers.get(l) + "[" + (x - i * hiddenSize) + "]";
              v = h[x];
              break;
            }
          }
        }
        if (f != null) {
          count++;
          int p = w.start() + i;
          if (first < 0 || p < first) {
            first = p;
            field = f;
            value = v;
          }
        }
      }
    }
    return count == 0 ? null
        : new NonFinite(d.docId(), d.domain(), d.split(), count, first, d.ids()[first], field, String.valueOf(value));
  }
}
