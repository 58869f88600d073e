package dev.knowable.jobs.tables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The last four input ids of an example, read from the tokens table, by hand. */
class ContextIdsTest extends SparkTestBase {

  @Test
  void lastFourIdsCurrentFirstWithMinusOneBeforeTheStart(@TempDir Path tmp) {
    RunTables tables = new RunTables(spark, config(tmp));
    StructType tok = new StructType().add("doc_id", DataTypes.StringType)
        .add("token_ids", DataTypes.createArrayType(DataTypes.IntegerType));
    tables.write("tokens", spark.createDataFrame(List.of(RowFactory.create("d", new int[] {10, 11, 12, 13, 14})), tok),
        List.of(), Map.of());
    StructType ex = new StructType().add("doc_id", DataTypes.StringType).add("position", DataTypes.IntegerType);
    List<Row> rows = TokensTable.withContextIds(spark.createDataFrame(List.of(RowFactory.create("d", 0),
        RowFactory.create("d", 2), RowFactory.create("d", 4)), ex), tables).orderBy("position").collectAsList();
    assertThat(rows.get(0).<Integer>getList(rows.get(0).fieldIndex("context_ids"))).containsExactly(10, -1, -1, -1);
    assertThat(rows.get(1).<Integer>getList(rows.get(1).fieldIndex("context_ids"))).containsExactly(12, 11, 10, -1);
    assertThat(rows.get(2).<Integer>getList(rows.get(2).fieldIndex("context_ids"))).containsExactly(14, 13, 12, 11);
  }
}
