package dev.knowable.jobs.runtime;

import java.util.UUID;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.SparkStatusTracker;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Spark jobs one driver thread starts while writing a table, under a job group of their
 * own, so that after a failed write the caller can cancel them and wait until every task has
 * ended: a job reports failure when its first task fails for good, while the job's other
 * tasks may still be writing into the staging folder that the caller is about to delete (a
 * late task would recreate it). Restores the thread's previous job group on {@link #exit}.
 */
public final class SparkJobGroup {
  private static final Logger LOG = LoggerFactory.getLogger(SparkJobGroup.class);
  /** How long to wait for cancelled tasks to end; a task that ignores its kill is reported, not waited for. */
  static final long AWAIT_MILLIS = 120_000;

  private static final String GROUP = "spark.jobGroup.id";
  private static final String DESCRIPTION = "spark.job.description";
  private static final String INTERRUPT = "spark.job.interruptOnCancel";

  private final SparkContext sc;
  private final String id;
  private final String previousGroup;
  private final String previousDescription;
  private final String previousInterrupt;

  private SparkJobGroup(SparkContext sc, String id) {
    this.sc = sc;
    this.id = id;
    this.previousGroup = sc.getLocalProperty(GROUP);
    this.previousDescription = sc.getLocalProperty(DESCRIPTION);
    this.previousInterrupt = sc.getLocalProperty(INTERRUPT);
  }

  /** Starts a group of its own on this thread: jobs this thread starts until {@link #exit} belong to it. */
  public static SparkJobGroup enter(SparkSession spark, String prefix, String description) {
    SparkJobGroup g = new SparkJobGroup(spark.sparkContext(), prefix + "-" + UUID.randomUUID());
    g.sc.setJobGroup(g.id, description, false);
    return g;
  }

  public String id() {
    return id;
  }

  /** Cancels the group's jobs still running and waits until none of their tasks runs. */
  public void cancelAndAwaitTasks() {
    sc.cancelJobGroup(id);
    awaitTasksEnded(sc, id, AWAIT_MILLIS);
  }

  /** Restores the thread's previous job group and description. */
  public void exit() {
    sc.setLocalProperty(GROUP, previousGroup);
    sc.setLocalProperty(DESCRIPTION, previousDescription);
    sc.setLocalProperty(INTERRUPT, previousInterrupt);
  }

  /**
   * Waits until every job of {@code group} has ended and no task of their stages is running,
   * as Spark's status tracker reports it. The tracker is fed asynchronously, in event order:
   * once it shows a job ended it has also seen every task start of that job, so a count of
   * zero running tasks is then final.
   */
  static boolean awaitTasksEnded(SparkContext sc, String group, long millis) {
    SparkStatusTracker tracker = sc.statusTracker();
    long start = System.currentTimeMillis();
    long deadline = start + millis;
    while (System.currentTimeMillis() < deadline) {
      int[] jobs = tracker.getJobIdsForGroup(group);
      boolean running = false;
      for (int job : jobs) {
        scala.Option<SparkJobInfo> info = tracker.getJobInfo(job);
        if (info.isEmpty()) {
          continue;
        }
        if (info.get().status() == JobExecutionStatus.RUNNING || info.get().status() == JobExecutionStatus.UNKNOWN) {
          running = true;
          break;
        }
        for (int stage : info.get().stageIds()) {
          scala.Option<SparkStageInfo> s = tracker.getStageInfo(stage);
          if (s.isDefined() && s.get().numActiveTasks() > 0) {
            running = true;
            break;
          }
        }
      }
      // No job seen yet: the tracker may lag behind the scheduler for a moment.
      if (!running && (jobs.length > 0 || System.currentTimeMillis() - start > 2_000)) {
        return true;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    LOG.warn("Tasks of job group {} still running after {} s", group, millis / 1000);
    return false;
  }
}
