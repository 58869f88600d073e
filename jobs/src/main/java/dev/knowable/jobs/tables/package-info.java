/**
 * The run's tables: {@link dev.knowable.jobs.tables.Stage} (the contract every stage
 * implements, here because its methods take the tables), publishing and reading committed
 * tables with their manifests ({@link dev.knowable.jobs.tables.RunTables}), tables written one
 * shard at a time ({@link dev.knowable.jobs.tables.ShardedTable}), Parquet write settings
 * ({@link dev.knowable.jobs.tables.ParquetWriteOptions}) and the Spark schemas of the
 * documented tables ({@link dev.knowable.jobs.tables.SparkSchemas}); and what one stage's tables
 * mean to the stages that read them, so no stage reaches into another: scores without rejected
 * documents ({@link dev.knowable.jobs.tables.ScoresTable}), stored hidden states
 * ({@link dev.knowable.jobs.tables.HiddenStates}), the tokenizer and context ids
 * ({@link dev.knowable.jobs.tables.TokensTable}), probe_examples' columns and resolved bands
 * ({@link dev.knowable.jobs.tables.ProbeExamplesTable}) and the probe tables' layouts
 * ({@link dev.knowable.jobs.tables.ProbeTables}). Tables are named through the registry in
 * common ({@link dev.knowable.tables.Table}): it gives each table's folder, the stage that
 * writes it (a stage's outputs, the stage a missing table names) and its partitioning, so
 * stages never retype them. It may depend on common/ and on
 * {@code dev.knowable.jobs.runtime} only, never on a stage package, on
 * {@code dev.knowable.jobs.evaluate} or on {@code dev.knowable.jobs.cli}; the stage packages,
 * evaluate and the CLI depend on it.
 */
package dev.knowable.jobs.tables;
