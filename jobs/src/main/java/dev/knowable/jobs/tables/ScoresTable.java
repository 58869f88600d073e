package dev.knowable.jobs.tables;

import static org.apache.spark.sql.functions.col;

import dev.knowable.tables.Table;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** small_scores and large_scores (written by the score stages) as the stages that read them see them. */
public final class ScoresTable {
  /** The model roles: small_scores, small_rejects; large_scores, large_rejects. */
  public static final String SMALL = Table.SMALL;
  public static final String LARGE = Table.LARGE;

  private ScoresTable() {}

  /**
   * {@code scores} without the documents either model rejected (committed rejects tables of
   * the run), so a document the large model failed on does not reach the labels through its
   * small-model scores (band quantiles, position counts) either.
   */
  public static Dataset<Row> withoutRejected(RunTables tables, Dataset<Row> scores) {
    Dataset<Row> out = scores;
    for (String role : List.of(SMALL, LARGE)) {
      Table rejects = Table.rejectsOf(role);
      // Runs written before rejects tables existed have none; an empty one needs no join.
      if (tables.isCommitted(rejects)
          && ((Number) tables.readManifest(rejects).getOrDefault("rows", 0)).longValue() > 0) {
        Dataset<Row> bad = tables.read(rejects).select(col("doc_id").as("rejected_doc_id"));
        out = out.join(bad, out.col("doc_id").equalTo(bad.col("rejected_doc_id")), "left_anti");
      }
    }
    return out;
  }
}
