package dev.knowable.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.knowable.model.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of jobs/ (see the package-info of cli, tables, runtime and evaluate), read
 * from the import lines of jobs/src/main/java and from the fully-qualified names in its code
 * (comments aside): runtime depends on nothing else of jobs/; tables only on runtime; evaluate
 * only on tables and runtime; stage packages are siblings: they never depend on the CLI nor on
 * another stage package (except the edges listed in {@link #ALLOWED}, none today). And no
 * package of jobs/, nor the table registry in common, is part of an import cycle.
 */
class PackageRulesTest {
  private static final String JOBS = "dev.knowable.jobs";
  private static final Set<String> STAGES =
      Set.of("aggregate", "apply", "hidden", "iclt", "ingest", "label", "probe", "report", "score", "tokenize");
  /** The shared layers beneath the stages (cli sits above them). */
  private static final Set<String> LAYERS = Set.of("cli", "tables", "runtime", "evaluate");
  /**
   * Known edges that break a rule, as "file's class -> imported class", each with its reason.
   * None is left: what stages share lives in tables and evaluate, and which stage wrote a table
   * comes from the table registry (dev.knowable.tables.Table), not from the CLI's stage list.
   */
  static final Set<String> ALLOWED = Set.of();
  /** Any package of the project named by an import: the segments before the first class name. */
  private static final Pattern ANY_IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?(dev\\.knowable(?:\\.[a-z_]\\w*)*)\\.[A-Z]", Pattern.MULTILINE);
  /** A fully-qualified class of the project named in code. */
  private static final Pattern ANY_QUALIFIED = Pattern.compile("\\bdev\\.knowable(?:\\.[a-z_]\\w*)+(?=\\.[A-Z])");
  /** The table registry: Spark-free, in common, read by config and the jobs; it must sit in no cycle. */
  private static final String REGISTRY = "dev.knowable.tables";
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?(dev\\.knowable\\.jobs(?:\\.[\\w*]+)*)\\s*;", Pattern.MULTILINE);
  /** A fully-qualified class of jobs/ named in code: lower-case package segments, then the class. */
  private static final Pattern QUALIFIED = Pattern.compile("\\bdev\\.knowable\\.jobs(?:\\.[a-z_][\\w]*)*\\.[A-Z]\\w*");
  /**
   * Text blocks, string and char literals and comments of Java source: none of them is a
   * dependency (a text block first: read as strings, its quotes would pair up wrongly).
   */
  private static final Pattern LITERAL_OR_COMMENT = Pattern.compile(
      "\"\"\".*?\"\"\"|\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])'|//[^\\n]*|/\\*.*?\\*/", Pattern.DOTALL);

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
    assertThat(broken)
        .as("dependencies that break the package rules of jobs/ (package-info.java of cli, tables, runtime, evaluate)")
        .isEmpty();
  }

  /**
   * No import cycle between packages touches jobs/ or the table registry: the package graph of
   * common/ and jobs/ main code (imports and qualified names in code), split into strongly
   * connected components. (common's settings packages and config still refer to each other;
   * that cycle is outside jobs/ and outside the registry.)
   */
  @Test
  void noImportCycleThroughJobsOrTheRegistry() throws IOException {
    Map<String, Set<String>> graph = new TreeMap<>();
    for (String module : List.of("common/src/main/java", "jobs/src/main/java")) {
      Path src = TestModels.repoRoot().resolve(module);
      try (Stream<Path> walk = Files.walk(src)) {
        for (Path f : walk.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
          addEdges(graph, Files.readString(f));
        }
      }
    }
    assertThat(graph).containsKeys(JOBS + ".aggregate", JOBS + ".cli", REGISTRY);
    List<List<String>> cycles = cycles(graph).stream()
        .filter(c -> c.stream().anyMatch(p -> p.startsWith(JOBS) || p.equals(REGISTRY))).toList();
    assertThat(cycles).as("import cycles (packages that depend on each other) through jobs/ or " + REGISTRY)
        .isEmpty();
  }

  @Test
  void anImportCycleIsFound() {
    Map<String, Set<String>> graph = new TreeMap<>();
    addEdges(graph, "package dev.knowable.jobs.aggregate;\n\nimport dev.knowable.jobs.cli.Stages;\n");
    addEdges(graph, "package dev.knowable.jobs.cli;\n\nimport dev.knowable.jobs.tables.Stage;\n"
        + "class X { Object o = new dev.knowable.jobs.aggregate.AggregateStage(); }\n");
    addEdges(graph, "package dev.knowable.jobs.tables;\n\nimport dev.knowable.tables.Table;\n"
        + "class Y {\n  String dag = \"\"\"\n    java_class=\"dev.knowable.jobs.cli.Main\", // \"x\"\n    \"\"\";\n}\n");
    assertThat(graph.get("dev.knowable.jobs.tables")).as("a class named in a text block is no dependency")
        .containsExactly("dev.knowable.tables");
    assertThat(cycles(graph)).singleElement()
        .isEqualTo(List.of("dev.knowable.jobs.aggregate", "dev.knowable.jobs.cli"));
  }

  /** Adds the edges from the package of {@code source} to every other project package it names. */
  private static void addEdges(Map<String, Set<String>> graph, String source) {
    Matcher pm = PACKAGE.matcher(source);
    if (!pm.find()) {
      return;
    }
    String from = pm.group(1);
    Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
    Matcher im = ANY_IMPORT.matcher(source);
    while (im.find()) {
      to.add(im.group(1));
    }
    Matcher qm = ANY_QUALIFIED.matcher(code(source));
    while (qm.find()) {
      to.add(qm.group());
    }
    to.remove(from);
    to.forEach(p -> graph.computeIfAbsent(p, k -> new TreeSet<>()));
  }

  /** The strongly connected components of more than one package, each sorted (Tarjan). */
  static List<List<String>> cycles(Map<String, Set<String>> graph) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new HashSet<>();
    List<List<String>> out = new ArrayList<>();
    for (String v : graph.keySet()) {
      if (!index.containsKey(v)) {
        connect(v, graph, index, low, stack, onStack, out);
      }
    }
    return out;
  }

  private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<List<String>> out) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (String w : graph.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, graph, index, low, stack, onStack, out);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      List<String> component = new ArrayList<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) {
        component.sort(null);
        out.add(component);
      }
    }
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
    // The edge the registry removed is no longer allowed either.
    String aggregate = "package dev.knowable.jobs.aggregate;\n\nimport dev.knowable.jobs.cli.Stages;\n";
    assertThat(violations("dev/knowable/jobs/aggregate/AggregateStage.java", aggregate)).singleElement(STRING)
        .contains("a stage package must not depend on the CLI");
  }

  @Test
  void aStagePackageDependingOnAnotherIsReported() {
    String imports = "package dev.knowable.jobs.report;\n\nimport dev.knowable.jobs.apply.ApplyStage;\n"
        + "import static dev.knowable.jobs.probe.ProbeStage.CONTEXT_IDS;\nimport dev.knowable.jobs.report.Html;\n"
        + "import dev.knowable.jobs.evaluate.StoredProbes;\nimport dev.knowable.jobs.tables.ProbeTables;\n";
    assertThat(violations("dev/knowable/jobs/report/X.java", imports)).hasSize(2)
        .allSatisfy(v -> assertThat(v).contains("another stage package"))
        .anySatisfy(v -> assertThat(v).contains("dev.knowable.jobs.apply.ApplyStage"))
        .anySatisfy(v -> assertThat(v).contains("dev.knowable.jobs.probe.ProbeStage.CONTEXT_IDS"));
    String qualified = "package dev.knowable.jobs.report;\n\nclass X {\n"
        + "  // dev.knowable.jobs.probe.ProbeStage in a comment is no dependency\n"
        + "  /** Nor {@link dev.knowable.jobs.apply.ApplyStage} in javadoc. */\n"
        + "  Object f(Object e, Object t) {\n"
        + "    String s = \"dev.knowable.jobs.apply.ApplyStage in a string, // not a comment\";\n"
        + "    return dev.knowable.jobs.probe.ProbeStage.withContextIds(e, t) + \"//\"\n"
        + "        + dev.knowable.jobs.hidden.HiddenStates.x;\n"
        + "  }\n}\n";
    assertThat(violations("dev/knowable/jobs/report/X.java", qualified)).hasSize(2)
        .anySatisfy(v -> assertThat(v).contains("names dev.knowable.jobs.probe.ProbeStage", "another stage package"))
        .anySatisfy(v -> assertThat(v).contains("names dev.knowable.jobs.hidden.HiddenStates"));
    String evaluate = "package dev.knowable.jobs.evaluate;\n\nimport dev.knowable.jobs.tables.ProbeTables;\n"
        + "import dev.knowable.jobs.runtime.Slots;\nimport dev.knowable.jobs.probe.ProbeFitTask;\n";
    assertThat(violations("dev/knowable/jobs/evaluate/X.java", evaluate)).singleElement(STRING)
        .contains("dev.knowable.jobs.probe.ProbeFitTask", "evaluate may depend on");
  }

  /**
   * One line per forbidden dependency of {@code source} (file named by {@code file}): its
   * imports, and the fully-qualified jobs/ classes its code names outside imports and comments.
   */
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
      String why = forbidden(from, area(imported.substring(0, imported.lastIndexOf('.'))));
      if (why != null && !ALLOWED.contains(cls + " -> " + imported)) {
        out.add(file + ": import " + imported + " (" + why + ")");
      }
    }
    Matcher qm = QUALIFIED.matcher(code(source));
    while (qm.find()) {
      String named = qm.group();
      String why = forbidden(from, area(named.substring(0, named.lastIndexOf('.'))));
      if (why != null && !ALLOWED.contains(cls + " -> " + named)) {
        out.add(file + ": names " + named + " (" + why + ")");
      }
    }
    return out;
  }

  /** The code of {@code source} without its package and import lines, literals and comments. */
  private static String code(String source) {
    String noImports = source.replaceAll("(?m)^(?:package|import)\\s[^\\n]*", "");
    return LITERAL_OR_COMMENT.matcher(noImports).replaceAll(" ");
  }

  /**
   * The area of a package name (or an import's prefix): cli, tables, runtime, evaluate, the
   * stage's own name for a stage package, root, or other (outside jobs/).
   */
  private static String area(String pkg) {
    if (!pkg.startsWith(JOBS)) {
      return "other";
    }
    if (pkg.equals(JOBS)) {
      return "root";
    }
    String first = pkg.substring(JOBS.length() + 1).split("\\.")[0];
    return LAYERS.contains(first) || STAGES.contains(first) ? first : "root";
  }

  private static String forbidden(String from, String to) {
    if (from.equals(to) || to.equals("other")) {
      return null;
    }
    if (STAGES.contains(from)) {
      if (to.equals("cli") || to.equals("root")) {
        return "a stage package must not depend on the CLI";
      }
      return STAGES.contains(to) ? "a stage package must not depend on another stage package" : null;
    }
    return switch (from) {
      case "runtime" -> "runtime may depend on common only";
      case "tables" -> to.equals("runtime") ? null : "tables may depend on common and runtime only";
      case "evaluate" -> to.equals("runtime") || to.equals("tables") ? null
          : "evaluate may depend on common, runtime and tables only";
      default -> null;
    };
  }
}
