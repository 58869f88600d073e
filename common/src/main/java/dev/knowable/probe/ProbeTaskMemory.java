package dev.knowable.probe;

import java.util.Locale;

/**
 * What one probe-fit task holds in its heap, estimated from its row counts before any row
 * is collected, and what a task may hold. The probe stage checks every configuration on
 * the driver and stops with a message naming the configuration instead of losing an
 * executor to an OutOfMemoryError halfway through the job.
 *
 * <p>Per row: the features as {@link HalfRows} (2 bytes a value plus a 20-byte array
 * header and reference), the one-hot context ids of a context probe, and the row's
 * identity and score as the task keeps them (doc_id string, position, label, domain/split
 * references, score: {@link #ROW_META_BYTES}). Per task: the trainer's working arrays
 * (logistic: margins and residuals, 3 doubles a train or val row; MLP: the shuffled order,
 * the two copies of the weights kept on the heap, the evaluation chunk). Spark's own
 * transient row objects are one row at a time and not counted.
 */
public final class ProbeTaskMemory {
  /**
   * doc_id (a String of about 20 chars: 60 bytes), the sort key (40), position, label, the
   * domain/split references and, for evaluation rows, the score and the output arrays.
   */
  public static final long ROW_META_BYTES = 160;
  /** Context ids of a context probe: int[k] and the active one-hot indices, with headers. */
  public static final long CONTEXT_ROW_BYTES = 64;
  /** What Spark keeps out of every executor heap (its reserved memory). */
  public static final long SPARK_RESERVED_BYTES = 300L << 20;

  private ProbeTaskMemory() {}

  /**
   * Heap bytes one task needs.
   *
   * @param dense true for the linear and MLP probes (features of d values), false for context probes
   * @param d the feature dimension (the small model's hidden size)
   * @param fitRows train + val rows of the configuration
   * @param evalRows val + test rows of every domain, scored after the fit
   * @param mlpHidden the MLP's hidden units, or 0 for a logistic fit
   */
  public static long needed(boolean dense, int d, long fitRows, long evalRows, int mlpHidden) {
    long perRow = ROW_META_BYTES + (dense ? HalfRows.bytes(1, d) : CONTEXT_ROW_BYTES);
    long rows = (fitRows + evalRows) * perRow;
    long working;
    if (mlpHidden > 0) {
      // order (int per train row); the best checkpoint and the scorer's transposed copy of
      // w1 (h x d floats each); one evaluation chunk of 1024 rows as floats.
      working = 4 * fitRows + 2 * 4L * mlpHidden * (d + 3) + 4L * 1024 * d;
    } else {
      // margins + residuals (train), margins (val); L-BFGS history and scaling, 24 vectors of d.
      working = 3 * 8 * fitRows + 24 * 8L * (d + 1);
    }
    return rows + working;
  }

  /**
   * The heap one task may fill: configured bytes if positive, else (heap - Spark's reserve) x
   * fraction / concurrent tasks per executor.
   */
  public static long budget(long configuredBytes, long executorHeapBytes, double fraction, int concurrentTasks) {
    if (configuredBytes > 0) {
      return configuredBytes;
    }
    long usable = Math.max(0, executorHeapBytes - SPARK_RESERVED_BYTES);
    return (long) (usable * fraction / Math.max(1, concurrentTasks));
  }

  /** 1536 -> "1.5 KiB", 17179869184 -> "16.0 GiB". */
  public static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
