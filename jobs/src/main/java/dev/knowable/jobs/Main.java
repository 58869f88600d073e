package dev.knowable.jobs;

/**
 * The command line's entry point under its published name: spark-submit commands, the deploy
 * scripts, the Airflow DAG and the jar's manifest all name {@code dev.knowable.jobs.Main}. The
 * command line itself lives in {@link dev.knowable.jobs.cli.Main}; this class only hands over.
 */
public final class Main {
  private Main() {}

  public static void main(String[] argv) {
    dev.knowable.jobs.cli.Main.main(argv);
  }
}
