package dev.knowable.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ModelException;
import dev.knowable.model.ReferenceCase;
import dev.knowable.model.TestModels;
import dev.knowable.schema.TableSchema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ingest -> tokenize -> score-small -> score-large in local[2] on the fixture models, with
 * the Python reference texts among the documents so the written tables can be checked
 * against the reference numbers (1e-4), plus the fixture corpus for row-count
 * reconciliation.
 */
class ExtractionStagesTest extends SparkTestBase {
  static final Path SMALL = TestModels.fixture("random-small");
  static final Path LARGE = TestModels.fixture("random-large");

  static KnowableConfig pipelineConfig(Path tmp, String... more) throws Exception {
    List<ReferenceCase> cases = ReferenceCase.read(SMALL);
    List<String> lines = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < cases.size(); i++) {
      lines.add(json.writeValueAsString(Map.of("doc_id", "ref:" + i, "domain", "reference", "text",
          cases.get(i).text())));
    }
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    Files.write(in.resolve("ref.jsonl"), lines, StandardCharsets.UTF_8);
    Files.copy(TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl/part-1.jsonl"),
        in.resolve("part-1.jsonl"));
    List<String> sets = new ArrayList<>(List.of(
        "ingest.inputs=[{path=\"" + in + "\", format=jsonl}]",
        // These tables are checked against the reference of each text's first 64 tokens.
        "tokenize.max-tokens=64", "tokenize.long-documents=truncate", "tokenize.shards=3", "score.token-budget=200",
        "models.small.path=\"" + SMALL + "\"", "models.small.layers=[0, -1]",
        "models.large.path=\"" + LARGE + "\"",
        // fp32 storage: the hidden states are checked against the Python reference at 1e-4.
        "score.hidden-dtype=float32"));
    sets.addAll(List.of(more));
    return config(tmp, sets.toArray(new String[0]));
  }

  /** The same with contract v2 exports of the same weights (scoring head in the graph). */
  @Test
  void contractV2ModelsWriteTablesThatMatchThePythonReference(@TempDir Path tmp) throws Exception {
    tablesReconcileAndMatchThePythonReference(tmp, TestModels.fixture("random-small-v2"),
        TestModels.fixture("random-large-v2"));
  }

  /** A v2 graph returns the top_k it was exported with: a larger top-k fails before any task runs. */
  @Test
  void aTopKAboveTheV2ExportsFailsOnTheDriver(@TempDir Path tmp) throws Exception {
    KnowableConfig c = pipelineConfig(tmp, "models.large.path=\"" + TestModels.fixture("random-large-v2") + "\"",
        "models.large.top-k=11");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.LARGE).run(spark, c, tables))
        .isInstanceOf(ModelException.class).hasMessageContaining("knowable.models.large: top-k 11")
        .hasMessageContaining("--top-k 11");
  }

  @Test
  void tablesReconcileAndMatchThePythonReference(@TempDir Path tmp) throws Exception {
    tablesReconcileAndMatchThePythonReference(tmp, SMALL, LARGE);
  }

  private void tablesReconcileAndMatchThePythonReference(Path tmp, Path smallModel, Path largeModel)
      throws Exception {
    KnowableConfig c = pipelineConfig(tmp, "models.small.path=\"" + smallModel + "\"",
        "models.large.path=\"" + largeModel + "\"");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    new ScoreStage(ScoreStage.LARGE).run(spark, c, tables);

    Dataset<Row> docs = tables.read("documents", "ingest");
    Dataset<Row> tokens = tables.read("tokens", "tokenize");
    Dataset<Row> small = tables.read("small_scores", "score-small");
    Dataset<Row> large = tables.read("large_scores", "score-large");
    for (String t : List.of("tokens", "small_scores", "large_scores")) {
      assertThat(SparkSchemas.mismatches(t, tables.read(t, "-").schema())).as("schema of %s", t).isEmpty();
    }
    // tokens per document = min(UTF-8 bytes, max_tokens) for the byte-level tokenizer.
    assertThat(tokens.count()).isEqualTo(docs.count());
    List<Row> joined = docs.join(tokens, "doc_id").select("text", "n_tokens", "n_tokens_full").collectAsList();
    for (Row r : joined) {
      int bytes = r.getString(0).getBytes(StandardCharsets.UTF_8).length;
      assertThat(r.getInt(2)).isEqualTo(bytes);
      assertThat(r.getInt(1)).isEqualTo(Math.min(bytes, 64));
    }
    assertThat(tables.readManifest("tokens").get("tokenizer_sha256"))
        .isEqualTo(ModelContract.read(SMALL).tokenizerSha256());
    for (String t : List.of("small_scores", "large_scores")) {
      assertThat(((Number) tables.readManifest(t).get("non_finite_entropies")).longValue()).as(t).isZero();
    }
    // One row per position in both score tables.
    long positions = tokens.agg(org.apache.spark.sql.functions.sum("n_tokens")).first().getLong(0);
    assertThat(small.count()).isEqualTo(positions);
    assertThat(large.count()).isEqualTo(positions);
    assertThat(small.select("doc_id", "position").distinct().count()).isEqualTo(positions);
    assertThat(List.of(small.columns())).contains("hidden_l0", "hidden_l2").doesNotContain("hidden_l1");
    assertThat(large.filter("size(topk_ids) != 10 OR size(topk_logprobs) != 10").count()).isZero();
    assertThat(small.filter("position = 0 AND prev_token_id != -1").count()).isZero();

    checkReference(small, "entropy", smallModel, true);
    checkReference(large, "entropy", largeModel, false);
  }

  private static void checkReference(Dataset<Row> scores, String col, Path model, boolean small) {
    List<ReferenceCase> cases = ReferenceCase.read(model);
    for (int i = 0; i < cases.size(); i++) {
      ReferenceCase rc = cases.get(i);
      List<Row> rows = scores.filter("doc_id = 'ref:" + i + "'").orderBy("position").collectAsList();
      assertThat(rows).hasSize(Math.min(rc.inputIds().length, 64));
      for (Row r : rows) {
        int p = r.getInt(r.fieldIndex("position"));
        assertThat(r.getInt(r.fieldIndex("token_id"))).isEqualTo(rc.inputIds()[p]);
        assertThat((double) r.getFloat(r.fieldIndex(col))).as("%s case %d pos %d", col, i, p)
            .isCloseTo(rc.entropy()[p], within(1e-4));
        // The tokens table holds the truncated document: its last position has no next token.
        int next = p + 1 < rows.size() ? rc.inputIds()[p + 1] : -1;
        assertThat(r.getInt(r.fieldIndex("next_token_id"))).isEqualTo(next);
        if (small) {
          assertThat((double) r.getFloat(r.fieldIndex("top1_prob"))).isCloseTo(rc.top1Prob()[p], within(1e-4));
          List<Float> h = r.getList(r.fieldIndex("hidden_l2"));
          float[] want = rc.hidden().get(2)[p];
          assertThat(h).hasSize(want.length);
          for (int x = 0; x < want.length; x++) {
            assertThat((double) h.get(x)).isCloseTo(want[x], within(1e-4));
          }
        } else {
          List<Float> lp = r.getList(r.fieldIndex("topk_logprobs"));
          for (int j = 0; j < 10; j++) {
            assertThat((double) lp.get(j)).isCloseTo(rc.topkLogprobs()[p][j], within(1e-4));
          }
        }
      }
    }
  }

  @Test
  void aPairWithDifferentTokenizersIsRefused(@TempDir Path tmp) throws Exception {
    KnowableConfig c = pipelineConfig(tmp, "models.large.path=\"" + TestModels.fixture("other-tokenizer") + "\"");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    assertThatThrownBy(() -> new TokenizeStage().run(spark, c, tables))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("Tokenizer mismatch: the large model other-tokenizer")
        .hasMessageContaining("identical tokenizer");
    assertThat(tables.isCommitted("tokens")).as("nothing is written on refusal").isFalse();
    assertThat(tables.isCommitted("documents")).as("earlier tables are kept").isTrue();
  }

  @Test
  void maxTokensLongerThanTheModelContextFailsFast(@TempDir Path tmp) throws Exception {
    KnowableConfig c = pipelineConfig(tmp, "tokenize.max-tokens=4096");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL).run(spark, c, tables))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("max-tokens=4096 exceeds the small model random-small's max_context 128");
  }

  @Test
  void scoringBeforeTokenizingNamesTheMissingStage(@TempDir Path tmp) throws Exception {
    KnowableConfig c = pipelineConfig(tmp);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL).run(spark, c, new RunTables(spark, c)))
        .hasMessageContaining("Table 'tokens' of run test is not committed")
        .hasMessageContaining("Run the stage that writes it");
  }
}
