package dev.knowable.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials given as Spark settings reach Spark but never a manifest or a log line.
 * Builds its own session through {@link Main#withSession} (as a real run does), so it does
 * not extend SparkTestBase.
 */
class SecretsRedactionTest {

  @Test
  void secretSparkSettingsReachSparkButNotManifestsOrLogs(@TempDir Path tmp) throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    Files.writeString(in.resolve("a.jsonl"), "{\"doc_id\": \"a\", \"domain\": \"d\", \"text\": \"hello\"}\n"
        + "not json\n");
    KnowableConfig config = ConfigLoader.load(null, List.of("run-id=sec", "output=\"" + tmp.resolve("out") + "\"",
        "ingest.inputs=[{path=\"" + in + "\", format=jsonl}]",
        "spark.master=\"local[1]\"",
        "spark.conf.\"spark.ui.enabled\"=false",
        "spark.conf.\"spark.driver.bindAddress\"=127.0.0.1",
        "spark.conf.\"spark.driver.host\"=127.0.0.1",
        "spark.conf.\"spark.logConf\"=true",
        "spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=sk-TEST-123",
        "spark.conf.\"spark.hadoop.fs.s3a.access.key\"=ak-TEST-456",
        "spark.conf.\"spark.hadoop.example.client.credential\"=cred-TEST-789"));

    StringWriter logs = new StringWriter();
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    Configuration cfg = ctx.getConfiguration();
    WriterAppender capture = WriterAppender.newBuilder().setName("secrets-capture").setTarget(logs)
        .setLayout(PatternLayout.newBuilder().withPattern("%c: %m%n").build()).build();
    capture.start();
    cfg.addAppender(capture);
    cfg.getRootLogger().addAppender(capture, Level.ALL, null);
    Level sparkContextLevel = LogManager.getLogger("org.apache.spark.SparkContext").getLevel();
    Configurator.setLevel("org.apache.spark.SparkContext", Level.INFO); // logs spark.logConf
    ctx.updateLoggers();
    String[] seen = new String[3];
    try {
      Main.withSession(config, "ingest", spark -> {
        Main.run(spark, "ingest", config);
        seen[0] = spark.conf().get("spark.hadoop.fs.s3a.secret.key");
        seen[1] = spark.sparkContext().hadoopConfiguration().get("fs.s3a.secret.key");
        seen[2] = spark.sparkContext().hadoopConfiguration().get("fs.s3a.access.key");
      });
    } finally {
      cfg.getRootLogger().removeAppender("secrets-capture");
      Configurator.setLevel("org.apache.spark.SparkContext", sparkContextLevel);
      ctx.updateLoggers();
      capture.stop();
    }

    assertThat(seen).as("redaction did not break the setting").containsExactly("sk-TEST-123", "sk-TEST-123",
        "ak-TEST-456");
    for (String table : List.of("documents", "rejects")) {
      String manifest = Files.readString(tmp.resolve("out/" + table + "/run_id=sec/" + RunTables.MANIFEST));
      assertThat(manifest).as(table + " manifest").doesNotContain("sk-TEST-123").doesNotContain("ak-TEST-456")
          .doesNotContain("cred-TEST-789")
          .contains("\"spark.hadoop.fs.s3a.secret.key\" : \"<redacted>\"")
          .contains("\"spark.hadoop.fs.s3a.access.key\" : \"<redacted>\"")
          .contains("\"spark.logConf\" : true")
          .contains("\"config_fingerprint\" : \"");
    }
    assertThat(logs.toString()).as("the capture saw Spark's configuration dump and the run")
        .contains("spark.hadoop.fs.s3a.secret.key").contains("Committed table documents of run sec")
        .doesNotContain("sk-TEST-123").doesNotContain("ak-TEST-456").doesNotContain("cred-TEST-789");
  }
}
