package dev.knowable.jobs.hidden;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.config.KnowableConfig;
import dev.knowable.hidden.Half;
import dev.knowable.hidden.HiddenDtype;
import dev.knowable.jobs.ScoreFixtures.Position;
import dev.knowable.jobs.ScoreFixtures;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.label.LabelStage;
import dev.knowable.jobs.score.ScoreStage;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hidden-state storage through the real stages in local[2]: score-small on the fixture
 * model with float32, float16 and in-band storage (one tokens table, if-exists=overwrite),
 * the label stage on float16 small_scores (binary, and the older array&lt;smallint&gt;), and
 * the documented SQL that decodes the stored bytes in Spark SQL and DuckDB.
 */
class HiddenStorageStagesTest extends SparkTestBase {
  private static final Path SMALL = TestModels.fixture("random-small");

  private static KnowableConfig scoreConfig(Path tmp, String... more) throws Exception {
    Path in = tmp.resolve("in");
    if (!Files.exists(in)) {
      Files.createDirectories(in);
      Files.copy(TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl/part-1.jsonl"),
          in.resolve("part-1.jsonl"));
    }
    List<String> sets = new ArrayList<>(List.of("ingest.inputs=[{path=\"" + in + "\", format=jsonl}]",
        "tokenize.max-tokens=64", "tokenize.shards=2", "score.token-budget=256",
        "models.small.path=\"" + SMALL + "\"", "models.small.layers=[0, -1]",
        "models.large.path=\"" + TestModels.fixture("random-large") + "\"", "if-exists=overwrite"));
    sets.addAll(List.of(more));
    return config(tmp, sets.toArray(new String[0]));
  }

  /** (doc_id, position) -> [entropy, hidden_l0..., hidden_l2...] as floats (null hidden: length 1). */
  private static Map<String, float[][]> collect(Dataset<Row> small, HiddenDtype dtype) {
    Map<String, float[][]> out = new HashMap<>();
    for (Row r : small.select("doc_id", "position", "entropy", "hidden_l0", "hidden_l2").collectAsList()) {
      out.put(r.getString(0) + "@" + r.getInt(1), new float[][] {{r.getFloat(2)},
          HiddenStates.floats(r.get(3), dtype), HiddenStates.floats(r.get(4), dtype)});
    }
    return out;
  }

