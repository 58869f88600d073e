package dev.knowable.jobs.cli;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.RunTables;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code knowable sql "<query>"}: every committed table of the run becomes a temporary
 * view named after the table, so an analyst can query a run without knowing its paths.
 */
public final class RunSql {
  private RunSql() {}

  /** Registers the run's committed tables as views; returns their names. */
  public static List<String> registerViews(SparkSession spark, KnowableConfig config) {
    RunTables tables = new RunTables(spark, config);
    List<String> names = new ArrayList<>();
    Path root = new Path(config.output());
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        throw new IllegalStateException("No output folder " + root + " (knowable.output)");
      }
      for (FileStatus st : fs.listStatus(root)) {
        String table = st.getPath().getName();
        if (st.isDirectory() && !table.startsWith("_") && !table.startsWith(".") && tables.isCommitted(table)) {
          tables.read(table, "-").createOrReplaceTempView(table);
          names.add(table);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot list " + root + ": " + e.getMessage(), e);
    }
    if (names.isEmpty()) {
      throw new IllegalStateException("Run " + config.runId() + " has no committed table under " + root);
    }
    // float16_to_float / bfloat16_to_float: decode small_scores' 16-bit hidden states.
    HiddenStates.registerFunctions(spark);
    return names;
  }

  static void show(SparkSession spark, KnowableConfig config, String query) {
    List<String> views = registerViews(spark, config);
    System.err.println("views of run " + config.runId() + ": " + String.join(", ", views));
    Dataset<Row> result = spark.sql(query);
    result.show(1000, false);
  }
}
