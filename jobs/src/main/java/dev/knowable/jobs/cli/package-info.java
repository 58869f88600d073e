/**
 * The command line: argument parsing and exit codes ({@link dev.knowable.jobs.cli.Main}, whose
 * published entry point {@code dev.knowable.jobs.Main} only hands over to it), the stage list
 * in run order ({@link dev.knowable.jobs.cli.Stages}), the checks run before the first stage
 * ({@link dev.knowable.jobs.cli.Preflight}), the {@code sql} command
 * ({@link dev.knowable.jobs.cli.RunSql}), the generated Airflow DAG
 * ({@link dev.knowable.jobs.cli.AirflowDag}) and the sorting of failures into user-fixable or
 * internal ({@link dev.knowable.jobs.cli.Failures}). It sits on top and may depend on every
 * other package of jobs/ and on common/; only the entry point {@code dev.knowable.jobs.Main}
 * depends on it. Stage packages must not, with one documented exception:
 * {@code aggregate.AggregateStage} reads {@link dev.knowable.jobs.cli.Stages#all} to name the
 * stage that wrote each table of the runs table (PackageRulesTest lists the allowed edges).
 */
package dev.knowable.jobs.cli;
