package dev.knowable.ingest;

import dev.knowable.config.KnowableConfig.SplitFractions;
import dev.knowable.io.Hashing;
import java.io.Serializable;

/**
 * Assigns a document to train / val / test by a deterministic hash of its doc_id, so a
 * document keeps its split across reruns, input orders and cluster sizes, and all
 * positions of one document share a split (splits are by document, as in the paper).
 */
public final class SplitAssigner implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String TRAIN = "train";
  public static final String VAL = "val";
  public static final String TEST = "test";

  private final SplitFractions fractions;

  public SplitAssigner(SplitFractions fractions) {
    this.fractions = fractions;
  }

  public String splitOf(String docId) {
    double u = Hashing.unitInterval(fractions.salt(), groupOf(docId));
    if (u < fractions.train()) {
      return TRAIN;
    }
    return u < fractions.train() + fractions.val() ? VAL : TEST;
  }

  /** The part of doc_id that decides the split: up to the last group separator, if set. */
  String groupOf(String docId) {
    String sep = fractions.groupSeparator();
    int at = sep == null || sep.isEmpty() ? -1 : docId.lastIndexOf(sep);
    return at > 0 ? docId.substring(0, at) : docId;
  }

  /** The stable shard of a document among {@code shards}. */
  public static int shardOf(String docId, int shards) {
    return (int) Math.min(shards - 1, Math.floor(Hashing.unitInterval("knowable-shard-v1", docId) * shards));
  }
}
