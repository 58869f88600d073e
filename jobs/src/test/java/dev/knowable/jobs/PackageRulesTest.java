package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.knowable.model.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of jobs/ (see the package-info of cli, tables and runtime), read from the
 * import lines of jobs/src/main/java: runtime imports nothing else of jobs/; tables imports only
 * runtime; stage packages never import the CLI (except the edges listed in {@link #ALLOWED}).
 */
class PackageRulesTest {
  private static final String JOBS = "dev.knowable.jobs";
  private static final Set<String> STAGES =
      Set.of("aggregate", "apply", "hidden", "iclt", "ingest", "label", "probe", "report", "score", "tokenize");
  /**
   * Known edges that break a rule, as "file's class -> imported class". AggregateStage names the
   * stage that wrote each table of its runs table from the CLI's stage list.
   */
  static final Set<String> ALLOWED =
      Set.of("dev.knowable.jobs.aggregate.AggregateStage -> dev.knowable.jobs.cli.Stages");
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?(dev\\.knowable\\.jobs(?:\\.[\\w*]+)*)\\s*;", Pattern.MULTILINE);

  @Test
  void packagesImportOnlyWhatTheirRulesAllow() throws IOException {
    Path src = TestModels.repoRoot().resolve("jobs/src/main/java");
    List<String> broken = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(src)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    for (Path f : files) {
      broken.addAll(violations(src.relativize(f).toString(), Files.readString(f)));
    }
    assertThat(files).hasSizeGreaterThan(20);
    assertThat(broken).as("imports that break the package rules of jobs/ (package-info.java of cli, tables, runtime)")
        .isEmpty();
  }

  @Test
  void aForbiddenImportIsReported() {
    String runtime = "package dev.knowable.jobs.runtime;\n\nimport dev.knowable.jobs.tables.RunTables;\n";
    assertThat(violations("dev/knowable/jobs/runtime/X.java", runtime)).singleElement(STRING)
        .contains("runtime/X.java", "dev.knowable.jobs.tables.RunTables");
    String tables = "package dev.knowable.jobs.tables;\n\nimport static dev.knowable.jobs.score.ScoreStage.SMALL;\n"
        + "import dev.knowable.jobs.runtime.Slots;\n";
    assertThat(violations("dev/knowable/jobs/tables/X.java", tables)).singleElement(STRING)
        .contains("dev.knowable.jobs.score.ScoreStage.SMALL");
    String stage = "package dev.knowable.jobs.probe;\n\nimport dev.knowable.jobs.cli.Stages;\n"
        + "import dev.knowable.jobs.tables.RunTables;\n";
    assertThat(violations("dev/knowable/jobs/probe/X.java", stage)).singleElement(STRING)
        .contains("dev.knowable.jobs.cli.Stages");
  }

  /** One line per forbidden import of {@code source} (file named by {@code file}). */
  static List<String> violations(String file, String source) {
    Matcher pm = PACKAGE.matcher(source);
    if (!pm.find()) {
      return List.of();
    }
    String from = area(pm.group(1));
    String cls = pm.group(1) + "." + Path.of(file).getFileName().toString().replaceFirst("\\.java$", "");
    List<String> out = new ArrayList<>();
    Matcher im = IMPORT.matcher(source);
    while (im.find()) {
      String imported = im.group(1);
      String to = area(imported.substring(0, imported.lastIndexOf('.')));
      String why = forbidden(from, to);
      if (why != null && !ALLOWED.contains(cls + " -> " + imported)) {
        out.add(file + ": import " + imported + " (" + why + ")");
      }
    }
    return out;
  }

  /** cli, tables, runtime, stage, root, or other for a package name (or an import's prefix). */
  private static String area(String pkg) {
    if (!pkg.startsWith(JOBS)) {
      return "other";
    }
    if (pkg.equals(JOBS)) {
      return "root";
    }
    String first = pkg.substring(JOBS.length() + 1).split("\\.")[0];
    if (first.equals("cli") || first.equals("tables") || first.equals("runtime")) {
      return first;
    }
    return STAGES.contains(first) ? "stage" : "root";
  }

  private static String forbidden(String from, String to) {
    if (from.equals(to) || to.equals("other")) {
      return null;
    }
    return switch (from) {
      case "runtime" -> "runtime may depend on common only";
      case "tables" -> to.equals("runtime") ? null : "tables may depend on common and runtime only";
      case "stage" -> to.equals("cli") || to.equals("root") ? "a stage package must not depend on the CLI" : null;
      default -> null;
    };
  }
}
