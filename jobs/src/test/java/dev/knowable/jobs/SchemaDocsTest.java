package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.jobs.cli.Stages;
import dev.knowable.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * data-schemas/ and the stages agree: every table a stage writes is documented, with that
 * stage named, and listed in data-schemas/README.md; every documented table is written by
 * the stage it names. (The written columns and types are checked against the same files
 * in TinyFamilyPipelineTest, on every table of a pipeline run.)
 */
class SchemaDocsTest {
  @Test
  void everyTableIsDocumentedByTheStageThatWritesIt() throws Exception {
    Map<String, String> written = new TreeMap<>();
    Stages.all().forEach(s -> s.outputs().forEach(t -> written.put(t, s.name())));
    Path dir = TestModels.repoRoot().resolve("data-schemas");
    Map<String, String> documented = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
        JsonNode n = new ObjectMapper().readTree(f.toFile());
        assertThat(n.get("table").asText() + ".json").as("file name of %s", f).isEqualTo(f.getFileName().toString());
        documented.put(n.get("table").asText(), n.get("stage").asText());
      }
    }
    assertThat(documented).isEqualTo(written);
    String readme = Files.readString(dir.resolve("README.md"));
    for (Map.Entry<String, String> e : written.entrySet()) {
      assertThat(readme).as("data-schemas/README.md lists %s", e.getKey())
          .contains("| " + e.getKey() + " | " + e.getValue() + " |");
    }
  }
}
