/**
 * Evaluation shared by the stages that score or compare probes: probe_metrics rows of one scored
 * probe ({@link dev.knowable.jobs.evaluate.ProbeMetricsFunction}), paired differences against the
 * baselines ({@link dev.knowable.jobs.evaluate.PairedComparisons}), the cross-domain rule "test AUC
 * over seeds" ({@link dev.knowable.jobs.evaluate.CrossDomain}) and scoring with a stored probe
 * exactly as the probe stage did ({@link dev.knowable.jobs.evaluate.StoredProbes}). The probe,
 * iclt, apply, aggregate and report stages use it. It may depend on common/,
 * {@code dev.knowable.jobs.runtime} and {@code dev.knowable.jobs.tables} only, never on a stage
 * package or on {@code dev.knowable.jobs.cli}.
 */
package dev.knowable.jobs.evaluate;