  @Test
  void float16AndInBandStorageThroughTheScoreStage(@TempDir Path tmp) throws Exception {
    KnowableConfig f32 = scoreConfig(tmp, "score.hidden-dtype=float32");
    RunTables tables = new RunTables(spark, f32);
    new IngestStage().run(spark, f32, tables);
    new TokenizeStage().run(spark, f32, tables);
    new ScoreStage(ScoreStage.SMALL).run(spark, f32, tables);
    Dataset<Row> small32 = tables.read("small_scores", "score-small");
    assertThat(small32.schema().apply("hidden_l2").dataType().simpleString()).isEqualTo("array<float>");
    Map<String, float[][]> want = collect(small32, HiddenDtype.FLOAT32);

    KnowableConfig f16 = scoreConfig(tmp, "score.hidden-dtype=float16");
    new ScoreStage(ScoreStage.SMALL).run(spark, f16, tables);
    Dataset<Row> small16 = tables.read("small_scores", "score-small");
    assertThat(SparkSchemas.mismatches("small_scores", small16.schema())).isEmpty();
    assertThat(small16.schema().apply("hidden_l2").dataType().simpleString()).isEqualTo("binary");
    assertThat(HiddenStates.dtype(tables)).isEqualTo(HiddenDtype.FLOAT16);
    assertThat(((Number) tables.readManifest("small_scores").get("hidden_clamped_values")).longValue()).isZero();
    Map<String, float[][]> got = collect(small16, HiddenDtype.FLOAT16);
    assertThat(got.keySet()).isEqualTo(want.keySet());
    double maxRel = 0;
    for (var e : want.entrySet()) {
      float[][] w = e.getValue();
      float[][] g = got.get(e.getKey());
      assertThat(g[0][0]).isEqualTo(w[0][0]);
      for (int l = 1; l <= 2; l++) {
        assertThat(g[l]).hasSameSizeAs(w[l]);
        for (int i = 0; i < w[l].length; i++) {
          double err = Math.abs(g[l][i] - w[l][i]);
          // fp16 rounding: relative 2^-11 for normal halves, absolute 2^-25 below 2^-14.
          assertThat(err).as("%s layer slot %d [%d]", e.getKey(), l, i)
              .isLessThanOrEqualTo(Math.max(Math.abs(w[l][i]) * 0x1p-11, 0x1p-25));
          if (Math.abs(w[l][i]) >= 0x1p-14) {
            maxRel = Math.max(maxRel, err / Math.abs(w[l][i]));
          }
        }
      }
    }
    assertThat(maxRel).as("some value is actually rounded").isGreaterThan(0);

    // in-band: exactly the positions whose entropy is in a band keep hidden states.
    float[] entropies = sortedEntropies(want);
    float q25 = entropies[entropies.length / 4];
    float q50 = entropies[entropies.length / 2];
    float q90 = entropies[entropies.length * 9 / 10];
    KnowableConfig inBand = scoreConfig(tmp, "score.hidden-dtype=float16", "score.hidden-positions=in-band",
        "label.bands=[\"" + q25 + ":" + q50 + "\", \"" + q90 + ":inf\"]");
    new ScoreStage(ScoreStage.SMALL).run(spark, inBand, tables);
    Dataset<Row> kept = tables.read("small_scores", "score-small");
    Map<String, float[][]> gotBand = collect(kept, HiddenDtype.FLOAT16);
    assertThat(gotBand.keySet()).isEqualTo(want.keySet());
    long inBandCount = 0;
    for (var e : gotBand.entrySet()) {
      float h = e.getValue()[0][0];
      boolean in = (h >= q25 && h < q50) || h >= q90;
      inBandCount += in ? 1 : 0;
      assertThat(e.getValue()[1] != null).as("hidden_l0 stored at %s (H = %s)", e.getKey(), h).isEqualTo(in);
      assertThat(e.getValue()[2] != null).as("hidden_l2 stored at %s", e.getKey()).isEqualTo(in);
      if (in) {
        assertThat(e.getValue()[2]).isEqualTo(got.get(e.getKey())[2]);
      }
    }
    assertThat(inBandCount).isBetween(want.size() / 4L, want.size() / 2L);
    assertThat(((Number) tables.readManifest("small_scores").get("hidden_positions_kept")).longValue())
        .isEqualTo(inBandCount);
  }

