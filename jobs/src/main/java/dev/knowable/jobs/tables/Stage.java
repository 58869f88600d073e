package dev.knowable.jobs.tables;

import dev.knowable.config.KnowableConfig;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * One pipeline stage: reads committed tables of the run, writes its own through
 * {@link RunTables} (atomic publish with a manifest). Stages are plain functions of the
 * session and the config, so tests call {@link #run} directly on a local session.
 */
public interface Stage {
  /** The name used on the command line (e.g. ingest, score-small). */
  String name();

  /** One line for --help. */
  String description();

  /** The tables this stage writes. */
  List<String> outputs();

  /**
   * Called for every stage of an invocation before the first one runs, for checks that need
   * the committed tables or the stages of this invocation (settings themselves are checked
   * when the config loads), so that they fail at once rather than after hours of upstream
   * stages. {@code stages} are the names of the stages run by this invocation, in order. The
   * default checks nothing.
   */
  default void checkBeforeRun(SparkSession spark, KnowableConfig config, RunTables tables, List<String> stages) {}

  void run(SparkSession spark, KnowableConfig config, RunTables tables);
}
