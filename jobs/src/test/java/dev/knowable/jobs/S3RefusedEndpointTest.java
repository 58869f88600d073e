package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.jobs.tables.RunTables;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An s3a:// output whose endpoint refuses connections fails the output check within 30 s,
 * naming the endpoint and the settings to change (S3A's defaults retry for many minutes).
 */
class S3RefusedEndpointTest extends SparkTestBase {

  @Test
  void aRefusedEndpointFailsFastNamingItAndTheSettings(@TempDir Path tmp) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: connections to it are refused
    }
    String endpoint = "http://127.0.0.1:" + port;
    Configuration h = spark.sparkContext().hadoopConfiguration();
    h.set("fs.s3a.endpoint", endpoint);
    h.set("fs.s3a.path.style.access", "true");
    h.set("fs.s3a.access.key", "k");
    h.set("fs.s3a.secret.key", "s");
    h.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    try {
      RunTables t = new RunTables(spark, config(tmp, "output=\"s3a://no-bucket/out\""));
      long t0 = System.nanoTime();
      assertThatThrownBy(t::requireWritable).isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("The output location s3a://no-bucket/out (S3 endpoint " + endpoint + ") is not writable")
          .hasMessageContaining("spark.hadoop.fs.s3a.endpoint");
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertThat(seconds).as("seconds to fail").isLessThan(30);
    } finally {
      for (String k : new String[] {"fs.s3a.endpoint", "fs.s3a.path.style.access", "fs.s3a.access.key",
          "fs.s3a.secret.key", "fs.s3a.aws.credentials.provider"}) {
        h.unset(k);
      }
    }
  }
}
