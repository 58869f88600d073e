package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.tables.ParquetWriteOptions;
import dev.knowable.jobs.tables.RunTables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParquetWriteOptionsTest extends SparkTestBase {

  @Test
  void floatAndBinaryColumnsAreWrittenWithoutDictionaryAndTheRestKeepIt(@TempDir Path tmp) throws Exception {
    StructType schema = new StructType().add("doc_id", DataTypes.StringType).add("token_id", DataTypes.IntegerType)
        .add("entropy", DataTypes.FloatType).add("score", DataTypes.DoubleType)
        .add("topk_logprobs", DataTypes.createArrayType(DataTypes.FloatType))
        .add("topk_ids", DataTypes.createArrayType(DataTypes.IntegerType))
        .add("hidden_l1", DataTypes.BinaryType);
    assertThat(ParquetWriteOptions.of(schema)).containsOnly(
        Map.entry("parquet.enable.dictionary#entropy", "false"),
        Map.entry("parquet.enable.dictionary#score", "false"),
        Map.entry("parquet.enable.dictionary#topk_logprobs.list.element", "false"),
        Map.entry("parquet.enable.dictionary#hidden_l1", "false"));
    // Few distinct values everywhere: without the options every column would be dictionary-encoded.
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      rows.add(RowFactory.create("d" + (i % 3), i % 5, (float) (i % 4), (double) (i % 2),
          List.of((float) (i % 3), -1f), List.of(i % 7, 1), new byte[] {(byte) (i % 3), 0}));
    }
    RunTables tables = new RunTables(spark, config(tmp));
    tables.write("opts", spark.createDataFrame(rows, schema), List.of(), Map.of());
    Map<String, Set<Encoding>> encodings = encodings(Path.of(tables.tablePath("opts").toUri().getPath()));
    for (String c : List.of("entropy", "score", "topk_logprobs.list.element", "hidden_l1")) {
      assertThat(encodings.get(c)).as(c).doesNotContain(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY)
          .contains(Encoding.PLAIN);
    }
    for (String c : List.of("doc_id", "token_id", "topk_ids.list.element")) {
      assertThat(encodings.get(c)).as(c).containsAnyOf(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
    }
    assertThat(tables.read("opts", "x").count()).isEqualTo(2000);
  }

  private static Map<String, Set<Encoding>> encodings(Path table) throws Exception {
    Map<String, Set<Encoding>> out = new HashMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(table)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
          new org.apache.hadoop.fs.Path(f.toUri()), new Configuration()))) {
        for (BlockMetaData block : reader.getFooter().getBlocks()) {
          for (ColumnChunkMetaData c : block.getColumns()) {
            out.computeIfAbsent(c.getPath().toDotString(), k -> new TreeSet<>()).addAll(c.getEncodings());
          }
        }
      }
    }
    return out;
  }
}
