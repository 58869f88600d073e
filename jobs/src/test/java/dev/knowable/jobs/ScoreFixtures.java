package dev.knowable.jobs;

import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.schema.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Builds small_scores / large_scores DataFrames in their data-schemas layout from per-position records. */
public final class ScoreFixtures {
  /** One scored position of a document; hidden may be null when a test needs no features. */
  public record Position(String docId, String domain, String split, int position, int tokenId, int prevTokenId,
      float smallEntropy, float largeEntropy, float[] hidden) {}

  public static final String HIDDEN = "hidden_l2";

  private ScoreFixtures() {}

  public static Dataset<Row> small(SparkSession spark, List<Position> positions) {
    StructType schema = SparkSchemas.withPatternColumns(TableSchema.of("small_scores"), List.of(HIDDEN));
    List<Row> rows = new ArrayList<>();
    for (Position p : positions) {
      rows.add(row(schema, Map.ofEntries(Map.entry("doc_id", p.docId()), Map.entry("split", p.split()),
          Map.entry("position", p.position()), Map.entry("token_id", p.tokenId()),
          Map.entry("prev_token_id", p.prevTokenId()), Map.entry("next_token_id", -1),
          Map.entry("entropy", p.smallEntropy()), Map.entry("top1_id", 0), Map.entry("top1_prob", 0.5f),
          Map.entry("domain", p.domain()), Map.entry(HIDDEN, p.hidden() == null ? new float[] {0f} : p.hidden()))));
    }
    return spark.createDataFrame(rows, schema);
  }

  public static Dataset<Row> large(SparkSession spark, List<Position> positions) {
    StructType schema = SparkSchemas.of("large_scores");
    List<Row> rows = new ArrayList<>();
    for (Position p : positions) {
      rows.add(row(schema, Map.of("doc_id", p.docId(), "split", p.split(), "position", p.position(),
          "token_id", p.tokenId(), "next_token_id", -1, "entropy", p.largeEntropy(), "topk_ids", new int[] {0},
          "topk_logprobs", new float[] {-0.1f}, "domain", p.domain())));
    }
    return spark.createDataFrame(rows, schema);
  }

  /** large_scores with each position's top-k ids and log-probs, keyed "doc_id/position". */
  public static Dataset<Row> large(SparkSession spark, List<Position> positions, Map<String, int[]> topkIds,
      Map<String, float[]> topkLogprobs) {
    StructType schema = SparkSchemas.of("large_scores");
    List<Row> rows = new ArrayList<>();
    for (Position p : positions) {
      String key = p.docId() + "/" + p.position();
      rows.add(row(schema, Map.of("doc_id", p.docId(), "split", p.split(), "position", p.position(),
          "token_id", p.tokenId(), "next_token_id", -1, "entropy", p.largeEntropy(), "topk_ids", topkIds.get(key),
          "topk_logprobs", topkLogprobs.get(key), "domain", p.domain())));
    }
    return spark.createDataFrame(rows, schema);
  }

  private static Row row(StructType schema, Map<String, Object> values) {
    Object[] out = new Object[schema.size()];
    int i = 0;
    for (StructField f : schema.fields()) {
      if (!values.containsKey(f.name())) {
        throw new IllegalStateException("fixture has no value for column " + f.name());
      }
      Object v = values.get(f.name());
      out[i++] = v instanceof float[] a ? boxed(a) : v instanceof int[] a ? java.util.Arrays.stream(a).boxed().toList()
          : v;
    }
    return RowFactory.create(out);
  }

  private static List<Float> boxed(float[] a) {
    List<Float> out = new ArrayList<>();
    for (float x : a) {
      out.add(x);
    }
    return out;
  }
}
