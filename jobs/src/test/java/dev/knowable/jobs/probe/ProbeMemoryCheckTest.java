package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.DeviceChoice;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.probe.ProbeSettings;
import dev.knowable.probe.ProbeTaskMemory;
import dev.knowable.probe.ProbeTaskSettings;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ProbeMemoryCheckTest extends SparkTestBase {
  private static final ProbeTaskSettings DERIVED = new ProbeTaskSettings(DeviceChoice.AUTO, 0, 0.5);

  /** probe_examples-shaped rows: per domain 30 train, 10 val, 20 test rows of d = 32, one band and kind. */
  private static Dataset<Row> examples() {
    List<Row> rows = new ArrayList<>();
    for (String domain : List.of("code", "wiki")) {
      for (int i = 0; i < 60; i++) {
        String split = i < 30 ? "train" : i < 40 ? "val" : "test";
        float[] h = new float[32];
        h[0] = i;
        List<Float> hidden = new ArrayList<>();
        for (float v : h) {
          hidden.add(v);
        }
        rows.add(RowFactory.create("2.0:inf", "gap", domain, split, i % 2, hidden));
      }
    }
    StructType schema = new StructType().add("band", DataTypes.StringType).add("label_kind", DataTypes.StringType)
        .add("domain", DataTypes.StringType).add("split", DataTypes.StringType).add("label", DataTypes.IntegerType)
        .add("hidden_l2", DataTypes.createArrayType(DataTypes.FloatType));
    return spark.createDataFrame(rows, schema);
  }

  private static ProbeSettings settings(String... sets) {
    List<String> all = new ArrayList<>(List.of(sets));
    return ProbeSettings.from(dev.knowable.config.ConfigLoader.load(null, all).raw());
  }

  @Test
  void countsEachConfigurationsRowsFromTheAggregate() {
    ProbeSettings s = settings("probe.context.ks=[1]");
    java.util.Map<List<String>, Long> counts = new java.util.HashMap<>();
    for (String domain : List.of("code", "wiki")) {
      counts.put(List.of("b", "gap", domain, "train"), 30L);
      counts.put(List.of("b", "gap", domain, "val"), 10L);
      counts.put(List.of("b", "gap", domain, "test"), 20L);
    }
    List<ProbeMemoryCheck.Need> needs = ProbeMemoryCheck.needs(counts, List.of("hidden_l2"),
        List.of("code", "wiki", "all"), s, 32);
    // 3 train domains x (linear, mlp, context).
    assertThat(needs).hasSize(9);
    ProbeMemoryCheck.Need code = needs.stream().filter(n -> n.config().startsWith("linear")
        && n.config().endsWith("train_domain=code")).findFirst().orElseThrow();
    // Fit: code's train + val; eval: every domain's val + test.
    assertThat(code.fitRows()).isEqualTo(40);
    assertThat(code.evalRows()).isEqualTo(60);
    ProbeMemoryCheck.Need all = needs.stream().filter(n -> n.config().startsWith("mlp")
        && n.config().contains("train_domain=all")).findFirst().orElseThrow();
    assertThat(all.fitRows()).isEqualTo(80);
    assertThat(all.bytes()).isEqualTo(ProbeTaskMemory.needed(true, 32, 80, 60, s.mlp().hidden()));
  }

  @Test
  void budgetFollowsTheExecutorLayout() {
    SparkConf conf = new SparkConf(false).set("spark.executor.memory", "16g").set("spark.executor.cores", "4");
    long usable = (16L << 30) - (300L << 20);
    assertThat(ProbeMemoryCheck.budget(conf, "k8s://https://api:6443", 64, 0, DERIVED).bytes())
        .isEqualTo((long) (usable * 0.5 / 4));
    // One GPU per executor and per task: one probe task at a time on it.
    conf.set("spark.executor.resource.gpu.amount", "1").set("spark.task.resource.gpu.amount", "1");
    assertThat(ProbeMemoryCheck.budget(conf, "k8s://https://api:6443", 64, 0, DERIVED).bytes())
        .isEqualTo((long) (usable * 0.5));
    // Without spark.executor.cores: the default parallelism, the worst case.
    SparkConf standalone = new SparkConf(false).set("spark.executor.memory", "8g");
    assertThat(ProbeMemoryCheck.budget(standalone, "spark://m:7077", 8, 0, DERIVED).bytes())
        .isEqualTo((long) (((8L << 30) - (300L << 20)) * 0.5 / 8));
    // Local mode: this JVM's heap over the local threads (per spark.task.cpus).
    SparkConf local = new SparkConf(false).set("spark.task.cpus", "2");
    assertThat(ProbeMemoryCheck.budget(local, "local[4]", 4, 4L << 30, DERIVED).bytes())
        .isEqualTo((long) (((4L << 30) - (300L << 20)) * 0.5 / 2));
    assertThat(ProbeMemoryCheck.budget(local, "local[4]", 4, 4L << 30,
        new ProbeTaskSettings(DeviceChoice.AUTO, 123, 0.5)).bytes()).isEqualTo(123);
  }

  @Test
  void aConfigurationThatDoesNotFitStopsTheStageNamingIt() {
    Dataset<Row> examples = examples();
    ProbeSettings s = settings("probe.context.enabled=false", "probe.linear.enabled=false");
    List<String> domains = List.of("code", "wiki", "all");
    long mlpAll = ProbeTaskMemory.needed(true, 32, 80, 60, s.mlp().hidden());
    // Enough for the per-domain fits, not for the pooled one.
    long budget = ProbeTaskMemory.needed(true, 32, 40, 60, s.mlp().hidden());
    assertThatThrownBy(() -> ProbeMemoryCheck.check(spark, examples, List.of("hidden_l2"), domains, s,
        new ProbeTaskSettings(DeviceChoice.CPU, budget, 0.6)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("mlp layer=2 band=2.0:inf kind=gap train_domain=all")
        .hasMessageContaining("80 train/val and 60 evaluation rows of 32 features")
        .hasMessageContaining(ProbeTaskMemory.human(mlpAll))
        .hasMessageContaining(ProbeTaskMemory.human(budget) + " (knowable.probe.task.memory)")
        .hasMessageContaining("spark.executor.memory")
        .hasMessageNotContaining("more configuration");
    // With room for it, the check passes.
    ProbeMemoryCheck.check(spark, examples, List.of("hidden_l2"), domains, s,
        new ProbeTaskSettings(DeviceChoice.CPU, mlpAll, 0.6));
  }
}
