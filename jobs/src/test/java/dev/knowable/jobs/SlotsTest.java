package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
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

  @Test
  void consecutiveGroupsCallsTheFunctionOncePerKeyWithAllItsRows() throws Exception {
    FlatMapGroupsFunction<String, Row, Row> sum = (key, it) -> {
      int total = 0;
      int n = 0;
      while (it.hasNext()) {
        total += it.next().getInt(1);
        n++;
      }
      return Collections.singletonList(RowFactory.create(key, total, n)).iterator();
    };
    List<Row> sorted = List.of(RowFactory.create("a", 1, 0), RowFactory.create("a", 2, 0),
        RowFactory.create("b", 5, 0), RowFactory.create("c", 1, 0), RowFactory.create("c", 1, 0),
        RowFactory.create("c", 1, 0));
    List<Row> out = new ArrayList<>();
    Slots.consecutiveGroups(r -> r.getString(0), sum).call(sorted.iterator()).forEachRemaining(out::add);
    assertThat(out).extracting(r -> r.getString(0) + "=" + r.getInt(1) + "/" + r.getInt(2))
        .containsExactly("a=3/2", "b=5/1", "c=3/3");
    List<Row> none = new ArrayList<>();
    Slots.consecutiveGroups(r -> r.getString(0), sum).call(Collections.emptyIterator()).forEachRemaining(none::add);
    assertThat(none).isEmpty();

    // Through Spark: placed, sorted within partitions, grouped = the per-key sums of a groupBy.
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      rows.add(RowFactory.create("k" + (i % 11), i, (i % 11) % 3));
    }
    Dataset<Row> placed = Slots.place(spark.createDataFrame(rows, SCHEMA), "slot", 3).sortWithinPartitions("key");
    Map<String, Integer> got = new TreeMap<>();
    placed.mapPartitions(Slots.consecutiveGroups(r -> r.getString(0), sum),
            Encoders.row(new StructType().add("key", DataTypes.StringType).add("total", DataTypes.IntegerType)
                .add("n", DataTypes.IntegerType)))
        .collectAsList().forEach(r -> assertThat(got.put(r.getString(0), r.getInt(1))).as("one group per key").isNull());
    Map<String, Integer> expected = new TreeMap<>();
    spark.createDataFrame(rows, SCHEMA).groupBy("key").sum("value").collectAsList()
        .forEach(r -> expected.put(r.getString(0), (int) r.getLong(1)));
    assertThat(got).isEqualTo(expected);
  }
}
