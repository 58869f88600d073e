package dev.knowable.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.knowable.config.KnowableConfig;
import dev.knowable.io.Hashing;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TestModels;
import dev.knowable.tokenize.Windows;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Long documents through the real stages on the fixture models (byte-level tokenizer: one
 * token per UTF-8 byte, max_context 128): windowed scoring covers every position once with
 * the entropies of the window scored alone; truncation keeps the prefix; a document with an
 * id the model has no embedding for is rejected and the others are scored.
 */
class LongDocumentsTest extends SparkTestBase {
  static final Path SMALL = TestModels.fixture("random-small");
  static final Path LARGE = TestModels.fixture("random-large");
  static final int MAX = 64;
  // window-overlap 0.25 of 64: windows [0,64) [48,112) [96,160) ... each scoring from the previous end.
  static final int OVERLAP = 16;

  /** 301 bytes = 301 tokens: windows [0,64) [48,112) [96,160) [144,208) [192,256) [240,301). */
  static String longText() {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (sb.length() < 301) {
      sb.append("w").append(i++ % 7).append(i % 3 == 0 ? ". " : " ");
    }
    return sb.substring(0, 301);
  }

  private static Path corpus(Path tmp, Map<String, String> docs) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    for (var e : docs.entrySet()) {
      lines.add(json.writeValueAsString(Map.of("doc_id", e.getKey(), "domain", "d", "text", e.getValue())));
    }
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    Files.write(in.resolve("docs.jsonl"), lines, StandardCharsets.UTF_8);
    return in;
  }

  private static KnowableConfig cfg(Path tmp, Path in, Path small, String... more) {
    List<String> sets = new ArrayList<>(List.of("ingest.inputs=[{path=\"" + in + "\", format=jsonl}]",
        "tokenize.max-tokens=" + MAX, "tokenize.shards=2", "score.token-budget=256",
        "models.small.path=\"" + small + "\"", "models.small.layers=[-1]", "models.large.path=\"" + LARGE + "\"",
        // Compared with the model's own float outputs: store them unrounded.
        "score.hidden-dtype=float32"));
    sets.addAll(List.of(more));
    return config(tmp, sets.toArray(new String[0]));
  }

  @Test
  void windowsCoverEveryPositionOnceWithTheEntropiesOfEachWindowScoredAlone(@TempDir Path tmp) throws Exception {
    String text = longText();
    Path in = corpus(tmp, Map.of("long", text, "short", "a short one"));
    KnowableConfig c = cfg(tmp, in, SMALL, "tokenize.window-overlap=0.25");
    assertThat(c.tokenize().overlapTokens()).isEqualTo(OVERLAP);
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    new ScoreStage(ScoreStage.LARGE).run(spark, c, tables);

    int n = text.getBytes(StandardCharsets.UTF_8).length;
    Row tok = tables.read("tokens", "-").filter("doc_id = 'long'").first();
    assertThat(tok.getInt(tok.fieldIndex("n_tokens"))).isEqualTo(n);
    assertThat(tok.getInt(tok.fieldIndex("n_tokens_full"))).isEqualTo(n);
    int[] ids = tok.getList(tok.fieldIndex("token_ids")).stream().mapToInt(x -> (Integer) x).toArray();

    for (String t : List.of("small_scores", "large_scores", "small_rejects", "large_rejects")) {
      assertThat(SparkSchemas.mismatches(t, tables.read(t, "-").schema())).as("schema of %s", t).isEmpty();
      if (t.endsWith("_rejects")) {
        assertThat(tables.read(t, "-").count()).as(t).isZero();
      }
    }
    // Every position of both documents exactly once, in both score tables.
    for (String t : List.of("small_scores", "large_scores")) {
      Row r = tables.read(t, "-").filter("doc_id = 'long'")
          .selectExpr("count(*)", "count(DISTINCT position)", "min(position)", "max(position)").first();
      assertThat(List.of(r.getLong(0), r.getLong(1), (long) r.getInt(2), (long) r.getInt(3))).as(t)
          .containsExactly((long) n, (long) n, 0L, (long) n - 1);
      assertThat(tables.read(t, "-").filter("doc_id = 'short'").count()).isEqualTo(11);
    }

    List<Row> rows = tables.read("small_scores", "-").filter("doc_id = 'long'").orderBy("position")
        .select("position", "token_id", "prev_token_id", "next_token_id", "entropy", "hidden_l2").collectAsList();
    // Ids from the whole document, across window boundaries.
    for (Row r : rows) {
      int p = r.getInt(0);
      assertThat(new int[] {r.getInt(1), r.getInt(2), r.getInt(3)}).as("ids at %d", p)
          .containsExactly(ids[p], p > 0 ? ids[p - 1] : -1, p + 1 < n ? ids[p + 1] : -1);
    }
    // Each window scored alone, one sequence at a time, by the same model in this JVM: the
    // positions it owns carry its entropies and hidden states (causal model: a position's
    // outputs depend on the window's tokens up to it).
    List<Windows.Window> windows = Windows.of(n, MAX, OVERLAP);
    assertThat(windows).extracting(Windows.Window::start).containsExactly(0, 48, 96, 144, 192, 240);
    assertThat(windows).extracting(Windows.Window::scoreFrom).containsExactly(0, 64, 112, 160, 208, 256);
    LanguageModel small = ModelRegistry.get(SMALL, "pytorch", Device.cpu(), 1);
    int hidden = small.contract().hiddenSize();
    int layer = small.contract().numLayers();
    for (Windows.Window w : windows) {
      int[] alone = java.util.Arrays.copyOfRange(ids, w.start(), w.end());
      SequenceScores s = small.score(List.of(alone), new ScoreRequest(small.contract().vocabLimit(), 1,
          List.of(layer))).get(0);
      for (int p = w.scoreFrom(); p < w.end(); p++) {
        Row r = rows.get(p);
        assertThat((double) r.getFloat(4)).as("entropy at %d (window from %d)", p, w.start())
            .isCloseTo(s.entropy()[p - w.start()], within(1e-5));
        List<Float> h = r.getList(5);
        assertThat((double) h.get(7)).isCloseTo(s.hiddenAt(0, p - w.start(), hidden)[7], within(1e-5));
      }
    }
    // The overlap is context, not a repeat: position 64 is scored with 16 tokens before it, so
    // its entropy differs from the first 65 tokens scored at once (128 context fits here).
    SequenceScores prefix = small.score(List.of(java.util.Arrays.copyOf(ids, 65)),
        new ScoreRequest(small.contract().vocabLimit(), 1, List.of())).get(0);
    assertThat(Math.abs(rows.get(64).getFloat(4) - prefix.entropy()[64])).isGreaterThan(1e-4f);
    assertThat(tables.readManifest("small_scores")).containsEntry("window_length", MAX)
        .containsEntry("window_overlap", OVERLAP);
  }

  @Test
  void truncateKeepsTheFirstMaxTokens(@TempDir Path tmp) throws Exception {
    Path in = corpus(tmp, Map.of("long", longText()));
    KnowableConfig c = cfg(tmp, in, SMALL, "tokenize.long-documents=truncate");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);
    Row tok = tables.read("tokens", "-").first();
    assertThat(tok.getInt(tok.fieldIndex("n_tokens"))).isEqualTo(MAX);
    assertThat(tok.getInt(tok.fieldIndex("n_tokens_full"))).isEqualTo(301);
    Row r = tables.read("small_scores", "-").selectExpr("count(*)", "max(position)", "max_by(next_token_id, position)")
        .first();
    assertThat(List.of(r.getLong(0), (long) r.getInt(1), (long) r.getInt(2))).containsExactly((long) MAX, MAX - 1L,
        -1L);
    assertThat(tables.readManifest("tokens")).containsEntry("long_documents", "truncate");
  }

  /**
   * A tokenizer whose added tokens run past the model's 264 embedding rows (id 264): the real
   * random-small model with such a tokenizer.json, its knowable.json recording that file's
   * hash. The document holding it is rejected with the reason; the other one is scored.
   */
  @Test
  void aTokenIdOutsideTheVocabularyRejectsTheDocumentAndTheJobGoesOn(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("model");
    Files.createDirectories(model);
    for (String f : List.of("model.pt", "config.json", "reference.json")) {
      Files.copy(SMALL.resolve(f), model.resolve(f));
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizer = (ObjectNode) json.readTree(SMALL.resolve("tokenizer.json").toFile());
    // Added tokens take the next free ids (257, 258, ...): the 8th new one is 264.
    for (int id = 257; id <= 264; id++) {
      ((ArrayNode) tokenizer.get("added_tokens")).addObject().put("id", id)
          .put("content", id == 264 ? "<|extra|>" : "<|x" + id + "|>").put("single_word", false)
          .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", false);
    }
    Files.writeString(model.resolve("tokenizer.json"), json.writeValueAsString(tokenizer));
    ObjectNode contract = (ObjectNode) json.readTree(SMALL.resolve("knowable.json").toFile());
    contract.put("name", "extra-token").put("tokenizer_sha256", Hashing.sha256Hex(model.resolve("tokenizer.json")));
    Files.writeString(model.resolve("knowable.json"), json.writeValueAsString(contract));

    Path in = corpus(tmp, Map.of("bad", "ab<|extra|>cd", "good", "abcd"));
    KnowableConfig c = cfg(tmp, in, model, "models.large.path=\"" + model + "\"");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    new TokenizeStage().run(spark, c, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, c, tables);

    List<Row> rejects = tables.read("small_rejects", "-").collectAsList();
    assertThat(rejects).hasSize(1);
    Row r = rejects.get(0);
    assertThat(r.getString(r.fieldIndex("doc_id"))).isEqualTo("bad");
    assertThat(r.getString(r.fieldIndex("stage"))).isEqualTo("score-small");
    assertThat(r.getString(r.fieldIndex("reason"))).isEqualTo("out_of_vocabulary");
    assertThat(r.getString(r.fieldIndex("detail"))).isEqualTo(
        "token id 264 at position 2 (1 such ids: 264) is outside the vocabulary 0..263 of model extra-token "
            + "(vocab_size)");
    assertThat(r.getInt(r.fieldIndex("position"))).isEqualTo(2);
    assertThat(r.getInt(r.fieldIndex("bad_positions"))).isEqualTo(1);
    // The good document: every position scored; nothing of the bad one.
    Row s = tables.read("small_scores", "-").selectExpr("count(*)", "count_if(doc_id = 'good')").first();
    assertThat(List.of(s.getLong(0), s.getLong(1))).containsExactly(4L, 4L);
    assertThat(SparkSchemas.mismatches("small_rejects", tables.read("small_rejects", "-").schema())).isEmpty();

    // The model itself refuses such a sequence with a message instead of a native failure.
    LanguageModel m = ModelRegistry.get(model, "pytorch", Device.cpu(), 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.score(List.of(new int[] {97, 264}),
            new ScoreRequest(257, 1, List.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Token id 264 at position 1 of sequence 0 is outside the vocabulary 0..263 of model extra-token");
  }
}
