package dev.knowable.jobs;

import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig;
import dev.knowable.model.ModelRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One shared local[2] SparkSession per test class, and config helpers. */
public abstract class SparkTestBase {
  protected static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark = SparkSession.builder()
        .master("local[2]")
        .appName("knowable-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    ModelRegistry.closeAll();
    if (spark != null) {
      spark.stop();
      spark = null;
    }
  }

  /** A config from reference.conf plus {@code --set}-style overrides. */
  protected static KnowableConfig config(String... sets) {
    return ConfigLoader.load(null, Arrays.asList(sets));
  }

  /** Overrides with a run id and output folder under {@code tmp}. */
  protected static KnowableConfig config(Path tmp, String... sets) {
    List<String> all = new ArrayList<>(List.of("run-id=test", "output=\"" + tmp.resolve("out") + "\""));
    all.addAll(Arrays.asList(sets));
    return ConfigLoader.load(null, all);
  }

  protected static List<Row> sql(String query) {
    return spark.sql(query).collectAsList();
  }
}
