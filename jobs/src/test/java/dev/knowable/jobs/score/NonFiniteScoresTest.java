package dev.knowable.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.ScoresTable;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.ModelException;
import dev.knowable.model.TestModels;
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
 * A model that returns NaN / Inf for some positions, through the real score stage: the
 * non-finite fixture model (random-small's weights; NaN logits after '@' = id 64, a +Inf
 * logit after '^' = id 94, so the entropy there is NaN). Byte-level tokenizer: position i
 * is byte i of the text.
 */
class NonFiniteScoresTest extends SparkTestBase {
  static final String NAN_TEXT = "mail me at a@b.c please"; // '@' is byte 12
  static final String INF_TEXT = "x^2 + y^2 = r^2"; // '^' at bytes 1, 7 and 13

  static KnowableConfig cfg(Path tmp, String... more) throws Exception {
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    lines.add(json.writeValueAsString(Map.of("doc_id", "nan:1", "domain", "d", "text", NAN_TEXT)));
    lines.add(json.writeValueAsString(Map.of("doc_id", "inf:1", "domain", "d", "text", INF_TEXT)));
    for (int i = 0; i < 6; i++) {
      lines.add(json.writeValueAsString(Map.of("doc_id", "ok:" + i, "domain", i % 2 == 0 ? "d" : "e",
          "text", "A plain sentence number " + i + ", with nothing odd in it.")));
    }
    Files.write(in.resolve("docs.jsonl"), lines, StandardCharsets.UTF_8);
    List<String> sets = new ArrayList<>(List.of("ingest.inputs=[{path=\"" + in + "\", format=jsonl}]",
        "tokenize.max-tokens=64", "tokenize.shards=2",
        "models.small.path=\"" + TestModels.fixture("non-finite") + "\"", "models.small.layers=[-1]",
        "models.large.path=\"" + TestModels.fixture("random-large") + "\""));
    sets.addAll(List.of(more));
    return config(tmp, sets.toArray(new String[0]));
  }

  @Test
  void documentsWithNonFiniteScoresGoToTheRejectsTableAndTheStageGoesOn(@TempDir Path tmp) throws Exception {
    KnowableConfig c = cfg(tmp);
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    new ScoreStage(ScoreStage.LARGE).run(spark, c, tables);

    Dataset<Row> rejects = tables.read("small_rejects", "score-small");
    assertThat(SparkSchemas.mismatches("small_rejects", rejects.schema())).isEmpty();
    List<Row> rows = rejects.orderBy("doc_id").collectAsList();
    assertThat(rows).hasSize(2);
    Row inf = rows.get(0);
    Row nan = rows.get(1);
    assertThat(inf.<String>getAs("doc_id")).isEqualTo("inf:1");
    assertThat(inf.<String>getAs("stage")).isEqualTo("score-small");
    assertThat(inf.<String>getAs("reason")).isEqualTo("non_finite");
    assertThat(inf.<Integer>getAs("position")).isEqualTo(1);
    assertThat(inf.<Integer>getAs("bad_positions")).isEqualTo(3);
    assertThat(inf.<String>getAs("detail")).isEqualTo(
        "3 position(s) with non-finite scores; the first is position 1 (input token id 94): entropy = NaN");
    assertThat(nan.<String>getAs("doc_id")).isEqualTo("nan:1");
    assertThat(nan.<Integer>getAs("position")).isEqualTo(12);
    assertThat(nan.<Integer>getAs("bad_positions")).isEqualTo(1);
    assertThat(nan.<String>getAs("detail")).contains("position 12 (input token id 64): entropy = NaN");

    Map<String, Object> manifest = tables.readManifest("small_scores");
    assertThat(((Number) manifest.get("rejected_documents")).intValue()).isEqualTo(2);
    assertThat(((Number) manifest.get("non_finite_positions")).intValue()).isEqualTo(4);
    assertThat(((Number) manifest.get("non_finite_entropies")).intValue()).isZero();
    assertThat(((Number) tables.readManifest("small_rejects").get("rows")).intValue()).isEqualTo(2);

    // The other six documents are scored in full; the rejected ones not at all.
    Dataset<Row> small = tables.read("small_scores", "score-small");
    long okTokens = tables.read("tokens", "tokenize").filter("doc_id LIKE 'ok:%'")
        .agg(org.apache.spark.sql.functions.sum("n_tokens")).first().getLong(0);
    assertThat(small.count()).isEqualTo(okTokens);
    assertThat(small.filter("doc_id NOT LIKE 'ok:%'").count()).isZero();
    assertThat(small.filter("isnan(entropy)").count()).isZero();

    // The large model is finite on every document; downstream reads leave out what the small rejected.
    Dataset<Row> large = tables.read("large_scores", "score-large");
    assertThat(large.filter("doc_id IN ('nan:1', 'inf:1')").count())
        .isEqualTo(NAN_TEXT.length() + INF_TEXT.length());
    assertThat(tables.read("large_rejects", "score-large").count()).isZero();
    Dataset<Row> seenDownstream = ScoresTable.withoutRejected(tables, large);
    assertThat(seenDownstream.count()).isEqualTo(okTokens);
    assertThat(seenDownstream.filter("doc_id NOT LIKE 'ok:%'").count()).isZero();
  }

  @Test
  void onNonFiniteFailStopsTheStageNamingDocumentAndPosition(@TempDir Path tmp) throws Exception {
    KnowableConfig c = cfg(tmp, "score.on-non-finite=fail");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    assertThatThrownBy(() -> new ScoreStage(ScoreStage.SMALL).run(spark, c, tables))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("knowable.score.on-non-finite = fail")
        .satisfiesAnyOf(
            e -> assertThat(e).hasMessageContaining("document 'nan:1' (domain d): 1 position(s) with non-finite "
                + "scores; the first is position 12 (input token id 64): entropy = NaN"),
            e -> assertThat(e).hasMessageContaining("document 'inf:1' (domain d): 3 position(s) with non-finite "
                + "scores; the first is position 1 (input token id 94): entropy = NaN"));
    assertThat(tables.isCommitted("small_scores")).isFalse();
    assertThat(tables.isCommitted("small_rejects")).isFalse();
    assertThat(Path.of(tables.tablePath("small_scores").toUri().getPath())).doesNotExist();
    assertThat(tables.isCommitted("tokens")).as("earlier tables are kept").isTrue();
  }

  @Test
  void anUnknownOnNonFiniteValueIsRefused(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> cfg(tmp, "score.on-non-finite=ignore"))
        .hasMessage("knowable.score.on-non-finite must be reject or fail, got 'ignore'");
  }
}
