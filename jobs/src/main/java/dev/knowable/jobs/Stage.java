package dev.knowable.jobs;

import dev.knowable.config.KnowableConfig;
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
  java.util.List<String> outputs();

  void run(SparkSession spark, KnowableConfig config, RunTables tables);
}
