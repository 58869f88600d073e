package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.jobs.runtime.Slots;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class SlotsTest extends SparkTestBase {
  private static final StructType SCHEMA = new StructType().add("key", DataTypes.StringType)
      .add("value", DataTypes.IntegerType).add("slot", DataTypes.IntegerType);

  @Test
  void everyRowLandsOnThePartitionItsSlotNames() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      rows.add(RowFactory.create("k" + (i % 37), i, (i % 37) % 5));
    }
    Dataset<Row> placed = Slots.place(spark.createDataFrame(rows, SCHEMA).repartition(7), "slot", 5);
    assertThat(placed.rdd().getNumPartitions()).isEqualTo(5);
    List<Row> seen = placed.mapPartitions((MapPartitionsFunction<Row, Row>) it -> {
      int p = TaskContext.getPartitionId();
      List<Row> out = new ArrayList<>();
      it.forEachRemaining(r -> out.add(RowFactory.create(p, r.getInt(2))));
      return out.iterator();
    }, Encoders.row(new StructType().add("partition", DataTypes.IntegerType).add("slot", DataTypes.IntegerType)))
        .collectAsList();
    assertThat(seen).hasSize(500).allSatisfy(r -> assertThat(r.getInt(0)).isEqualTo(r.getInt(1)));
  }

  @Test
  void aSlotOutsideThePartitionsFailsNamingIt() {
    Dataset<Row> bad = spark.createDataFrame(List.of(RowFactory.create("a", 1, 9)), SCHEMA);
    assertThatThrownBy(() -> Slots.place(bad, "slot", 4).count()).hasStackTraceContaining("slot 9 outside 0..3");
  }
}
