package dev.knowable.jobs.tables;

import dev.knowable.config.ConfigException;
import dev.knowable.hidden.HiddenDtype;
import dev.knowable.label.Band;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Reading small_scores' hidden-state columns whatever their storage
 * ({@code knowable.score.hidden-dtype}): the dtype comes from the table's manifest
 * ({@code hidden_dtype}; tables written before the setting hold float32), and
 * {@link #decoded} turns a stored column into array&lt;float&gt; (null stays null). 16-bit
 * states are one binary value per position and layer (2 bytes per value, little-endian);
 * tables written before that stored them as array&lt;smallint&gt; and are read as well.
 */
public final class HiddenStates {
  /** Manifest key of small_scores naming the stored dtype. */
  public static final String MANIFEST_KEY = "hidden_dtype";

  /** Manifest key of small_scores: the bands [min, max) in nats whose positions keep hidden states; empty = all. */
  public static final String BANDS_KEY = "hidden_bands";

  private HiddenStates() {}

  /**
   * Fails when small_scores keeps hidden states in-band only and some band of {@code bands}
   * (the label stage's, in nats) is not inside one of the stored bands: its positions would
   * have no features.
   */
  public static void requireStoredFor(RunTables tables, List<Band> bands) {
    Object stored = tables.readManifest(Table.SMALL_SCORES).get(BANDS_KEY);
    if (!(stored instanceof List<?> list) || list.isEmpty()) {
      return;
    }
    List<Band> kept = new ArrayList<>();
    for (Object o : list) {
      kept.add(Band.fromManifestBounds((List<?>) o));
    }
    for (Band b : bands) {
      boolean covered = kept.stream().anyMatch(k -> k.minNats() <= b.minNats() && b.maxNats() <= k.maxNats());
      if (!covered) {
        throw new ConfigException("small_scores of run " + tables.runId() + " keeps hidden states only in the bands "
            + list + " (knowable.score.hidden-positions = in-band when it was scored), but band " + b.name()
            + " needs them outside those. Rerun score-small with these knowable.label.bands (or hidden-positions = "
            + "all) and if-exists=overwrite.");
      }
    }
  }

  /** The dtype small_scores of this run was written with. */
  public static HiddenDtype dtype(RunTables tables) {
    Map<String, Object> manifest = tables.readManifest(Table.SMALL_SCORES);
    Object d = manifest.get(MANIFEST_KEY);
    return d == null ? HiddenDtype.FLOAT32 : HiddenDtype.parse(String.valueOf(d));
  }

  /**
   * The float32 values of a stored hidden-state column, checked against its Spark type:
   * array&lt;float&gt; is returned as it is; binary (and the older array&lt;smallint&gt;)
   * holding 16-bit patterns is decoded exactly.
   */
  public static Column decoded(Column stored, DataType storedType, HiddenDtype dtype) {
    DataType element = storedType instanceof ArrayType a ? a.elementType() : null;
    if (DataTypes.FloatType.equals(element)) {
      if (dtype != HiddenDtype.FLOAT32) {
        throw new IllegalStateException("a hidden-state column of type array<float> is recorded as " + dtype);
      }
      return stored;
    }
    boolean sixteenBit = DataTypes.BinaryType.equals(storedType) || DataTypes.ShortType.equals(element);
    if (!sixteenBit || dtype == HiddenDtype.FLOAT32) {
      throw new IllegalStateException("a hidden-state column of type " + storedType.simpleString()
          + " cannot hold " + dtype.configName() + " values");
    }
    return udf(dtype).apply(stored);
  }

  /**
   * A UDF from a stored 16-bit hidden state of this dtype (binary, or the older
   * array&lt;smallint&gt;) to array&lt;float&gt;; null stays null.
   */
  public static UserDefinedFunction udf(HiddenDtype dtype) {
    return org.apache.spark.sql.functions.udf((UDF1<Object, float[]>) h -> floats(h, dtype),
        DataTypes.createArrayType(DataTypes.FloatType));
  }

  /** Decodes one stored hidden state (byte[], or a List or Seq of Float or Short) into floats; null stays null. */
  public static float[] floats(Object stored, HiddenDtype dtype) {
    if (stored == null) {
      return null;
    }
    if (stored instanceof byte[] b) {
      return dtype.decodeBytes(b);
    }
    if (stored instanceof scala.collection.Seq<?> s) {
      float[] out = new float[s.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = dtype.decode(s.apply(i));
      }
      return out;
    }
    java.util.List<?> l = (java.util.List<?>) stored;
    float[] out = new float[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = dtype.decode(l.get(i));
    }
    return out;
  }

  /**
   * Registers {@code float16_to_float(h)} and {@code bfloat16_to_float(h)} for a stored hidden
   * state (binary, or the older array&lt;smallint&gt;), each returning array&lt;float&gt;, for
   * analysts' SQL ({@code knowable sql}).
   */
  public static void registerFunctions(SparkSession spark) {
    spark.udf().register("float16_to_float", udf(HiddenDtype.FLOAT16));
    spark.udf().register("bfloat16_to_float", udf(HiddenDtype.BFLOAT16));
  }
}
