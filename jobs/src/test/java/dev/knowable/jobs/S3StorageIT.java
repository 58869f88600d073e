package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.S3ObjectSummary;
import dev.knowable.config.KnowableConfig;
import dev.knowable.model.TestModels;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
  static Process s3proxy;
  static String endpoint;

  @BeforeAll
  static void startS3(@TempDir Path tmp) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    endpoint = "http://127.0.0.1:" + port;
    Path props = tmp.resolve("s3proxy.properties");
    Files.writeString(props, String.join("\n", "s3proxy.endpoint=" + endpoint, "s3proxy.authorization=none",
        "jclouds.provider=transient", "jclouds.identity=local", "jclouds.credential=local", ""));
    Path jar = TestModels.repoRoot().resolve("jobs/target/it-tools/s3proxy.jar");
    s3proxy = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-jar", jar.toString(), "--properties", props.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("s3proxy.log").toFile()).start();
    long end = System.currentTimeMillis() + 60_000;
    while (true) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        break;
      } catch (java.io.IOException e) {
        if (System.currentTimeMillis() > end || !s3proxy.isAlive()) {
          throw new AssertionError("S3Proxy did not start: " + Files.readString(tmp.resolve("s3proxy.log")));
        }
        Thread.sleep(200);
      }
    }
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
    return AmazonS3ClientBuilder.standard()
        .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, "us-east-1"))
        .withPathStyleAccessEnabled(true)
        .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials("local", "local"))).build();
  }

  @AfterAll
  static void stopS3() throws InterruptedException {
    if (s3proxy != null) {
      s3proxy.destroy();
      if (!s3proxy.waitFor(20, TimeUnit.SECONDS)) {
        s3proxy.destroyForcibly();
      }
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
