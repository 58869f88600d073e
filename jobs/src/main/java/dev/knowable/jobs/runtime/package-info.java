/**
 * Spark execution helpers with no knowledge of tables or stages: the device and threads of the
 * running task ({@link dev.knowable.jobs.runtime.TaskResources}), exact placement of rows on
 * partitions ({@link dev.knowable.jobs.runtime.Slots}), job groups that can be cancelled and
 * awaited ({@link dev.knowable.jobs.runtime.SparkJobGroup}) and the chunked output iterator of
 * model-scoring partitions ({@link dev.knowable.jobs.runtime.ChunkedRows}). It may depend on
 * common/ (and Spark, DJL) only, never on {@code dev.knowable.jobs.tables}, the CLI or a stage
 * package; everything else in jobs/ may depend on it.
 */
package dev.knowable.jobs.runtime;
