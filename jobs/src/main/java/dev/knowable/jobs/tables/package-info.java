/**
 * The run's tables: {@link dev.knowable.jobs.tables.Stage} (the contract every stage
 * implements, here because its methods take the tables), publishing and reading committed
 * tables with their manifests ({@link dev.knowable.jobs.tables.RunTables}), tables written one
 * shard at a time ({@link dev.knowable.jobs.tables.ShardedTable}), Parquet write settings
 * ({@link dev.knowable.jobs.tables.ParquetWriteOptions}) and the Spark schemas of the
 * documented tables ({@link dev.knowable.jobs.tables.SparkSchemas}). It may depend on common/
 * and on {@code dev.knowable.jobs.runtime} only, never on a stage package or on
 * {@code dev.knowable.jobs.cli}; the stage packages and the CLI depend on it.
 */
package dev.knowable.jobs.tables;
