package dev.knowable.jobs.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig;
import dev.knowable.ingest.SplitAssigner;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.model.TestModels;
import dev.knowable.schema.TableSchema;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestStageTest extends SparkTestBase {

  static String corpus(String sub) {
    return TestModels.repoRoot().resolve("common/src/test/resources/corpus").resolve(sub).toString();
  }

  @Test
  void everyRecordLandsInDocumentsOrRejectsWithItsReason(@TempDir Path tmp) {
    // A Parquet input with one good row, one null text and one duplicate of a JSONL doc_id.
    StructType s = new StructType().add("doc_id", DataTypes.StringType).add("domain", DataTypes.StringType)
        .add("text", DataTypes.StringType).add("extra", DataTypes.IntegerType);
    String parquet = tmp.resolve("in.parquet").toString();
    spark.createDataFrame(List.of(RowFactory.create("pq:1", "legal", "Permission is hereby granted.", 1),
        RowFactory.create("pq:2", "legal", null, 2), RowFactory.create("news:1", "news", "dup of jsonl", 3)), s)
        .coalesce(1).write().parquet(parquet);
    KnowableConfig c = config(tmp, "ingest.inputs=[{path=\"" + corpus("jsonl") + "\", format=jsonl}, "
        + "{path=\"" + corpus("text") + "\", format=text}, {path=\"" + parquet + "\", format=parquet}]");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);

    Dataset<Row> docs = tables.read("documents", "ingest");
    Dataset<Row> rejects = tables.read("rejects", "ingest");
    // 16 JSONL records + 5 files + 3 Parquet rows = 24 in. news:1 is now a duplicate: both copies are rejected.
    assertThat(docs.count()).isEqualTo(24 - 12);
    assertThat(rejects.count()).isEqualTo(12);
    assertThat(tables.readManifest("documents")).containsEntry("input_records", 24);
    Map<String, Long> byReason = new TreeMap<>();
    rejects.groupBy("reason").count().collectAsList().forEach(r -> byReason.put(r.getString(0), r.getLong(1)));
    assertThat(byReason).containsExactlyEntriesOf(new TreeMap<>(Map.of("bad_json", 2L, "duplicate_doc_id", 4L,
        "empty_text", 2L, "invalid_utf8", 2L, "missing_field", 2L)));
    Row utf8 = rejects.filter("reason = 'invalid_utf8' AND input_offset >= 0").first();
    assertThat(utf8.getAs("input_path").toString()).endsWith("part-1.jsonl");
    assertThat(utf8.<String>getAs("doc_id")).isNull();
    assertThat(utf8.<String>getAs("raw")).contains("bad:utf8");
    Row missingText = rejects.filter("doc_id = 'pq:2'").first();
    assertThat(missingText.<String>getAs("reason")).isEqualTo("missing_field");

    // Text folders: domain from the folder, doc_id = domain/file.
    assertThat(docs.filter("doc_id = 'poetry/ode.txt' AND domain = 'poetry'").count()).isEqualTo(1);
    // Splits are the hash rule's.
    SplitAssigner split = new SplitAssigner(c.ingest().split());
    for (Row r : docs.select("doc_id", "split", "n_chars", "text").collectAsList()) {
      assertThat(r.getString(1)).isEqualTo(split.splitOf(r.getString(0)));
      assertThat(r.getInt(2)).isEqualTo(r.getString(3).length());
    }
    assertThat(SparkSchemas.mismatches("documents", docs.schema())).isEmpty();
    assertThat(SparkSchemas.mismatches("rejects", rejects.schema())).isEmpty();
  }

  @Test
  void rerunSkipsACommittedTableAndFailModeRefuses(@TempDir Path tmp) {
    String in = "ingest.inputs=[{path=\"" + corpus("jsonl") + "\", format=jsonl}]";
    KnowableConfig c = config(tmp, in);
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);
    Object committed = tables.readManifest("documents").get("committed_at");
    new IngestStage().run(spark, c, tables);
    assertThat(tables.readManifest("documents").get("committed_at")).as("skip keeps the committed run")
        .isEqualTo(committed);
    KnowableConfig fail = config(tmp, in, "if-exists=fail");
    assertThatThrownBy(() -> new IngestStage().run(spark, fail, new RunTables(spark, fail)))
        .hasMessageContaining("already committed").hasMessageContaining("if-exists=overwrite");
  }

  @Test
  void parquetWithoutRequiredColumnsFailsFast(@TempDir Path tmp) {
    String p = tmp.resolve("bad.parquet").toString();
    spark.range(3).selectExpr("CAST(id AS STRING) AS doc_id", "'x' AS body").write().parquet(p);
    KnowableConfig c = config(tmp, "ingest.inputs=[{path=\"" + p + "\", format=parquet}]");
    assertThatThrownBy(() -> new IngestStage().run(spark, c, new RunTables(spark, c)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("has no column 'domain'");
  }

  @Test
  void aBomOnTheFirstLineIsStrippedAndTrailingGarbageIsRejected(@TempDir Path tmp) throws Exception {
    String first = "{\"doc_id\": \"bom:1\", \"domain\": \"d\", \"text\": \"first line after a BOM\"}\n";
    String garbage = "{\"doc_id\": \"a\", \"domain\": \"d\", \"text\": \"x\"} junk\n";
    String last = "{\"doc_id\": \"ok:3\", \"domain\": \"d\", \"text\": \"fine\"}\n";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
    bytes.write((first + garbage + last).getBytes(StandardCharsets.UTF_8));
    Path in = Files.createDirectories(tmp.resolve("in"));
    Files.write(in.resolve("bom.jsonl"), bytes.toByteArray());
    KnowableConfig c = config(tmp, "ingest.inputs=[{path=\"" + in + "\", format=jsonl}]");
    RunTables tables = new RunTables(spark, c);
    new IngestStage().run(spark, c, tables);

    Dataset<Row> docs = tables.read("documents", "ingest");
    Dataset<Row> rejects = tables.read("rejects", "ingest");
    assertThat(tables.readManifest("documents")).containsEntry("input_records", 3);
    assertThat(docs.count() + rejects.count()).as("documents + rejects = input records").isEqualTo(3);
    assertThat(docs.orderBy("doc_id").collectAsList()).extracting(r -> r.<String>getAs("doc_id"))
        .as("the BOM line is accepted with its doc_id").containsExactly("bom:1", "ok:3");
    assertThat(docs.filter("doc_id = 'bom:1'").first().<String>getAs("text")).isEqualTo("first line after a BOM");
    Row bad = rejects.first();
    assertThat(rejects.count()).isEqualTo(1);
    assertThat(bad.<String>getAs("reason")).isEqualTo("bad_json");
    assertThat(bad.<String>getAs("detail")).contains("trailing content").contains("'junk'");
    assertThat(bad.<String>getAs("input_path")).endsWith("bom.jsonl");
    assertThat(bad.<Long>getAs("input_offset")).as("byte offset of the second line, BOM included")
        .isEqualTo(3L + first.getBytes(StandardCharsets.UTF_8).length);
    assertThat(bad.<String>getAs("raw")).startsWith("{\"doc_id\": \"a\"").endsWith("junk");
  }
}
