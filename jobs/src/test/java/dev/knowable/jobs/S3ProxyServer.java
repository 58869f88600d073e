package dev.knowable.jobs;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import dev.knowable.model.TestModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for the S3 tests: S3Proxy (the jar the build puts in
 * jobs/target/it-tools) as a child JVM on a free loopback port, with its in-memory store.
 * The authorization lines are the caller's (none, or aws-v2-or-v4 with one identity).
 */
final class S3ProxyServer implements AutoCloseable {
  private final Process process;
  private final String endpoint;

  private S3ProxyServer(Process process, String endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  /** Starts the server and waits (up to 60 s) until it accepts connections. */
  static S3ProxyServer start(Path tmp, String... authorization) throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String endpoint = "http://127.0.0.1:" + port;
    List<String> lines = new ArrayList<>(List.of("s3proxy.endpoint=" + endpoint));
    lines.addAll(List.of(authorization));
    lines.addAll(List.of("jclouds.provider=transient", "jclouds.identity=local", "jclouds.credential=local", ""));
    Path props = tmp.resolve("s3proxy.properties");
    Files.writeString(props, String.join("\n", lines));
    Path jar = TestModels.repoRoot().resolve("jobs/target/it-tools/s3proxy.jar");
    Path log = tmp.resolve("s3proxy.log");
    Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-jar", jar.toString(), "--properties", props.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long end = System.currentTimeMillis() + 60_000;
    while (true) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return new S3ProxyServer(p, endpoint);
      } catch (IOException e) {
        if (System.currentTimeMillis() > end || !p.isAlive()) {
          p.destroyForcibly();
          throw new AssertionError("S3Proxy did not start: " + Files.readString(log));
        }
        Thread.sleep(200);
      }
    }
  }

  String endpoint() {
    return endpoint;
  }

  /** An AWS SDK client for this server, path-style, with the given identity and secret. */
  AmazonS3 client(String identity, String secret) {
    return AmazonS3ClientBuilder.standard()
        .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, "us-east-1"))
        .withPathStyleAccessEnabled(true)
        .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(identity, secret))).build();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
