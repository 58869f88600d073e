package dev.knowable.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void defaultsComeFromReferenceConf() {
    KnowableConfig c = ConfigLoader.load(null, List.of("run-id=r1"));
    assertThat(c.runId()).isEqualTo("r1");
    assertThat(c.tokenize().maxTokens()).as("docs/METHOD.md: documents truncated to 2048 tokens").isEqualTo(2048);
    assertThat(c.small().layers()).containsExactly(-1);
    assertThat(c.large().topK()).isEqualTo(10);
    assertThat(c.ingest().split().train()).isEqualTo(0.6);
  }

  @Test
  void setOverridesFileWhichOverridesReference(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("job.conf");
    Files.writeString(f, "knowable { tokenize.max-tokens = 512, output = \"o1\" }\nscore.token-budget = 99\n");
    KnowableConfig c = ConfigLoader.load(f, List.of("tokenize.max-tokens=256", "knowable.run-id=x"));
    assertThat(c.tokenize().maxTokens()).isEqualTo(256);
    assertThat(c.output()).isEqualTo("o1");
    assertThat(c.score().tokenBudget()).as("keys without the knowable. prefix work in files").isEqualTo(99);
    assertThat(c.runId()).isEqualTo("x");
  }

  @Test
  void unknownKeysFailAndNameTheKey(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tokenize.max-token=5")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("knowable.tokenize.max-token")
        .hasMessageContaining("did you mean knowable.tokenize.max-tokens");
    Path f = tmp.resolve("job.conf");
    Files.writeString(f, "knowable.modles.small.path = x\n");
    assertThatThrownBy(() -> ConfigLoader.load(f, List.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.modles.small.path");
  }

  @Test
  void freeFormSparkConfIsNotChecked() {
    KnowableConfig c = ConfigLoader.load(null, List.of("spark.conf.\"spark.sql.shuffle.partitions\"=7"));
    assertThat(c.spark().conf()).containsEntry("spark.sql.shuffle.partitions", "7");
  }

  @Test
  void invalidValuesNameTheKeyAndValue() {
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tokenize.max-tokens=0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.tokenize.max-tokens must be > 0, got 0");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("ingest.split.train=0.9")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("must sum to 1");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("score.device=tpu")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.score.device must be one of [auto, cpu, gpu]");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tokenize.max-tokens=many")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("max-tokens");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("ingest.inputs=[{path=a, format=csv}]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("format must be jsonl, text or parquet, got 'csv'");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("ingest.inputs=[{path=a, fromat=jsonl}]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("Unknown key 'fromat'");
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("/no/such.conf"), List.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("Config file not found");
  }

  @Test
  void engineIsChosenPerModelAndUnknownEnginesAreRefused() {
    KnowableConfig c = ConfigLoader.load(null, List.of("models.small.engine=onnxruntime", "models.large.engine=PyTorch"));
    assertThat(c.small().engine()).isEqualTo("onnxruntime");
    assertThat(c.large().engine()).isEqualTo("pytorch");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("models.large.engine=tensorflow")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("knowable.models.large.engine must be one of [pytorch, onnxruntime]")
        .hasMessageContaining("'tensorflow'");
  }
}
