package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.ConfigFingerprint;
import dev.knowable.jobs.cli.Stages;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.model.TestModels;
import dev.knowable.tables.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The table registry ({@link Table}) agrees with what it replaced and with data-schemas/:
 * every table has its schema file, naming the same stage and partitioning; every stage writes
 * exactly the tables the registry gives it; the fingerprint sections are those each table had
 * before the registry (so fingerprints, and the reuse of committed tables, are unchanged).
 */
class TableRegistryTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyTableHasItsSchemaFileWithTheSameStageAndPartitioning() throws Exception {
    Path root = TestModels.repoRoot();
    for (Table t : Table.values()) {
      Path file = root.resolve(t.schemaFile());
      assertThat(file).as("schema file of %s", t.name()).isRegularFile();
      JsonNode n = JSON.readTree(file.toFile());
      assertThat(n.get("table").asText()).as("table of %s", file).isEqualTo(t.tableName());
      assertThat(n.get("stage").asText()).as("stage of %s", file).isEqualTo(t.stage());
      List<String> partitionBy = new ArrayList<>();
      n.get("partition_by").forEach(c -> partitionBy.add(c.asText()));
      assertThat(t.partitionBy()).as("partition columns of %s vs %s", t.name(), file).isEqualTo(partitionBy);
      List<String> columns = t.schema().columns().stream().map(c -> c.name()).toList();
      assertThat(columns).as("declared columns of %s", file).containsAll(t.partitionBy());
    }
    try (Stream<Path> files = Files.list(root.resolve("data-schemas"))) {
      List<String> documented = files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json"))
          .map(f -> f.substring(0, f.length() - ".json".length())).sorted().toList();
      assertThat(documented).as("every schema file is a registry table")
          .isEqualTo(Arrays.stream(Table.values()).map(Table::tableName).sorted().toList());
    }
  }

  /** What the writes passed before the registry held it: the tables a reader finds by partition. */
  @Test
  void partitioningIsWhatTheWritesUsedBefore() {
    for (Table t : Table.values()) {
      List<String> expected = switch (t) {
        case DOCUMENTS, TOKENS, SMALL_SCORES, LARGE_SCORES, PROBE_EXAMPLES, TOKEN_UNCERTAINTY, ICLT_SCORES ->
            List.of("domain");
        case PROBE_MODELS -> List.of("probe_kind");
        default -> List.of();
      };
      assertThat(t.partitionBy()).as(t.tableName()).isEqualTo(expected);
    }
  }

  @Test
  void everyStageWritesExactlyTheTablesTheRegistryGivesIt() {
    List<String> names = new ArrayList<>();
    for (Stage s : Stages.all()) {
      names.add(s.name());
      List<Table> own = Arrays.stream(Table.values()).filter(t -> t.stage().equals(s.name())).toList();
      assertThat(s.tables()).as("tables of %s", s.name()).isEqualTo(own);
      assertThat(s.outputs()).as("outputs of %s", s.name()).isEqualTo(own.stream().map(Table::tableName).toList());
    }
    for (Table t : Table.values()) {
      assertThat(names).as("the stage of %s is a stage of the pipeline", t.tableName()).contains(t.stage());
    }
    assertThat(new TreeSet<>(Arrays.stream(Table.values()).map(Table::stage).toList()))
        .containsExactlyInAnyOrder("ingest", "tokenize", "score-small", "score-large", "label", "probe", "apply",
            "iclt", "aggregate");
  }

  /**
   * The sections of every table as ConfigFingerprint listed them before the registry, verbatim:
   * equal sections give byte-identical fingerprints, so committed tables stay reusable.
   */
  @Test
  void fingerprintSectionsAreThoseEachTableHadBefore() {
    List<String> ingest = List.of("ingest");
    List<String> tokens = List.of("ingest", "tokenize", "models.small.path");
    List<String> small = List.of("ingest", "tokenize", "models.small");
    List<String> large = List.of("ingest", "tokenize", "models.small.path", "models.large");
    List<String> labels = List.of("ingest", "tokenize", "models", "score", "label");
    List<String> probes = List.of("ingest", "tokenize", "models", "score", "label", "probe");
    List<String> icltScores = List.of("ingest", "tokenize", "models", "score", "label", "iclt");
    List<String> icltMetrics = List.of("ingest", "tokenize", "models", "score", "label", "iclt", "probe.model-pair");
    Map<String, List<String>> before = Map.ofEntries(
        Map.entry("documents", ingest), Map.entry("rejects", ingest), Map.entry("tokens", tokens),
        Map.entry("small_scores", small), Map.entry("large_scores", large),
        Map.entry("small_rejects", small), Map.entry("large_rejects", large), Map.entry("probe_examples", labels),
        Map.entry("probe_metrics", probes), Map.entry("probe_models", probes), Map.entry("cross_domain", probes),
        Map.entry("probe_comparisons", probes),
        Map.entry("iclt_scores", icltScores), Map.entry("iclt_metrics", icltMetrics),
        Map.entry("iclt_comparisons", icltMetrics),
        Map.entry("token_uncertainty", List.of("ingest", "tokenize", "models.small", "score", "apply")));
    assertThat(ConfigFingerprint.TABLE_SECTIONS).isEqualTo(before);
    for (Table t : Table.values()) {
      assertThat(t.fingerprintSections()).as(t.tableName()).isEqualTo(before.getOrDefault(t.tableName(), List.of()));
    }
  }

  @Test
  void namesAndRolesResolveOrFailNamingTheKnownTables() {
    for (Table t : Table.values()) {
      assertThat(Table.byName(t.tableName())).isEqualTo(t);
      assertThat(t).hasToString(t.tableName());
    }
    assertThat(Table.find("small_score")).isEmpty();
    assertThatThrownBy(() -> Table.byName("small_score")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Unknown table 'small_score'").hasMessageContaining("small_scores")
        .hasMessageContaining("agg_iclt_vs_bet");
    assertThat(Table.scores("small")).isEqualTo(Table.SMALL_SCORES);
    assertThat(Table.scores("large")).isEqualTo(Table.LARGE_SCORES);
    assertThat(Table.rejectsOf("small")).isEqualTo(Table.SMALL_REJECTS);
    assertThat(Table.rejectsOf("large")).isEqualTo(Table.LARGE_REJECTS);
    assertThatThrownBy(() -> Table.scores("medium")).hasMessageContaining("small and large");
    assertThat(Table.producedBy("report")).isEmpty();
  }
}
