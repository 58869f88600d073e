package dev.knowable.jobs.runtime;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;

/**
 * The output iterator of a model-scoring partition: rows are produced a chunk at a time (a
 * batch, a document) as Spark consumes them, so only one chunk of per-position rows is
 * alive at once.
 */
public abstract class ChunkedRows implements Iterator<Row> {
  private final ArrayDeque<Row> pending = new ArrayDeque<>();
  private boolean finished;

  /**
   * Produces the next chunk through {@link #add}; returns false when there is nothing left
   * (then {@link #finish} runs once).
   */
  protected abstract boolean nextChunk();

  /** Queues one output row of the current chunk. */
  protected final void add(Row row) {
    pending.add(row);
  }

  /** Runs once after the last chunk (e.g. to log throughput). */
  protected void finish() {}

  @Override
  public final boolean hasNext() {
    while (pending.isEmpty() && !finished) {
      if (!nextChunk()) {
        finished = true;
        finish();
      }
    }
    return !pending.isEmpty();
  }

  @Override
  public final Row next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return pending.poll();
  }
}
