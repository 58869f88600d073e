package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/knowable-submit builds the spark-submit command each cluster manager needs (run
 * with --dry-run: no cluster here), and deploy/gpu/get_gpus_resources.sh prints what Spark's
 * GPU discovery expects. This machine has no GPU: a stand-in nvidia-smi prints two indices.
 */
class DeployScriptsTest {
  private static final Path ROOT = TestModels.repoRoot();

  private record Result(int rc, String out) {}

  private static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out);
  }

  @Test
  void yarnWithGpusShipsTheConfigAndTheDiscoveryScript() throws Exception {
    Result r = run(Map.of(), "deploy/knowable-submit", "--dry-run", "--master", "yarn", "--executor-cores", "8",
        "--gpus-per-executor", "2", "--", "pipeline", "--config", "conf/demo.conf", "--set", "run-id=x");
    assertThat(r.rc()).isZero();
    assertThat(r.out()).contains("--master yarn --deploy-mode cluster --class dev.knowable.jobs.Main")
        .contains("spark.executor.resource.gpu.amount=2").contains("spark.task.resource.gpu.amount=1")
        .contains("spark.task.cpus=4").contains("spark.executorEnv.OMP_NUM_THREADS=4")
        .contains("spark.executor.resource.gpu.discoveryScript=./get_gpus_resources.sh")
        .contains(ROOT.resolve("conf/demo.conf") + "\\," + ROOT.resolve("deploy/gpu/get_gpus_resources.sh"))
        .contains("-Dai.djl.offline=true")
        .endsWith("knowable-app.jar pipeline --config demo.conf --set run-id=x \n");
  }

  @Test
  void kubernetesWithGpusNamesTheVendorPodTemplateAndImage() throws Exception {
    Result r = run(Map.of(), "deploy/knowable-submit", "--dry-run", "--master", "k8s://https://api:6443",
        "--image", "reg/knowable:1", "--gpus-per-executor", "1", "--", "score-small", "--config", "conf/demo.conf");
    assertThat(r.rc()).isZero();
    assertThat(r.out()).contains("spark.executor.resource.gpu.vendor=nvidia.com")
        .contains("spark.kubernetes.executor.podTemplateFile=" + ROOT.resolve("deploy/k8s/executor-pod-template.yaml"))
        .contains("spark.kubernetes.container.image=reg/knowable:1")
        .contains("spark.executor.resource.gpu.discoveryScript=/opt/knowable/get_gpus_resources.sh");
    assertThat(Files.exists(ROOT.resolve("deploy/k8s/executor-pod-template.yaml"))).isTrue();
  }

  @Test
  void standaloneOnCpuHasNoGpuSettingsAndClientModeKeepsTheConfigPath() throws Exception {
    Result r = run(Map.of(), "deploy/knowable-submit", "--dry-run", "--master", "spark://h:7077", "--deploy-mode",
        "client", "--", "ingest", "--config", "conf/demo.conf");
    assertThat(r.rc()).isZero();
    assertThat(r.out()).doesNotContain("resource.gpu").contains("spark.task.cpus=4")
        .endsWith("ingest --config conf/demo.conf \n");
  }

  @Test
  void mistakesExitWithTwoAndSayWhy() throws Exception {
    Result noMaster = run(Map.of(), "deploy/knowable-submit", "--", "pipeline");
    assertThat(noMaster.rc()).isEqualTo(2);
    assertThat(noMaster.out()).contains("--master is required");
    Result noImage = run(Map.of(), "deploy/knowable-submit", "--dry-run", "--master", "k8s://https://api:6443", "--",
        "pipeline");
    assertThat(noImage.rc()).isEqualTo(2);
    assertThat(noImage.out()).contains("Kubernetes needs --image");
    Result stray = run(Map.of(), "deploy/knowable-submit", "--master", "yarn", "pipeline");
    assertThat(stray.rc()).isEqualTo(2);
    assertThat(stray.out()).contains("knowable's own arguments go after --");
  }

  /** A jar inside the container image (local://) is passed on unchecked; a missing local jar is refused. */
  @Test
  void aJarInTheImageNeedsNoLocalFile(@TempDir Path tmp) throws Exception {
    Path submit = tmp.resolve("spark-submit");
    Files.writeString(submit, "#!/bin/sh\necho \"submitted: $*\"\n");
    Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
    Map<String, String> env = Map.of("PATH", tmp + ":" + System.getenv("PATH"), "SPARK_HOME", "");
    Result image = run(env, "deploy/knowable-submit", "--master", "k8s://https://api:6443", "--image",
        "reg/knowable:1", "--jar", "local:///opt/knowable/knowable-app.jar", "--", "pipeline", "--set", "run-id=x");
    assertThat(image.rc()).isZero();
    assertThat(image.out()).startsWith("submitted: --master k8s://https://api:6443")
        .contains("local:///opt/knowable/knowable-app.jar pipeline --set run-id=x");
    Result missing = run(env, "deploy/knowable-submit", "--master", "yarn", "--jar", tmp.resolve("none.jar").toString(),
        "--", "pipeline");
    assertThat(missing.rc()).isEqualTo(2);
    assertThat(missing.out()).contains("no application jar at");
  }

  @Test
  void gpuDiscoveryPrintsTheAddressesSparkExpects(@TempDir Path tmp) throws Exception {
    Path fake = tmp.resolve("nvidia-smi");
    Files.writeString(fake, "#!/bin/sh\necho ' 0'\necho ' 1'\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    String path = tmp + ":" + System.getenv("PATH");
    Result two = run(Map.of("PATH", path), "deploy/gpu/get_gpus_resources.sh");
    assertThat(two.rc()).isZero();
    assertThat(two.out()).isEqualTo("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}\n");
    Files.writeString(fake, "#!/bin/sh\nexit 9\n");
    Result none = run(Map.of("PATH", path), "deploy/gpu/get_gpus_resources.sh");
    assertThat(none.out()).isEqualTo("{\"name\": \"gpu\", \"addresses\": []}\n");
  }
}
