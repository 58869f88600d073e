package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.model.S3ObjectSummary;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 credentials the server refuses: S3Proxy (child JVM, in-memory store) with AWS
 * signature checking on and one identity. A run whose secret key is wrong fails before any
 * stage work with a message naming the output location and the endpoint, and the bucket
 * holds afterwards exactly what it held before.
 */
class S3CredentialsIT extends SparkTestBase {
  static final String BUCKET = "knowable-auth";
  static final String IDENTITY = "knowable";
  static final String SECRET = "the-right-secret";
  static S3ProxyServer s3;
  static String endpoint;

  @BeforeAll
  static void startS3(@TempDir Path tmp) throws Exception {
    s3 = S3ProxyServer.start(tmp, "s3proxy.authorization=aws-v2-or-v4", "s3proxy.identity=" + IDENTITY,
        "s3proxy.credential=" + SECRET);
    endpoint = s3.endpoint();
    client(SECRET).createBucket(BUCKET);
    client(SECRET).putObject(BUCKET, "out/documents/run_id=old/_manifest.json", "{}");
  }

  static AmazonS3 client(String secret) {
    return s3.client(IDENTITY, secret);
  }

  @AfterAll
  static void stopS3() throws InterruptedException {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void aWrongSecretFailsBeforeAnyWorkNamingTheBucketAndEndpointAndWritesNothing() {
    // The server does check signatures: the same request with the right secret is accepted.
    assertThat(client(SECRET).doesBucketExistV2(BUCKET)).isTrue();
    Configuration h = spark.sparkContext().hadoopConfiguration();
    h.set("fs.s3a.endpoint", endpoint);
    h.set("fs.s3a.path.style.access", "true");
    h.set("fs.s3a.connection.ssl.enabled", "false");
    h.set("fs.s3a.access.key", IDENTITY);
    h.set("fs.s3a.secret.key", "a-wrong-secret");
    h.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    h.set("fs.s3a.change.detection.mode", "none");
    h.set("fs.s3a.attempts.maximum", "1");
    // A cached S3A instance from another test would carry other credentials.
    h.set("fs.s3a.impl.disable.cache", "true");
    String corpus = TestModels.repoRoot().resolve("common/src/test/resources/corpus/jsonl").toString();
    KnowableConfig c = dev.knowable.config.ConfigLoader.load(null, List.of("run-id=s3", "output=\"s3a://" + BUCKET
        + "/out\"", "ingest.inputs=[{path=\"" + corpus + "\", format=jsonl}]"));

    assertThatThrownBy(() -> Main.run(spark, "ingest,tokenize", c))
        .isInstanceOf(dev.knowable.config.ConfigException.class)
        .hasMessageStartingWith("The output location s3a://" + BUCKET + "/out (S3 endpoint " + endpoint
            + ") is not writable (")
        .hasMessageContaining("AccessDenied")
        .hasMessageContaining("nothing was computed");
    List<String> keys = client(SECRET).listObjects(BUCKET).getObjectSummaries().stream()
        .map(S3ObjectSummary::getKey).toList();
    assertThat(keys).containsExactly("out/documents/run_id=old/_manifest.json");
  }
}