  private static float[] sortedEntropies(Map<String, float[][]> m) {
    float[] out = new float[m.size()];
    int i = 0;
    for (float[][] v : m.values()) {
      out[i++] = v[0][0];
    }
    java.util.Arrays.sort(out);
    return out;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"binary", "array<smallint>"})
  void theLabelStageReadsFloat16SmallScores(String form, @TempDir Path tmp) {
    Random random = new Random(5);
    List<Position> positions = new ArrayList<>();
    for (String domain : List.of("code", "wiki")) {
      for (int doc = 0; doc < 30; doc++) {
        String split = doc % 5 < 3 ? "train" : doc % 5 == 3 ? "val" : "test";
        for (int pos = 0; pos < 30; pos++) {
          float hs = 2 + random.nextFloat() * 2;
          float hl = random.nextBoolean() ? hs : random.nextFloat() * 0.19f;
          float[] hidden = new float[8];
          for (int j = 0; j < hidden.length; j++) {
            hidden[j] = (float) (random.nextGaussian() * 30);
          }
          positions.add(new Position(domain + "-" + doc, domain, split, pos, random.nextInt(5), -1, hs, hl, hidden));
        }
      }
    }
    Dataset<Row> small32 = ScoreFixtures.small(spark, positions);
    boolean binary = form.equals("binary");
    Dataset<Row> small16 = small32.withColumn(ScoreFixtures.HIDDEN, org.apache.spark.sql.functions.udf(
        (UDF1<scala.collection.Seq<Float>, Object>) h -> {
          float[] f = new float[h.size()];
          for (int i = 0; i < f.length; i++) {
            f[i] = h.apply(i);
          }
          byte[] b = (byte[]) HiddenDtype.FLOAT16.encode(f, new long[1]);
          if (binary) {
            return b;
          }
          short[] older = new short[f.length];
          for (int i = 0; i < f.length; i++) {
            older[i] = HiddenDtype.bitsAt(b, i);
          }
          return older;
        }, binary ? DataTypes.BinaryType : DataTypes.createArrayType(DataTypes.ShortType))
        .apply(col(ScoreFixtures.HIDDEN)));
    assertThat(small16.schema().apply(ScoreFixtures.HIDDEN).dataType().simpleString()).isEqualTo(form);
    Map<String, float[]> fixture = new HashMap<>();
    positions.forEach(p -> fixture.put(p.docId() + "@" + p.position(), p.hidden()));
    // One label run on float16 small_scores: which rows survive does not depend on the hidden
    // states, so each example's features must be its fixture vector rounded to fp16, exactly.
    KnowableConfig config = config(tmp, "label.bands=[\"2.0:inf\"]", "label.kinds=[gap]");
    RunTables tables = new RunTables(spark, config);
    tables.write("small_scores", small16, List.of("domain"),
        Map.of("vocab_limit", 50254, HiddenStates.MANIFEST_KEY, "float16"));
    tables.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"), Map.of("vocab_limit", 50254));
    new LabelStage().run(spark, config, tables);
    Dataset<Row> ex = tables.read(ProbeExamplesTable.TABLE, "label");
    assertThat(SparkSchemas.mismatches(ProbeExamplesTable.TABLE, ex.schema())).isEmpty();
    assertThat(ex.schema().apply(ScoreFixtures.HIDDEN).dataType().simpleString()).isEqualTo("array<float>");
    List<Row> rows = ex.select("doc_id", "position", ScoreFixtures.HIDDEN).collectAsList();
    assertThat(rows).hasSizeGreaterThan(100);
    boolean rounded = false;
    for (Row r : rows) {
      float[] want = fixture.get(r.getString(0) + "@" + r.getInt(1));
      List<Float> got = r.getList(2);
      assertThat(got).hasSize(want.length);
      for (int j = 0; j < want.length; j++) {
        assertThat(got.get(j)).isEqualTo(Half.fromFloat16(Half.toFloat16(want[j])));
        rounded |= got.get(j) != want[j];
      }
    }
    assertThat(rounded).as("the features are the rounded values, not the fixture's").isTrue();
  }

  /**
   * The SQL of README "Hidden states", checked on every 16-bit pattern: the stored bytes to
   * unsigned 16-bit integers (Spark SQL and DuckDB), then the float formula on them.
   */
  private static final String SPARK_BITS = "transform(sequence(0, octet_length(h) div 2 - 1), "
      + "i -> CAST(conv(hex(substring(h, 2 * i + 2, 1)) || hex(substring(h, 2 * i + 1, 1)), 16, 10) AS INT))";
  private static final String DUCKDB_BITS = "list_transform(range(0, octet_length(h) // 2), "
      + "i -> ('0x' || substr(hex(h), 4 * i + 3, 2) || substr(hex(h), 4 * i + 1, 2))::INTEGER)";
  private static final String FLOAT16_OF_BITS = "x -> CAST(CASE "
      + "WHEN (x & 31744) = 31744 THEN CASE WHEN (x & 1023) = 0 THEN CAST('Infinity' AS DOUBLE) "
      + "ELSE CAST('NaN' AS DOUBLE) END "
      + "WHEN (x & 31744) = 0 THEN (x & 1023) * power(2, -24) "
      + "ELSE ((x & 1023) + 1024) * power(2, floor((x & 31744) / 1024) - 25) END "
      + "* CASE WHEN x >= 32768 THEN -1 ELSE 1 END AS FLOAT)";
  private static final String BFLOAT16_OF_BITS = "x -> CAST(CASE "
      + "WHEN (x & 32640) = 32640 THEN CASE WHEN (x & 127) = 0 THEN CAST('Infinity' AS DOUBLE) "
      + "ELSE CAST('NaN' AS DOUBLE) END "
      + "WHEN (x & 32640) = 0 THEN (x & 127) * power(2, -133) "
      + "ELSE ((x & 127) + 128) * power(2, floor((x & 32640) / 128) - 134) END "
      + "* CASE WHEN x >= 32768 THEN -1 ELSE 1 END AS FLOAT)";

  @Test
  void theDocumentedSqlDecodesEveryStoredPatternInSparkAndDuckDb(@TempDir Path tmp) throws Exception {
    // Every pattern, as 256 stored states of 256 values (a hidden state's size, not one huge
    // value: the documented SQL slices the bytes by position, which is quadratic in the length).
    List<Row> rows = new ArrayList<>();
    for (int k = 0; k < 256; k++) {
      byte[] h = new byte[512];
      for (int j = 0; j < 256; j++) {
        int b = 256 * k + j;
        h[2 * j] = (byte) b;
        h[2 * j + 1] = (byte) (b >>> 8);
      }
      rows.add(org.apache.spark.sql.RowFactory.create(k, h));
    }
    Dataset<Row> patterns = spark.createDataFrame(rows,
        new org.apache.spark.sql.types.StructType().add("k", DataTypes.IntegerType).add("h", DataTypes.BinaryType));
    HiddenStates.registerFunctions(spark);
    patterns.createOrReplaceTempView("stored_patterns");
    Path parquet = tmp.resolve("patterns.parquet");
    patterns.coalesce(1).write().parquet(parquet.toString());
    for (HiddenDtype dtype : List.of(HiddenDtype.FLOAT16, HiddenDtype.BFLOAT16)) {
      String fn = dtype == HiddenDtype.FLOAT16 ? "float16_to_float" : "bfloat16_to_float";
      String formula = dtype == HiddenDtype.FLOAT16 ? FLOAT16_OF_BITS : BFLOAT16_OF_BITS;
      List<List<Float>> decoded = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (Row r : spark.sql("SELECT transform(" + SPARK_BITS + ", " + formula + "), " + fn
          + "(h) FROM stored_patterns ORDER BY k").collectAsList()) {
        decoded.get(0).addAll(r.getList(0));
        decoded.get(1).addAll(r.getList(1));
      }
      try (java.sql.Connection db = java.sql.DriverManager.getConnection("jdbc:duckdb:");
          java.sql.Statement st = db.createStatement();
          java.sql.ResultSet rs = st.executeQuery("SELECT list_transform(" + DUCKDB_BITS + ", "
              + formula + ") FROM read_parquet('" + parquet + "/*.parquet') ORDER BY k")) {
        while (rs.next()) {
          for (Object o : (Object[]) rs.getArray(1).getArray()) {
            decoded.get(2).add(((Number) o).floatValue());
          }
        }
      }
      for (int c = 0; c < decoded.size(); c++) {
        assertDecodesEveryPattern(dtype, "reader " + c + " (Spark SQL, UDF, DuckDB)", decoded.get(c));
      }
    }
  }

  /** got[b] is the float of 16-bit pattern b, bit for bit (floatToIntBits: every NaN counted as the one NaN). */
  private static void assertDecodesEveryPattern(HiddenDtype dtype, String reader, List<Float> got) {
    assertThat(got).hasSize(65536);
    for (int b = 0; b < 65536; b++) {
      assertThat(Float.floatToIntBits(got.get(b))).as("%s %s bits %04x", dtype, reader, b)
          .isEqualTo(Float.floatToIntBits(dtype.decodeBits((short) b)));
    }
  }

  /**
   * The SQL for the older array&lt;smallint&gt; form as README "Hidden states" states it: the
   * same formula on the column itself, with x &lt; 0 (a smallint is the 16 bits read as a signed
   * integer) in place of x &gt;= 32768.
   */
  private static String olderFormSql(String formula) {
    return "transform(h, " + formula.replace("x >= 32768", "x < 0") + ")";
  }

  @Test
  void theOlderArrayFormDecodesEveryPatternInSqlAndTheRegisteredFunctions() {
    List<Short> all = new ArrayList<>();
    for (int b = 0; b < 65536; b++) {
      all.add((short) b);
    }
    Dataset<Row> patterns = spark.createDataFrame(List.of(org.apache.spark.sql.RowFactory.create(all)),
        new org.apache.spark.sql.types.StructType().add("h", DataTypes.createArrayType(DataTypes.ShortType)));
    HiddenStates.registerFunctions(spark);
    patterns.createOrReplaceTempView("patterns");
    for (HiddenDtype dtype : List.of(HiddenDtype.FLOAT16, HiddenDtype.BFLOAT16)) {
      String fn = dtype == HiddenDtype.FLOAT16 ? "float16_to_float" : "bfloat16_to_float";
      String formula = dtype == HiddenDtype.FLOAT16 ? FLOAT16_OF_BITS : BFLOAT16_OF_BITS;
      Row r = spark.sql("SELECT " + olderFormSql(formula) + ", " + fn + "(h) FROM patterns").first();
      assertDecodesEveryPattern(dtype, "older form, SQL", r.getList(0));
      assertDecodesEveryPattern(dtype, "older form, " + fn, r.getList(1));
    }
  }
}
