package dev.knowable.jobs.cli;

import dev.knowable.config.ConfigException;
import dev.knowable.model.ModelException;
import java.util.List;
import java.util.Locale;

/**
 * How the command line reports a failure: one line that says what to fix, and whether the
 * user can fix it (exit 2: usage, configuration, model, input or output location) or it is
 * an internal error (exit 1). Spark wraps a task's exception in a "Job aborted due to stage
 * failure" message that repeats the task's stack trace: the line leads with the innermost
 * cause instead.
 */
final class Failures {
  private Failures() {}

  /** Exception classes, anywhere in the cause chain, that mean a damaged, missing or forbidden input or output. */
  private static final List<String> INPUT_CLASSES = List.of(
      "org.apache.parquet.io.ParquetDecodingException",
      "org.apache.parquet.io.InvalidRecordException",
      "org.apache.spark.sql.execution.datasources.SchemaColumnConvertNotSupportedException",
      "java.io.FileNotFoundException",
      "java.nio.file.NoSuchFileException",
      "java.nio.file.AccessDeniedException",
      "org.apache.hadoop.security.AccessControlException",
      "org.apache.hadoop.fs.UnsupportedFileSystemException");

  /** Message fragments (Spark error classes, Parquet's check) with the same meaning. */
  private static final List<String> INPUT_MESSAGES = List.of(
      "is not a parquet file", "cannot_read_file_footer", "failed_read_file", "path_not_found",
      "unable_to_infer_schema", "could not read footer", "encountered error while reading file");

  /** True when the user can fix what {@code e} reports (exit 2). */
  static boolean userFixable(Throwable e, String command) {
    for (Throwable t = e; t != null; t = next(t)) {
      if (t instanceof ConfigException || t instanceof ModelException) {
        return true;
      }
      if (INPUT_CLASSES.contains(t.getClass().getName())) {
        return true;
      }
      String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
      if (INPUT_MESSAGES.stream().anyMatch(m::contains)) {
        return true;
      }
      // A query the user wrote (sql "...") that does not parse or names no such table.
      if (command.equals("sql") && t.getClass().getName().startsWith("org.apache.spark.sql.")
          && t.getClass().getSimpleName().contains("AnalysisException")
          || command.equals("sql") && t.getClass().getSimpleName().equals("ParseException")) {
        return true;
      }
    }
    return false;
  }

  /**
   * One line: the message of the outermost exception knowable wrote (it names the table, the
   * location and what to change), or for a bare Spark or library exception its innermost
   * cause; only the first line of a multi-line message.
   */
  static String oneLine(Throwable e) {
    Throwable chosen = e;
    if (!ours(e)) {
      Throwable t = e;
      while (next(t) != null) {
        t = next(t);
      }
      chosen = t;
    }
    String m = chosen.getMessage() == null ? "" : chosen.getMessage().strip();
    int nl = m.indexOf('\n');
    if (nl >= 0) {
      m = m.substring(0, nl).strip();
    }
    boolean plain = chosen instanceof ConfigException || chosen instanceof ModelException || ours(chosen);
    return plain && !m.isEmpty() ? m : chosen.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
  }

  /** Thrown by knowable code: its message was written for the user. */
  private static boolean ours(Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    return st.length > 0 && st[0].getClassName().startsWith("dev.knowable.")
        && (t instanceof IllegalStateException || t instanceof IllegalArgumentException
            || t instanceof ConfigException || t instanceof ModelException);
  }

  private static Throwable next(Throwable t) {
    Throwable c = t.getCause();
    return c == t ? null : c;
  }
}
