package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * S3 credentials the server refuses: S3Proxy (child JVM, in-memory store) with AWS
 * signature checking on and one identity. A run whose secret key is wrong fails before any
 * stage work with a message naming the output location and the endpoint, and the bucket
 * holds afterwards exactly what it held before.
 */
class S3CredentialsIT extends SparkTestBase {
  static final String BUCKET = "knowable-auth";
  static final String IDENTITY = "knowable";
  static final String SECRET = "the-right-secret";
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
    Files.writeString(props, String.join("\n", "s3proxy.endpoint=" + endpoint,
        "s3proxy.authorization=aws-v2-or-v4", "s3proxy.identity=" + IDENTITY, "s3proxy.credential=" + SECRET,
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
    client(SECRET).createBucket(BUCKET);
    client(SECRET).putObject(BUCKET, "out/documents/run_id=old/_manifest.json", "{}");
  }

  static AmazonS3 client(String secret) {
    return AmazonS3ClientBuilder.standard()
        .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, "us-east-1"))
        .withPathStyleAccessEnabled(true)
        .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(IDENTITY, secret))).build();
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
