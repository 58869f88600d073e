package dev.knowable.jobs.score;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Where each value of a small_scores or large_scores row goes, looked up by column name in
 * the table's schema (data-schemas/) once per stage, so the executor code never depends on
 * the column order. Small rows end with one hidden column per requested layer
 * ({@code hidden_l<layer>}); large rows carry the top-k ids and log-probs instead.
 */
final class ScoreRowLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int width;
  private final int docId;
  private final int split;
  private final int position;
  private final int tokenId;
  private final int prevTokenId;
  private final int nextTokenId;
  private final int entropy;
  private final int top1Id;
  private final int top1Prob;
  private final int topkIds;
  private final int topkLogprobs;
  private final int domain;
  private final int[] hidden;

  /** The layout of rows of {@code schema}; hidden columns hidden_l&lt;layer&gt; in the order of layers. */
  ScoreRowLayout(StructType schema, List<Integer> layers) {
    List<String> names = List.of(schema.fieldNames());
    this.width = names.size();
    this.docId = names.indexOf("doc_id");
    this.split = names.indexOf("split");
    this.position = names.indexOf("position");
    this.tokenId = names.indexOf("token_id");
    this.prevTokenId = names.indexOf("prev_token_id");
    this.nextTokenId = names.indexOf("next_token_id");
    this.entropy = names.indexOf("entropy");
    this.top1Id = names.indexOf("top1_id");
    this.top1Prob = names.indexOf("top1_prob");
    this.topkIds = names.indexOf("topk_ids");
    this.topkLogprobs = names.indexOf("topk_logprobs");
    this.domain = names.indexOf("domain");
    this.hidden = layers.stream().mapToInt(l -> names.indexOf("hidden_l" + l)).toArray();
    for (int c : new int[] {docId, split, position, tokenId, nextTokenId, entropy, domain}) {
      if (c < 0) {
        throw new IllegalArgumentException("scores schema lacks a column every scores table has: " + names);
      }
    }
  }

  /** The values every scores row carries; the caller fills the role's own columns before {@link #row}. */
  Object[] common(String doc, String splitName, int p, int token, int next, float h, String domainName) {
    Object[] v = new Object[width];
    v[docId] = doc;
    v[split] = splitName;
    v[position] = p;
    v[tokenId] = token;
    v[nextTokenId] = next;
    v[entropy] = h;
    v[domain] = domainName;
    return v;
  }

  /** Fills the small model's columns: previous token, top-1 prediction and one value per hidden layer. */
  Row small(Object[] v, int prev, int top1, float top1Probability, Object[] hiddenValues) {
    v[need(prevTokenId, "prev_token_id")] = prev;
    v[need(top1Id, "top1_id")] = top1;
    v[need(top1Prob, "top1_prob")] = top1Probability;
    if (hiddenValues.length != hidden.length) {
      throw new IllegalArgumentException(hiddenValues.length + " hidden values for " + hidden.length + " columns");
    }
    for (int l = 0; l < hidden.length; l++) {
      v[need(hidden[l], "hidden_l*")] = hiddenValues[l];
    }
    return RowFactory.create(v);
  }

  /** Fills the large model's columns: the top-k ids and log-probs. */
  Row large(Object[] v, Object ids, Object logprobs) {
    v[need(topkIds, "topk_ids")] = ids;
    v[need(topkLogprobs, "topk_logprobs")] = logprobs;
    return RowFactory.create(v);
  }

  private static int need(int index, String column) {
    if (index < 0) {
      throw new IllegalStateException("this scores schema has no column " + column);
    }
    return index;
  }
}
