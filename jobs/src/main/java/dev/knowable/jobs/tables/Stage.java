package dev.knowable.jobs.tables;

import dev.knowable.config.KnowableConfig;
import dev.knowable.tables.Table;
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

  /**
   * The tables this stage writes: those the registry names it as the producer of, so a table
   * and its stage are declared once ({@link Table#stage()}).
   */
  default List<Table> tables() {
    return Table.producedBy(name());
  }

  /**
   * The folder names of {@link #tables()}. Derived, not overridden (the report still overrides
   * it with the same empty list until it is converted).
   */
  default List<String> outputs() {
    return tables().stream().map(Table::tableName).toList();
  }

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
