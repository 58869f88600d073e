/**
 * The registry of the run's tables ({@link dev.knowable.tables.Table}): for each table its
 * folder name, the stage that writes it, its partition columns, its schema file in
 * data-schemas/ and the config sections its fingerprint covers. Spark-free so that the config
 * (fingerprints) and the jobs (reads, writes, stage outputs) share one list. It depends on
 * {@code dev.knowable.schema} only; config and the jobs depend on it, never the reverse.
 */
package dev.knowable.tables;
