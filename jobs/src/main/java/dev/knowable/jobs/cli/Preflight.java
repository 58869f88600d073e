package dev.knowable.jobs.cli;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.InputSpec;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.model.ModelContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What the command line does between loading the config and the first stage: qualifies every
 * location once, then checks every input, model and tokenizer that a stage of this command
 * will read, so that a mistyped path fails in seconds, not after the stages before it ran.
 * (The output location and the table folders are checked by {@link RunTables}.)
 */
final class Preflight {
  private Preflight() {}

  /**
   * The config with its output, inputs and report path qualified by their file system
   * ({@code out} -> {@code file:/work/dir/out}; {@code hdfs://} and {@code s3a://} kept).
   */
  static KnowableConfig qualify(SparkSession spark, KnowableConfig config) {
    Configuration h = spark.sparkContext().hadoopConfiguration();
    return config.withLocations(location -> qualify(h, location));
  }

  static String qualify(Configuration h, String location) {
    Path p = new Path(location);
    java.net.URI u = p.toUri();
    if (u.getScheme() != null && (u.getAuthority() != null || (u.getScheme().equals("file") && p.isAbsolute()))) {
      return p.toString(); // already qualified: no file system is started for it
    }
    try {
      return p.getFileSystem(h).makeQualified(p).toString();
    } catch (IOException | RuntimeException e) {
      String missing = RunTables.missingFileSystem(e, p);
      throw new ConfigException(missing != null ? missing
          : "Cannot resolve the location " + location + ": " + RunTables.rootCause(e), e);
    }
  }

  /** Fails, naming the key and the path, when something a stage of {@code stages} reads is missing. */
  static void check(SparkSession spark, KnowableConfig config, List<Stage> stages) {
    Set<String> names = stages.stream().map(Stage::name).collect(Collectors.toSet());
    if (names.contains("ingest")) {
      List<InputSpec> inputs = config.ingest().inputs();
      if (inputs.isEmpty()) {
        throw new ConfigException("knowable.ingest.inputs is empty: list at least one { path, format } to ingest");
      }
      for (int i = 0; i < inputs.size(); i++) {
        requireInput(spark, inputs.get(i).path(), "knowable.ingest.inputs[" + i + "].path");
      }
    }
    if (names.contains("tokenize")) {
      java.nio.file.Path t = TokensTable.tokenizerPath(config);
      if (!Files.isRegularFile(t)) {
        throw new ConfigException("The tokenizer " + t + " does not exist (knowable.tokenize.tokenizer, or "
            + "tokenizer.json of knowable.models.small.path when that is empty)");
      }
    }
    if (names.contains("score-small")) {
      requireModel(config.small(), "score-small");
    }
    if (names.contains("score-large")) {
      requireModel(config.large(), "score-large");
    }
    if (names.contains("iclt")) {
      String which = config.iclt().model();
      requireModel(which.equals("small") ? config.small() : config.large(), "iclt (knowable.iclt.model = " + which + ")");
    }
  }

  private static void requireModel(KnowableConfig.ModelSettings model, String stage) {
    if (model.path().isBlank()) {
      throw new ConfigException("knowable.models." + model.role() + ".path is not set; " + stage + " needs it");
    }
    try {
      ModelContract.read(Paths.get(model.path()));
    } catch (RuntimeException e) {
      throw new ConfigException("knowable.models." + model.role() + ".path (needed by " + stage + "): "
          + e.getMessage(), e);
    }
  }

  private static void requireInput(SparkSession spark, String location, String key) {
    Path p = new Path(location);
    Configuration conf = new Configuration(spark.sparkContext().hadoopConfiguration());
    if (RunTables.isS3(p)) {
      RunTables.S3A_CHECK_SETTINGS.forEach(conf::set);
    }
    boolean[] found = new boolean[1];
    Throwable failure = RunTables.withDeadline(() -> {
      try (FileSystem fs = FileSystem.newInstance(p.toUri(), conf)) {
        var matches = fs.globStatus(p); // a plain path is its own glob
        found[0] = matches != null && matches.length > 0;
      }
      return null;
    });
    if (failure != null) {
      String missing = RunTables.missingFileSystem(failure, p);
      String what = failure instanceof java.util.concurrent.TimeoutException
          ? "no answer within " + RunTables.CHECK_SECONDS + " s" : RunTables.rootCause(failure);
      throw new ConfigException(missing != null ? missing : "Cannot read the input " + location + " (" + key + "): "
          + what, failure);
    }
    if (!found[0]) {
      throw new ConfigException("The input " + location + " (" + key + ") does not exist; relative paths are "
          + "resolved against the working directory" + (System.getProperty("user.dir") == null ? ""
              : " (" + System.getProperty("user.dir") + ")") + ". Nothing was computed.");
    }
  }
}
