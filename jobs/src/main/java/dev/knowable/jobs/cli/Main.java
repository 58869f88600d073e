package dev.knowable.jobs.cli;

import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig;
import dev.knowable.config.Secrets;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point for spark-submit and the local launcher:
 * {@code knowable <stage|pipeline> [--config FILE] [--set key=value]...}.
 * {@link #main} only parses arguments; {@link #run} does the work and is what tests call.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** Failures with their stack traces: the launcher's log file, not the console (conf/log4j2.properties). */
  private static final Logger FAILURE_LOG = LoggerFactory.getLogger("dev.knowable.failure");

  /** Exit codes: 0 done, 1 an internal error, 2 something the user can fix (see {@link Failures}). */
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  /** Parsed command line; query is set for the sql command only. */
  record Args(String command, Path config, List<String> sets, String query, boolean verbose) {}

  /** Prints the Airflow DAG generated from the stage list ({@link AirflowDag}). */
  static final String AIRFLOW_DAG = "airflow-dag";

  private Main() {}

  public static void main(String[] argv) {
    System.exit(launch(argv));
  }

  static int launch(String[] argv) {
    Args args;
    try {
      args = parse(argv);
    } catch (IllegalArgumentException e) {
      System.err.println("knowable: " + e.getMessage());
      System.err.println("Run with --help for usage.");
      return USAGE;
    }
    if (args == null) {
      System.out.println(help());
      return OK;
    }
    if (args.command().equals(AIRFLOW_DAG)) {
      System.out.print(AirflowDag.render(Stages.all()));
      return OK;
    }
    try {
      KnowableConfig config = ConfigLoader.load(args.config(), args.sets());
      if (args.command().equals("sql")) {
        withSession(config, "sql", spark -> RunSql.show(spark, Preflight.qualify(spark, config), args.query()));
      } else {
        withSession(config, args.command(), spark -> run(spark, args.command(), config));
      }
      return OK;
    } catch (Exception | AssertionError | LinkageError e) { // Spark throws checked exceptions undeclared
      return report(e, args.command(), args.verbose());
    }
  }

  /** Prints one {@code knowable:} line (the stack trace too with --verbose), logs the trace, returns the exit code. */
  static int report(Throwable e, String command, boolean verbose) {
    boolean user = Failures.userFixable(e, command);
    String log = System.getProperty("knowable.log.file", "");
    System.err.println("knowable: " + Failures.oneLine(e)
        + (verbose || log.isBlank() ? "" : " (details: " + log + ", or rerun with --verbose)"));
    if (verbose) {
      e.printStackTrace();
    }
    FAILURE_LOG.error("{} failed ({}): {}", command, user ? "user-fixable, exit 2" : "internal error, exit 1",
        Failures.oneLine(e), e);
    return user ? USAGE : FAILED;
  }

  /** Returns null for --help. */
  static Args parse(String[] argv) {
    String command = null;
    String query = null;
    Path config = null;
    boolean verbose = false;
    List<String> sets = new ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      switch (a) {
        case "-h":
        case "--help":
          return null;
        case "--config":
        case "-c":
          config = Paths.get(value(argv, ++i, a));
          break;
        case "--set":
        case "-s":
          sets.add(value(argv, ++i, a));
          break;
        case "--verbose":
        case "-v":
          verbose = true;
          break;
        default:
          if (a.startsWith("--set=")) {
            sets.add(a.substring(6));
          } else if (a.startsWith("--config=")) {
            config = Paths.get(a.substring(9));
          } else if (a.startsWith("-")) {
            throw new IllegalArgumentException("unknown option " + a);
          } else if (command == null) {
            command = a;
          } else if (command.equals("sql") && query == null) {
            query = a;
          } else {
            throw new IllegalArgumentException("unexpected argument '" + a + "' (one stage or 'pipeline' per run)");
          }
      }
    }
    if (command == null) {
      throw new IllegalArgumentException("name a stage or 'pipeline'");
    }
    if (command.equals(AIRFLOW_DAG)) {
      return new Args(command, config, sets, null, verbose);
    }
    if (command.equals("sql")) {
      if (query == null) {
        throw new IllegalArgumentException("sql needs a query, e.g. sql \"SELECT * FROM probe_metrics\"");
      }
      return new Args(command, config, sets, query, verbose);
    }
    stagesOf(command);
    return new Args(command, config, sets, null, verbose);
  }

  private static String value(String[] argv, int i, String option) {
    if (i >= argv.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return argv[i];
  }

  private static List<String> stageNames() {
    List<String> names = new ArrayList<>();
    Stages.all().forEach(s -> names.add(s.name()));
    return names;
  }

  static final String SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions";

  /** Four shuffle partitions per local core: local[n], local[*] or local[n,retries]. */
  static int localShufflePartitions(String master) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?\\])?")
        .matcher(master.trim());
    int cores = Runtime.getRuntime().availableProcessors();
    if (m.matches() && m.group(1) != null && !m.group(1).equals("*")) {
      cores = Integer.parseInt(m.group(1));
    }
    return Math.max(4, 4 * cores);
  }

  /** Runs {@code work} in a session built from the config, and stops the session. */
  static void withSession(KnowableConfig config, String command, java.util.function.Consumer<SparkSession> work) {
    SparkSession.Builder builder = SparkSession.builder().appName(config.spark().appName() + " " + command);
    if (!config.spark().master().isBlank()) {
      builder = builder.master(config.spark().master());
    }
    // Secrets (Secrets.isSecret) go to Spark as given; Spark hides them in its UI, event log and
    // logConf with this regex, which knowable extends by "credential" unless the user sets one.
    if (!config.spark().conf().containsKey("spark.redaction.regex")) {
      builder = builder.config("spark.redaction.regex", Secrets.SPARK_REDACTION_REGEX);
    }
    // Local mode: Spark's default of 200 shuffle partitions turns every group-by of a small
    // run into 200 tiny tasks; a few per core is enough on one machine. Clusters keep
    // their own setting (spark-defaults or knowable.spark.conf).
    String master = config.spark().master();
    if (master.startsWith("local") && !config.spark().conf().containsKey(SHUFFLE_PARTITIONS)) {
      builder = builder.config(SHUFFLE_PARTITIONS, String.valueOf(localShufflePartitions(master)));
    }
    for (Map.Entry<String, String> e : config.spark().conf().entrySet()) {
      builder = builder.config(e.getKey(), e.getValue());
    }
    SparkSession spark = builder.getOrCreate();
    try {
      work.accept(spark);
    } finally {
      spark.stop();
    }
  }

  /** 'pipeline' = every stage; otherwise one stage name or a comma-separated list, run in the given order. */
  static List<Stage> stagesOf(String command) {
    if (command.equals("pipeline")) {
      return Stages.all();
    }
    List<Stage> stages = new ArrayList<>();
    for (String name : command.split(",")) {
      stages.add(Stages.named(name.trim()).orElseThrow(() -> new IllegalArgumentException(
          "unknown stage '" + name.trim() + "'; stages: " + stageNames())));
    }
    return stages;
  }

  /** Runs on a given session (tests share one). */
  public static void run(SparkSession spark, String command, KnowableConfig loaded) {
    List<Stage> stages = stagesOf(command);
    // Every location absolute and qualified once, here: nothing later depends on the working directory.
    KnowableConfig config = Preflight.qualify(spark, loaded);
    RunTables tables = new RunTables(spark, config);
    // Before any work: the output root takes files, no table folder holds foreign files, and
    // every input, model and tokenizer a stage of this command reads is there.
    tables.requireWritable();
    stages.forEach(s -> s.tables().forEach(tables::requireOnlyRunFolders));
    Preflight.check(spark, config, stages);
    // Settings that would only fail at a late stage (e.g. apply's probe) fail before any work.
    List<String> names = stages.stream().map(Stage::name).toList();
    stages.forEach(s -> s.checkBeforeRun(spark, config, tables, names));
    LOG.info("knowable run {} -> {} ({} stage(s): {}), config fingerprint {}", config.runId(), config.output(),
        stages.size(), names, config.fingerprint());
    long all = System.nanoTime();
    for (Stage s : stages) {
      long start = System.nanoTime();
      LOG.info("stage {} started: {}", s.name(), s.description());
      s.run(spark, config, tables);
      LOG.info("stage {} done in {} s; tables: {}", s.name(), String.format("%.1f", (System.nanoTime() - start) / 1e9),
          s.tables().stream().map(t -> tables.tablePath(t).toString()).toList());
    }
    LOG.info("knowable run {} finished in {} s", config.runId(), String.format("%.1f", (System.nanoTime() - all) / 1e9));
  }

  static String help() {
    StringBuilder sb = new StringBuilder();
    sb.append("knowable: tell the knowable from the unknowable with a small and a large language model.\n\n");
    sb.append("Usage: knowable <stage[,stage...]|pipeline> [--config FILE] [--set key=value]...\n\n");
    sb.append("Stages (run in this order by 'pipeline'):\n");
    for (Stage s : Stages.all()) {
      sb.append(String.format("  %-12s %s%n               writes: %s%n", s.name(), s.description(),
          String.join(", ", s.outputs())));
    }
    sb.append(String.format("  %-12s %s%n", "sql \"Q\"", "run a Spark SQL query over this run's tables (each table is a view)"));
    sb.append(String.format("  %-12s %s%n", AIRFLOW_DAG, "print the Airflow DAG of the pipeline (one task per stage; "
        + "the committed copy is " + AirflowDag.COMMITTED + ")"));
    sb.append("\nOptions:\n");
    sb.append("  -c, --config FILE   HOCON job config (keys as in reference.conf, with or without 'knowable.')\n");
    sb.append("  -s, --set K=V       override one key, e.g. --set run-id=r1 --set tokenize.max-tokens=512\n");
    sb.append("  -v, --verbose       print Spark's log and a failure's stack trace on the console\n");
    sb.append("  -h, --help          this text\n\n");
    sb.append("In 'pipeline', apply uses this run's pooled MLP probe of the highest layer, band [2, inf), gap\n");
    sb.append("labels (knowable.apply.* picks another). A trained probe scores new text with no large model:\n");
    sb.append("  knowable ingest,tokenize,score-small,apply --set apply.probe-run=<run with probe_models>\n\n");
    sb.append("Precedence: --set > --config file > reference.conf. Unknown keys are errors.\n");
    sb.append("Tables go to <output>/<table>/run_id=<run-id>/ and are published with a _manifest.json\n");
    sb.append("only when complete; rerunning a run-id skips committed tables (knowable.if-exists).\n");
    sb.append("Errors: one 'knowable: <what to fix>' line on stderr; the stack trace with --verbose or in the log.\n");
    sb.append("Exit codes: 0 done, 1 an internal error, 2 something to fix: usage, configuration, model, input\n");
    sb.append("or output location (missing, unreadable, damaged, not writable).\n");
    return sb.toString();
  }
}
