package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.model.S3ObjectSummary;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The extraction stages writing their tables to {@code s3a://} on a real S3-compatible
 * server (S3Proxy with its in-memory store, a child JVM on loopback), through Hadoop's
 * S3A connector: tables are committed with their manifests, no staging objects remain,
 * and a rerun of the same run-id skips what is committed.
 */
class S3StorageIT extends SparkTestBase {
  static final String BUCKET = "knowable-it";
  static S3ProxyServer s3;
  static String endpoint;

  @BeforeAll
  static void startS3(@TempDir Path tmp) throws Exception {
    s3 = S3ProxyServer.start(tmp, "s3proxy.authorization=none");
    endpoint = s3.endpoint();
    client().createBucket(BUCKET);
    Configuration h = spark.sparkContext().hadoopConfiguration();
    h.set("fs.s3a.endpoint", endpoint);
    h.set("fs.s3a.path.style.access", "true");
    h.set("fs.s3a.connection.ssl.enabled", "false");
    h.set("fs.s3a.access.key", "local");
    h.set("fs.s3a.secret.key", "local");
    h.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    h.set("fs.s3a.change.detection.mode", "none");
  }

  static AmazonS3 client() {
    return s3.client("local", "local");
  }

  @AfterAll
  static void stopS3() throws InterruptedException {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void extractionTablesAreCommittedOnS3() {
    String corpus = TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl").toString();
    List<String> sets = List.of("run-id=s3", "output=\"s3a://" + BUCKET + "/out\"",
        "ingest.inputs=[{path=\"" + corpus + "\", format=jsonl}]", "tokenize.max-tokens=100", "tokenize.shards=2",
        "models.small.path=\"" + TestModels.fixture("random-small") + "\"",
        "models.large.path=\"" + TestModels.fixture("random-large") + "\"");
    KnowableConfig c = dev.knowable.config.ConfigLoader.load(null, sets);
    Main.run(spark, "ingest,tokenize,score-small,score-large", c);

    RunTables tables = new RunTables(spark, c);
    for (String t : List.of("documents", "rejects", "tokens", "small_scores", "large_scores")) {
      assertThat(tables.isCommitted(t)).as("%s committed on S3", t).isTrue();
    }
    assertThat(tables.read("documents", "-").count()).isEqualTo(9);
    long positions = tables.read("tokens", "-").selectExpr("sum(n_tokens)").first().getLong(0);
    assertThat(tables.read("small_scores", "-").count()).isEqualTo(positions);
    assertThat(tables.read("large_scores", "-").count()).isEqualTo(positions);
    List<String> keys = client().listObjects(BUCKET).getObjectSummaries().stream().map(S3ObjectSummary::getKey)
        .toList();
    assertThat(keys).as("objects in the bucket").isNotEmpty()
        .noneMatch(k -> k.contains("/_staging/") && k.endsWith(".parquet"));
    assertThat(keys).contains("out/small_scores/run_id=s3/_manifest.json");

    Object committed = tables.readManifest("small_scores").get("committed_at");
    Main.run(spark, "score-small", c);
    assertThat(tables.readManifest("small_scores").get("committed_at")).as("rerun skips").isEqualTo(committed);
  }
}
