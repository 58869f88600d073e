package dev.knowable.layout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * common/ is the engine-free library: no source under it may name Spark or Scala. The
 * build also bans both as dependencies of common/ (enforcer rule in common/pom.xml); this
 * test names the offending files when a fully qualified reference slips in some other way.
 */
class EngineFreeTest {
  @Test
  void noSourceUnderCommonNamesSpark() throws IOException {
    Path root = TestModels.repoRoot().resolve("common/src");
    List<String> offenders;
    try (Stream<Path> files = Files.walk(root)) {
      offenders = files.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> !p.getFileName().toString().equals("EngineFreeTest.java"))
          .filter(p -> {
            try {
              String src = Files.readString(p);
              return src.contains("org.apache.spark") || src.contains("import scala.");
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          })
          .map(p -> root.relativize(p).toString()).toList();
    }
    assertThat(offenders).as("files under common/ that name Spark; move them to jobs/").isEmpty();
  }
}
