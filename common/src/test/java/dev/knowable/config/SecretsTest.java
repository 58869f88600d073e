package dev.knowable.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretsTest {

  @Test
  void secretKeysAreRecognisedIgnoringCase() {
    for (String k : List.of("spark.hadoop.fs.s3a.secret.key", "spark.hadoop.fs.s3a.access.key", "fs.s3a.session.token",
        "spark.hadoop.fs.s3a.bucket.b1.access.key", "javax.jdo.option.ConnectionPassword",
        "spark.kubernetes.authenticate.submission.oauthToken", "spark.hadoop.fs.azure.account.oauth2.client.CREDENTIAL",
        "access.key", "\"spark.authenticate.secret\"")) {
      assertThat(Secrets.isSecret(k)).as(k).isTrue();
    }
    for (String k : List.of("spark.sql.shuffle.partitions", "spark.hadoop.fs.s3a.endpoint", "spark.executor.memory",
        "spark.hadoop.fs.s3a.path.style.access")) {
      assertThat(Secrets.isSecret(k)).as(k).isFalse();
    }
    assertThat("spark.hadoop.fs.s3a.secret.key").containsPattern(Secrets.SPARK_REDACTION_REGEX);
    assertThat("x.Credential").containsPattern(Secrets.SPARK_REDACTION_REGEX);
  }

  @Test
  void redactsValuesButKeepsKeysAndOrder() {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.hadoop.fs.s3a.secret.key", "sk-1");
    conf.put("spark.sql.shuffle.partitions", "7");
    conf.put("spark.hadoop.fs.s3a.access.key", "ak-1");
    assertThat(Secrets.redact(conf)).containsExactly(Map.entry("spark.hadoop.fs.s3a.secret.key", Secrets.REDACTED),
        Map.entry("spark.sql.shuffle.partitions", "7"), Map.entry("spark.hadoop.fs.s3a.access.key", Secrets.REDACTED));
    assertThat(conf).as("the input is not changed").containsEntry("spark.hadoop.fs.s3a.secret.key", "sk-1");
  }

  @Test
  void theConfigKeepsTheValueForSparkButRendersAndPrintsItRedacted() {
    KnowableConfig c = ConfigLoader.load(null, List.of("run-id=r1",
        "spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=sk-TEST-123",
        "spark.conf.\"fs.s3a.session.token\"=tok-TEST-456",
        "spark.conf.\"spark.sql.shuffle.partitions\"=7"));
    assertThat(c.spark().conf()).as("Spark gets the real value")
        .containsEntry("spark.hadoop.fs.s3a.secret.key", "sk-TEST-123");
    assertThat(c.rendered()).doesNotContain("sk-TEST-123").doesNotContain("tok-TEST-456")
        .contains("\"spark.hadoop.fs.s3a.secret.key\" : \"<redacted>\"").contains("\"spark.sql.shuffle.partitions\" : 7");
    assertThat(c.spark().toString()).doesNotContain("sk-TEST-123").contains("<redacted>");
    // Knowable's own keys are not subject to the rule (tokenize.max-tokens contains "token").
    assertThat(c.rendered()).contains("\"max-tokens\" : 2048");
  }

  @Test
  void fingerprintIgnoresKeysThatDoNotChangeResults() {
    String base = ConfigLoader.load(null, List.of("run-id=r1")).fingerprint();
    assertThat(base).hasSize(64);
    assertThat(ConfigLoader.load(null, List.of("run-id=r2", "output=elsewhere", "if-exists=overwrite",
        "spark.master=\"local[3]\"", "spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=sk-9", "score.token-budget=99",
        "score.threads=2")).fingerprint()).isEqualTo(base);
    KnowableConfig other = ConfigLoader.load(null, List.of("run-id=r1", "tokenize.max-tokens=512"));
    assertThat(other.fingerprint()).isNotEqualTo(base);
    assertThat(ConfigFingerprint.differences(ConfigFingerprint.parse(ConfigLoader.load(null, List.of()).rendered()),
        ConfigFingerprint.parse(other.rendered()), 8)).containsExactly("knowable.tokenize.max-tokens: 2048 -> 512");
    // Recomputing from the config a manifest recorded gives the same fingerprint.
    assertThat(ConfigFingerprint.of(ConfigFingerprint.parse(other.rendered()))).isEqualTo(other.fingerprint());
  }
}
