package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single-file benchmark programs under bench/ (run as {@code java bench/X.java}) are not
 * part of the Maven build, so an API change can break them unnoticed until someone runs a
 * benchmark (ProbeFitBench did, after MlpSettings gained a field). Compile each one against
 * the test classpath, which holds common, Spark, Parquet and DJL.
 */
class BenchSourcesCompileTest {
  @Test
  void everyBenchProgramCompiles(@TempDir Path out) throws IOException {
    List<Path> sources;
    try (Stream<Path> s = Files.list(TestModels.repoRoot().resolve("bench"))) {
      sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertThat(sources).extracting(p -> p.getFileName().toString()).contains("ProbeFitBench.java");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    for (Path src : sources) {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      List<String> args = new ArrayList<>(List.of("-proc:none", "-d", out.resolve(src.getFileName().toString())
          .toString(), "-cp", System.getProperty("java.class.path"), src.toString()));
      int rc = javac.run(null, null, err, args.toArray(new String[0]));
      assertThat(rc).as("javac %s:%n%s", src, err.toString(StandardCharsets.UTF_8)).isZero();
    }
  }
}
