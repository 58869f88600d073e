package dev.knowable.jobs.probe;

import dev.knowable.hidden.HiddenDtype;
import dev.knowable.probe.HalfRows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The rows of one probe-fit task, held compactly as they arrive: features as fp16
 * ({@link HalfRows}), the rest as primitive arrays, each Spark row dropped once read. A row
 * of d = 4096 boxed Floats is about 80 KiB on the heap; held here it is 8 KiB plus about 100
 * bytes ({@link dev.knowable.probe.ProbeTaskMemory} estimates the same).
 *
 * <p>The three groups (train, val: role "fit"; eval) are sorted by (doc_id, position), eval
 * by (domain, split, doc_id, position), so that a fit sees the same rows in the same order
 * on any cluster layout.
 */
final class ProbeTaskRows {
  /** One group's rows, sorted. */
  static final class Group {
    final HalfRows features;
    final int[][] context;
    final int[] labels;
    final String[] docIds;
    final int[] positions;
    final String[] domains;
    final String[] splits;

    private Group(HalfRows features, int[][] context, int[] labels, String[] docIds, int[] positions,
        String[] domains, String[] splits) {
      this.features = features;
      this.context = context;
      this.labels = labels;
      this.docIds = docIds;
      this.positions = positions;
      this.domains = domains;
      this.splits = splits;
    }

    int size() {
      return labels.length;
    }
  }

  final Group train;
  final Group val;
  final Group eval;
  /** The first row read: its key columns name the configuration. */
  final Row first;

  private ProbeTaskRows(Group train, Group val, Group eval, Row first) {
    this.train = train;
    this.val = val;
    this.eval = eval;
    this.first = first;
  }

  /**
   * A hidden-state column (array&lt;float&gt;) as fp16 bytes, two a value, little-endian
   * ({@link HiddenDtype#FLOAT16}: exact for values that are fp16 already, as score-small's
   * default storage makes them; finite values beyond +-65504 become +-65504); null stays null.
   */
  static Column halfBytes(Column floats) {
    UserDefinedFunction encode = functions.udf((UDF1<scala.collection.Seq<Float>, byte[]>) values -> {
      if (values == null) {
        return null;
      }
      float[] x = new float[values.size()];
      for (int j = 0; j < x.length; j++) {
        x[j] = values.apply(j);
      }
      return (byte[]) HiddenDtype.FLOAT16.encode(x, new long[1]);
    }, DataTypes.BinaryType);
    return encode.apply(floats);
  }

  /** Reads every row of the group once. */
  static ProbeTaskRows collect(Iterator<Row> rows) {
    Builder train = new Builder();
    Builder val = new Builder();
    Builder eval = new Builder();
    Map<String, String> names = new HashMap<>();
    Row first = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      if (first == null) {
        first = r;
      }
      Builder b = ProbeFitTask.EVAL.equals(r.getAs("role")) ? eval
          : "train".equals(r.getAs("split")) ? train : val;
      b.add(r, names);
    }
    Comparator<Builder.Key> docOrder = Comparator.<Builder.Key, String>comparing(k -> k.docId)
        .thenComparingInt(k -> k.position);
    return new ProbeTaskRows(train.build(docOrder), val.build(docOrder),
        eval.build(Comparator.<Builder.Key, String>comparing(k -> k.domain).thenComparing(k -> k.split)
            .thenComparing(docOrder)), first);
  }

  private static final class Builder {
    /** A row's sort key and its arrival index. */
    record Key(String domain, String split, String docId, int position, int index) {}

    private HalfRows features;
    private final List<int[]> context = new ArrayList<>();
    private final List<Key> keys = new ArrayList<>();
    private int[] labels = new int[16];

    void add(Row r, Map<String, String> names) {
      int i = keys.size();
      int f = r.fieldIndex("features");
      if (!r.isNullAt(f)) {
        // fp16 bytes as the probe stage ships them (ProbeStage.fitRows), or floats.
        Object v = r.get(f);
        if (v instanceof byte[] bytes) {
          if (features == null) {
            features = new HalfRows(bytes.length / 2, 1024);
          }
          features.addHalfBytes(bytes);
        } else {
          List<Float> values = r.getList(f);
          float[] x = new float[values.size()];
          for (int j = 0; j < x.length; j++) {
            x[j] = values.get(j);
          }
          if (features == null) {
            features = new HalfRows(x.length, 1024);
          }
          features.add(x);
        }
      }
      int c = r.fieldIndex("context");
      if (!r.isNullAt(c)) {
        List<Integer> values = r.getList(c);
        int[] ids = new int[values.size()];
        for (int j = 0; j < ids.length; j++) {
          ids[j] = values.get(j);
        }
        context.add(ids);
      }
      if (i == labels.length) {
        labels = Arrays.copyOf(labels, i + (i >> 1));
      }
      labels[i] = r.<Integer>getAs("label");
      // Domain and split names repeat on every row: keep one String of each.
      keys.add(new Key(names.computeIfAbsent(r.getAs("domain"), s -> s),
          names.computeIfAbsent(r.getAs("split"), s -> s), r.getAs("doc_id"), r.<Integer>getAs("position"), i));
    }

    Group build(Comparator<Key> order) {
      int n = keys.size();
      if ((features != null && features.rows() != n) || (!context.isEmpty() && context.size() != n)) {
        throw new IllegalStateException("probe rows mix null and non-null features or context: " + n + " rows, "
            + (features == null ? 0 : features.rows()) + " with features, " + context.size() + " with context");
      }
      keys.sort(order);
      int[] perm = new int[n];
      int[] y = new int[n];
      String[] docIds = new String[n];
      int[] positions = new int[n];
      String[] domains = new String[n];
      String[] splits = new String[n];
      int[][] ctx = context.isEmpty() ? null : new int[n][];
      for (int k = 0; k < n; k++) {
        Key key = keys.get(k);
        perm[k] = key.index;
        y[k] = labels[key.index];
        docIds[k] = key.docId;
        positions[k] = key.position;
        domains[k] = key.domain;
        splits[k] = key.split;
        if (ctx != null) {
          ctx[k] = context.get(key.index);
        }
      }
      return new Group(features == null ? null : features.reordered(perm), ctx, y, docIds, positions, domains,
          splits);
    }
  }
}
