package dev.knowable.jobs.iclt;

import dev.knowable.config.KnowableConfig;
import dev.knowable.iclt.IcltResult;
import dev.knowable.iclt.IcltScorer;
import dev.knowable.iclt.IcltScores;
import dev.knowable.iclt.Separator;
import dev.knowable.jobs.runtime.ChunkedRows;
import dev.knowable.jobs.runtime.TaskResources;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the in-context learning test on the documents of one partition (executor side).
 * Input rows: doc_id, token_ids, positions (the selected positions of the document); each
 * document is read once. The model is loaded once per executor JVM ({@link ModelRegistry})
 * on the device Spark assigned to the task; prompts are scored a document at a time, the
 * hint sequences of all its positions batched by token budget ({@link IcltScorer}).
 *
 * <p>Output rows: doc_id, position, separator, prompt_length, prompt_entropy,
 * n_candidates, mi, mi_ratio, min_entropy, hint_repeat.
 */
final class IcltPartition implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(IcltPartition.class);

  private final String modelPath;
  private final String engine;
  private final KnowableConfig.Score score;
  private final int vocabLimit;
  private final int candidates;
  private final List<Separator> separators;
  private final int tokenBudget;

  IcltPartition(String modelPath, String engine, KnowableConfig.Score score, int vocabLimit, int candidates,
      List<Separator> separators, int tokenBudget) {
    this.modelPath = modelPath;
    this.engine = engine;
    this.score = score;
    this.vocabLimit = vocabLimit;
    this.candidates = candidates;
    this.separators = List.copyOf(separators);
    this.tokenBudget = tokenBudget;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    if (!input.hasNext()) {
      return Collections.emptyIterator();
    }
    LanguageModel model = ModelRegistry.get(Paths.get(modelPath), engine, TaskResources.device(score.device()),
        TaskResources.threads(score.threads()));
    IcltScorer scorer = new IcltScorer(model, vocabLimit, candidates, separators, tokenBudget);
    int partition = TaskContext.get() == null ? -1 : TaskContext.get().partitionId();
    long start = System.nanoTime();

    return new ChunkedRows() {
      private long positions;
      private long docs;

      @Override
      protected boolean nextChunk() {
        if (!input.hasNext()) {
          return false;
        }
        scoreDocument(input.next());
        return true;
      }

      @Override
      protected void finish() {
        double s = (System.nanoTime() - start) / 1e9;
        LOG.info("iclt partition {}: {} documents, {} positions x {} separators in {} s ({} s per position)",
            partition, docs, positions, separators.size(), String.format("%.1f", s),
            String.format("%.3f", s / Math.max(positions, 1)));
      }

      private void scoreDocument(Row r) {
        String docId = r.getString(0);
        List<Integer> idList = r.getList(1);
        int[] ids = idList.stream().mapToInt(Integer::intValue).toArray();
        List<Integer> at = new ArrayList<>(r.getList(2));
        Collections.sort(at);
        List<int[]> prompts = new ArrayList<>(at.size());
        for (int p : at) {
          if (p < 0 || p >= ids.length) {
            throw new IllegalStateException("iclt: position " + p + " is outside document " + docId + " ("
                + ids.length + " tokens): the positions and the tokens table disagree");
          }
          prompts.add(Arrays.copyOf(ids, p + 1));
        }
        List<IcltResult> results = scorer.score(prompts);
        for (int i = 0; i < at.size(); i++) {
          IcltResult res = results.get(i);
          for (Separator sep : separators) {
            IcltScores sc = res.scores(sep.name());
            add(RowFactory.create(docId, at.get(i), sep.name(), res.promptLength(), res.promptEntropy(),
                res.candidates().length, sc.mi(), sc.miRatio(), sc.minEntropy(), sc.hintRepeat()));
          }
        }
        positions += at.size();
        docs++;
      }
    };
  }
}
