package dev.knowable.jobs.label;

import static dev.knowable.jobs.tables.ProbeExamplesTable.BALANCE;
import static dev.knowable.jobs.tables.ProbeExamplesTable.hiddenColumns;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.knowable.hidden.HiddenDtype;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.label.BalanceKey;
import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.label.GapLabeler;
import dev.knowable.label.LabelKind;
import dev.knowable.synthetic.SyntheticQa;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The label stage's Dataset steps (docs/METHOD.md sections 4 and 5), each a function from
 * Dataset to Dataset so tests run them on hand-built tables:
 * {@link #joinScores} -> {@link #label} -> {@link #tokenIdentityBalance} -> {@link #classBalance}
 * -> {@link #withHiddenStates}.
 *
 * <p>Random choices use a seeded hash of (doc_id, position, band, label_kind) instead of
 * {@code rand(seed)}: Spark's rand depends on partitioning and on row order within a
 * partition, which shuffles do not fix, so reruns would keep different rows.
 */
public final class ProbeExamples {
  /** Columns that identify one balancing population: balancing runs separately per split, domain, band, kind. */
  public static final List<String> POPULATION = List.of("split", "domain", "band", "label_kind");

  /**
   * Rank error allowed for quantile bands: exact quantiles would hold every entropy in
   * memory; 1e-4 of the ranks is far below what moves a band's AUC.
   */
  static final double QUANTILE_RELATIVE_ERROR = 1e-4;
  private static final long HASH_RANGE = 1L << 53;
  private static final StructType TRUTH_STRUCT = new StructType()
      .add("position", DataTypes.IntegerType).add("label", DataTypes.IntegerType);
  private static final StructType LABEL_STRUCT = new StructType()
      .add("band", DataTypes.StringType).add("label_kind", DataTypes.StringType).add("label", DataTypes.IntegerType);

  private ProbeExamples() {}

  /**
   * Resolves the configured bands to nats. Quantile bands use quantiles of H_S (within
   * {@link #QUANTILE_RELATIVE_ERROR}) over the scored positions of the train split (val and
   * test must not shape the bands they are evaluated in), one aggregate query, so all
   * domains share one band and cross-domain numbers compare like with like.
   */
  public static List<Band> resolveBands(List<Band.Spec> specs, Dataset<Row> smallScores) {
    List<Band> bands = new ArrayList<>();
    List<Band.Spec> quantileSpecs = specs.stream().filter(s -> s.unit() == Band.Unit.QUANTILE).toList();
    double[] probabilities = quantileSpecs.stream()
        .flatMapToDouble(s -> java.util.stream.DoubleStream.of(s.lower(), Math.min(s.upper(), 1.0))).toArray();
    double[] nats = probabilities.length == 0 ? new double[0]
        : smallScores.filter(col("split").equalTo("train")).stat()
            .approxQuantile("entropy", probabilities, QUANTILE_RELATIVE_ERROR);
    int q = 0;
    for (Band.Spec s : specs) {
      if (s.unit() == Band.Unit.NATS) {
        bands.add(s.toBand());
      } else {
        if (nats.length == 0) {
          throw new IllegalStateException("small_scores has no train-split position: quantile band " + s.name()
              + " is undefined");
        }
        bands.add(s.toBand(nats[2 * q], nats[2 * q + 1]));
        q++;
      }
    }
    return bands;
  }

  /**
   * Joins small and large scores per (doc_id, position), keeping only positions whose H_S
   * can fall in a band (the rest can never be labelled). Hidden states stay behind: the
   * balancing shuffles move only keys and scalars, and {@link #withHiddenStates} attaches
   * the vectors to the few rows that survive.
   *
   * @return doc_id, domain, split, position, token_id, prev_token_id, small_entropy, large_entropy
   */
  public static Dataset<Row> joinScores(Dataset<Row> smallScores, Dataset<Row> largeScores, List<Band> bands) {
    Dataset<Row> small = smallScores.filter(col("entropy").geq(lit(lowestBound(bands)))).select(col("doc_id"),
        col("domain"), col("split"), col("position"), col("token_id"), col("prev_token_id"),
        col("entropy").as("small_entropy"));
    Dataset<Row> large = largeScores.select(col("doc_id"), col("position"), col("entropy").as("large_entropy"));
    return small.join(large, new String[] {"doc_id", "position"});
  }

  /** Adds the hidden_l&lt;k&gt; columns of float32 small_scores to balanced examples, by (doc_id, position). */
  public static Dataset<Row> withHiddenStates(Dataset<Row> examples, Dataset<Row> smallScores, List<Band> bands) {
    return withHiddenStates(examples, smallScores, bands, HiddenDtype.FLOAT32);
  }

  /**
   * Adds the hidden_l&lt;k&gt; columns of small_scores to balanced examples, by (doc_id,
   * position), decoded to array&lt;float&gt; whatever small_scores stores ({@code dtype}):
   * probe_examples is a small subset and its readers (the probe stage, analysts) read floats.
   * The decoding runs after the join, on the examples only.
   */
  public static Dataset<Row> withHiddenStates(Dataset<Row> examples, Dataset<Row> smallScores, List<Band> bands,
      HiddenDtype dtype) {
    List<String> hiddenColumns = hiddenColumns(smallScores.schema());
    List<Column> cols = new ArrayList<>(List.of(col("doc_id"), col("position")));
    hiddenColumns.forEach(h -> cols.add(col(h)));
    // The same pruning as joinScores, so the scan skips positions below every band.
    Dataset<Row> hidden = smallScores.filter(col("entropy").geq(lit(lowestBound(bands))))
        .select(cols.toArray(new Column[0]));
    Dataset<Row> joined = examples.join(hidden, new String[] {"doc_id", "position"});
    for (String h : hiddenColumns) {
      joined = joined.withColumn(h, HiddenStates.decoded(col(h), smallScores.schema().apply(h).dataType(), dtype));
    }
    return joined;
  }

  private static float lowestBound(List<Band> bands) {
    return (float) bands.stream().mapToDouble(Band::minNats).min().orElseThrow();
  }

  /**
   * Gives each joined position one row per (band containing H_S, label kind), with
   * columns band, label_kind and label ({@link GapLabeler#DROPPED} for gap positions, so
   * in-band counts can be taken before they are filtered out).
   */
  public static Dataset<Row> label(Dataset<Row> joined, List<Band> bands, List<LabelKind> kinds,
      GapLabeler labeler) {
    List<Band> bandList = List.copyOf(bands);
    List<LabelKind> kindList = List.copyOf(kinds);
    UserDefinedFunction labels = org.apache.spark.sql.functions.udf(
        (UDF2<Float, Float, List<Row>>) (smallEntropy, largeEntropy) -> {
          List<Row> out = new ArrayList<>();
          if (smallEntropy == null || largeEntropy == null) {
            return out;
          }
          for (Band b : bandList) {
            if (b.contains(smallEntropy)) {
              for (LabelKind k : kindList) {
                out.add(RowFactory.create(b.name(), k.tableValue(), labeler.label(k, smallEntropy, largeEntropy)));
              }
            }
          }
          return out;
        }, DataTypes.createArrayType(LABEL_STRUCT));
    return joined.withColumn("labels", explode(labels.apply(col("small_entropy"), col("large_entropy"))))
        .withColumn("band", col("labels.band"))
        .withColumn("label_kind", col("labels.label_kind"))
        .withColumn("label", col("labels.label"))
        .drop("labels");
  }

  /**
   * Construction labels of the synthetic question/answer language ({@link SyntheticQa}):
   * the labelled positions of each document's token ids joined to its small-model scores,
   * one row per band containing H_S, label kind {@code construction}, H_L null. The rows
   * have the layout of {@link #label} so the balancing steps apply unchanged.
   *
   * @param tokens the run's tokens table (doc_id, token_ids)
   */
  public static Dataset<Row> constructionLabels(Dataset<Row> smallScores, Dataset<Row> tokens, List<Band> bands) {
    UserDefinedFunction truth = org.apache.spark.sql.functions.udf(
        (UDF1<scala.collection.Seq<Integer>, List<Row>>) ids -> {
          int[] a = new int[ids.size()];
          for (int i = 0; i < a.length; i++) {
            a[i] = ids.apply(i);
          }
          int[] labels = SyntheticQa.truth(a);
          List<Row> out = new ArrayList<>();
          for (int p = 0; p < labels.length; p++) {
            if (labels[p] != SyntheticQa.NO_LABEL) {
              out.add(RowFactory.create(p, labels[p]));
            }
          }
          return out;
        }, DataTypes.createArrayType(TRUTH_STRUCT));
    Dataset<Row> truths = tokens.select(col("doc_id"), explode(truth.apply(col("token_ids"))).as("t"))
        .select(col("doc_id"), col("t.position").as("position"), col("t.label").as("truth"));
    Dataset<Row> joined = smallScores.select(col("doc_id"), col("domain"), col("split"), col("position"),
            col("token_id"), col("prev_token_id"), col("entropy").as("small_entropy"))
        .join(truths, new String[] {"doc_id", "position"})
        .withColumn("large_entropy", lit(null).cast(DataTypes.FloatType));
    List<Band> bandList = List.copyOf(bands);
    UserDefinedFunction inBands = org.apache.spark.sql.functions.udf(
        (UDF1<Float, List<String>>) h -> bandList.stream().filter(b -> h != null && b.contains(h))
            .map(Band::name).toList(), DataTypes.createArrayType(DataTypes.StringType));
    return joined.withColumn("band", explode(inBands.apply(col("small_entropy"))))
        .withColumn("label_kind", lit(LabelKind.CONSTRUCTION.tableValue()))
        .withColumn("label", col("truth"))
        .drop("truth");
  }

  /** Keeps the labelled rows: drops positions in the gap. */
  public static Dataset<Row> dropGap(Dataset<Row> labelled) {
    return labelled.filter(col("label").geq(lit(GapLabeler.EPISTEMIC)));
  }

  /**
   * Token-identity balancing (docs/METHOD.md 5.1), per population (split, domain, band, kind):
   * with n_c(t) = occurrences of key t in class c, each occurrence is kept with probability
   * min(n_0(t), n_1(t)) / n_c(t); keys seen in one class only are dropped (probability 0).
   */
  public static Dataset<Row> tokenIdentityBalance(Dataset<Row> labelled, BalanceKey key, long seed) {
    List<String> groupNames = new ArrayList<>(population(labelled));
    groupNames.addAll(key.columns());
    Column[] group = groupNames.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
    Dataset<Row> perKey = labelled.groupBy(group).agg(
        sum(when(col("label").equalTo(0), 1).otherwise(0)).as("n0_key"),
        sum(when(col("label").equalTo(1), 1).otherwise(0)).as("n1_key"));
    Column minCount = least(col("n0_key"), col("n1_key")).cast(DataTypes.DoubleType);
    Column keep = when(col("label").equalTo(0), minCount.divide(col("n0_key")))
        .otherwise(minCount.divide(col("n1_key")));
    return labelled.join(perKey, groupNames.toArray(new String[0]))
        .filter(uniform(seed, "token-identity").lt(keep))
        .drop("n0_key", "n1_key");
  }

  /**
   * Global class balancing (docs/METHOD.md 5.2), per population: keeps the min(n_0, n_1) rows
   * of each class that come first in a seeded random order.
   */
  public static Dataset<Row> classBalance(Dataset<Row> tokenBalanced, long seed) {
    List<String> names = population(tokenBalanced);
    Column[] population = names.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
    Dataset<Row> sizes = tokenBalanced.groupBy(population).agg(
        least(sum(when(col("label").equalTo(0), 1).otherwise(0)),
            sum(when(col("label").equalTo(1), 1).otherwise(0))).as("class_size"));
    List<Column> byClass = new ArrayList<>(List.of(population));
    byClass.add(col("label"));
    var order = Window.partitionBy(byClass.toArray(new Column[0]))
        .orderBy(uniform(seed, "class-balance"), col("doc_id"), col("position"));
    return tokenBalanced.withColumn("class_rank", row_number().over(order))
        .join(sizes, names.toArray(new String[0]))
        .filter(col("class_rank").leq(col("class_size")))
        .drop("class_rank", "class_size");
  }

  /**
   * The population columns of a table: {@link #POPULATION}, plus the balance column
   * ({@link dev.knowable.jobs.tables.ProbeExamplesTable#BALANCE}) when the table has it (rows
   * of different balancings are balanced and counted apart).
   */
  public static List<String> population(Dataset<Row> rows) {
    List<String> out = new ArrayList<>(POPULATION);
    if (List.of(rows.columns()).contains(BALANCE)) {
      out.add(BALANCE);
    }
    return out;
  }

  /** The H_S bin column of entropy-matched balancing: floor(H_S / width), as {@link Balancing#entropyBin}. */
  public static Column entropyBin(double binNats) {
    return floor(col("small_entropy").cast(DataTypes.DoubleType).divide(lit(binNats)));
  }

  /**
   * Entropy-matched balancing (docs/METHOD.md 5.3), per population: the cell of a row is
   * (token-identity key, H_S bin of {@code binNats}); within each cell the first
   * min(n_0, n_1) rows of each class in a seeded random order are kept, so every cell (and
   * hence the population) holds exactly as many class-0 as class-1 rows, and cells seen in
   * one class only are dropped. One window pass: no further class balancing is needed.
   */
  public static Dataset<Row> entropyMatchedBalance(Dataset<Row> labelled, BalanceKey key, double binNats,
      long seed) {
    List<Column> cell = new ArrayList<>();
    population(labelled).forEach(c -> cell.add(col(c)));
    key.columns().forEach(c -> cell.add(col(c)));
    cell.add(col("hs_bin"));
    List<Column> cellAndClass = new ArrayList<>(cell);
    cellAndClass.add(col("label"));
    var perCell = Window.partitionBy(cell.toArray(new Column[0]));
    var order = Window.partitionBy(cellAndClass.toArray(new Column[0]))
        .orderBy(uniform(seed, "entropy-matched"), col("doc_id"), col("position"));
    return labelled.withColumn("hs_bin", entropyBin(binNats))
        .withColumn("cell_size", least(
            sum(when(col("label").equalTo(0), 1L).otherwise(0L)).over(perCell),
            sum(when(col("label").equalTo(1), 1L).otherwise(0L)).over(perCell)))
        .withColumn("class_rank", row_number().over(order))
        .filter(col("class_rank").leq(col("cell_size")))
        .drop("hs_bin", "cell_size", "class_rank");
  }

  /**
   * Applies one balancing to labelled rows (gap positions already dropped) and tags every
   * kept row with its {@link dev.knowable.jobs.tables.ProbeExamplesTable#BALANCE} value.
   */
  public static Dataset<Row> balance(Dataset<Row> labelled, Balancing balancing, BalanceKey key, double binNats,
      long seed) {
    Dataset<Row> tagged = labelled.withColumn(BALANCE, lit(balancing.tableValue()));
    return switch (balancing) {
      case TOKEN -> classBalance(tokenIdentityBalance(tagged, key, seed), seed);
      case ENTROPY_MATCHED -> entropyMatchedBalance(tagged, key, binNats, seed);
    };
  }

  /**
   * Class counts per population, for the run manifest (an aggregate query; only one row
   * per population reaches the driver).
   *
   * @param step the name of the filtering step these counts follow
   */
  public static List<Map<String, Object>> classCounts(Dataset<Row> rows, String step) {
    List<String> names = population(rows);
    Column[] population = names.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
    List<Row> counts = rows.groupBy(population).agg(count(lit(1)).as("rows"),
            sum(when(col("label").equalTo(0), 1L).otherwise(0L)).as("n_class0"),
            sum(when(col("label").equalTo(1), 1L).otherwise(0L)).as("n_class1"))
        .orderBy(population).collectAsList();
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : counts) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("step", step);
      for (String p : names) {
        m.put(p, r.getAs(p));
      }
      m.put("rows", r.getLong(r.fieldIndex("rows")));
      m.put("n_class0", r.getLong(r.fieldIndex("n_class0")));
      m.put("n_class1", r.getLong(r.fieldIndex("n_class1")));
      out.add(m);
    }
    return out;
  }

  /** Positions scored per (split, domain), for the run manifest. */
  public static List<Map<String, Object>> positionCounts(Dataset<Row> smallScores) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : smallScores.groupBy("split", "domain").count().orderBy("split", "domain").collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("split", r.getString(0));
      m.put("domain", r.getString(1));
      m.put("positions", r.getLong(2));
      out.add(m);
    }
    return out;
  }

  /** A seeded uniform draw in [0, 1) that depends only on the row's identity. */
  static Column uniform(long seed, String purpose) {
    Column h = xxhash64(lit(seed), lit(purpose), col("doc_id"), col("position"), col("band"), col("label_kind"));
    return pmod(h, lit(HASH_RANGE)).cast(DataTypes.DoubleType).divide(lit((double) HASH_RANGE));
  }
}
