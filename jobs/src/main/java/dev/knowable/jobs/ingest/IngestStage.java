package dev.knowable.jobs.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.ConfigException;
import dev.knowable.config.KnowableConfig.InputSpec;
import dev.knowable.config.KnowableConfig;
import dev.knowable.ingest.RecordCheck;
import dev.knowable.ingest.SplitAssigner;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.tables.Table;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.InputSplit;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaNewHadoopRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * ingest: JSONL files, text folders or Parquet -> {@code documents} + {@code rejects}.
 *
 * <ul>
 *   <li>Every input record ends up in exactly one of the two tables: documents + rejects =
 *       input records, and the manifest reports both counts.</li>
 *   <li>Rejected: bad JSON (including a JSONL line with trailing content after its object,
 *       and a UTF-8 byte-order mark anywhere but at the start of a file, where it is
 *       stripped), a missing field, invalid UTF-8, empty text, text over max-chars,
 *       and every copy of a doc_id seen more than once (which copy is right is unknowable).</li>
 *   <li>The split is a hash of doc_id ({@link SplitAssigner}).</li>
 * </ul>
 */
public final class IngestStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(IngestStage.class);

  /** Parsed records before the duplicate check; reason is null for accepted ones. */
  static final StructType PARSED = new StructType()
      .add("doc_id", DataTypes.StringType).add("domain", DataTypes.StringType).add("text", DataTypes.StringType)
      .add("source", DataTypes.StringType).add("input_offset", DataTypes.LongType)
      .add("reason", DataTypes.StringType).add("detail", DataTypes.StringType).add("raw", DataTypes.StringType);

  @Override
  public String name() {
    return "ingest";
  }

  @Override
  public String description() {
    return "read JSONL / text folders / Parquet into documents (with split) and rejects";
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(Table.DOCUMENTS) && !tables.needsWrite(Table.REJECTS)) {
      return;
    }
    KnowableConfig.Ingest ingest = config.ingest();
    if (ingest.inputs().isEmpty()) {
      throw new ConfigException("knowable.ingest.inputs is empty: list at least one { path, format } input");
    }
    RecordCheck check = new RecordCheck(ingest.maxChars(), ingest.rejectRawChars());
    Dataset<Row> parsed = null;
    for (InputSpec in : ingest.inputs()) {
      Dataset<Row> one = read(spark, in, check);
      parsed = parsed == null ? one : parsed.unionByName(one);
    }
    parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK());
    // The duplicate count (a shuffle) feeds documents, rejects and the per-reason counts: once.
    Dataset<Row> counted = parsed.filter(col("reason").isNull())
        .withColumn("copies", count(lit(1)).over(Window.partitionBy("doc_id")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      SplitAssigner splits = new SplitAssigner(ingest.split());
      spark.udf().register("knowable_split", (org.apache.spark.sql.api.java.UDF1<String, String>) splits::splitOf,
          DataTypes.StringType);
      Dataset<Row> documents = counted.filter(col("copies").equalTo(1))
          .selectExpr("doc_id", "knowable_split(doc_id) AS split", "text", "length(text) AS n_chars", "source",
              "domain");
      Dataset<Row> duplicates = counted.filter(col("copies").gt(1))
          .withColumn("reason", lit(RecordCheck.DUPLICATE_DOC_ID))
          .selectExpr("doc_id", "domain", "source", "input_offset", "reason",
              "concat('doc_id occurs ', copies, ' times in the inputs; every copy is rejected') AS detail",
              "substring(text, 1, " + ingest.rejectRawChars() + ") AS raw");
      Dataset<Row> rejects = parsed.filter(col("reason").isNotNull())
          .select("doc_id", "domain", "source", "input_offset", "reason", "detail", "raw")
          .unionByName(duplicates)
          .selectExpr("'ingest' AS stage", "source AS input_path", "input_offset", "doc_id", "domain", "reason",
              "detail", "raw");
      long inputRecords = parsed.count();
      Map<String, Object> extras = new LinkedHashMap<>();
      extras.put("input_records", inputRecords);
      extras.put("inputs", ingest.inputs());
      extras.put("split", ingest.split());
      long docs = tables.write(Table.DOCUMENTS, documents, extras);
      Map<String, Object> rejectExtras = new LinkedHashMap<>(extras);
      rejectExtras.put("by_reason", countsBy(rejects, "reason"));
      long rej = tables.write(Table.REJECTS, rejects, rejectExtras);
      if (docs + rej != inputRecords) {
        throw new IllegalStateException("Ingest lost records: " + inputRecords + " in, " + docs + " documents + " + rej
            + " rejects out");
      }
      LOG.info("ingest: {} input records -> {} documents, {} rejects {}", inputRecords, docs, rej,
          rejectExtras.get("by_reason"));
    } finally {
      counted.unpersist();
      parsed.unpersist();
    }
  }

  /** Small per-reason counts (a handful of groups) for the manifest. */
  static Map<String, Long> countsBy(Dataset<Row> data, String column) {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (Row r : data.groupBy(column).count().collectAsList()) {
      out.put(String.valueOf(r.get(0)), r.getLong(1));
    }
    return out;
  }

  static Dataset<Row> read(SparkSession spark, InputSpec in, RecordCheck check) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    switch (in.format()) {
      case "jsonl":
        return spark.createDataFrame(jsonl(jsc, in.path(), check), PARSED);
      case "text":
        return spark.createDataFrame(textFolder(jsc, in, check), PARSED);
      case "parquet":
        return parquet(spark, in, check);
      default:
        throw new ConfigException("Unknown input format " + in.format());
    }
  }

  @SuppressWarnings("unchecked")
  private static JavaRDD<Row> jsonl(JavaSparkContext jsc, String path, RecordCheck check) {
    JavaNewHadoopRDD<LongWritable, Text> lines = (JavaNewHadoopRDD<LongWritable, Text>) jsc.newAPIHadoopFile(path,
        TextInputFormat.class, LongWritable.class, Text.class, jsc.hadoopConfiguration());
    return lines.mapPartitionsWithInputSplit((InputSplit split, Iterator<Tuple2<LongWritable, Text>> it) -> {
      String file = split instanceof FileSplit ? ((FileSplit) split).getPath().toString() : String.valueOf(split);
      return new Iterator<Row>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public Row next() {
          Tuple2<LongWritable, Text> t = it.next();
          // Hadoop reuses the Text buffer: copy exactly its valid bytes.
          byte[] bytes = java.util.Arrays.copyOf(t._2().getBytes(), t._2().getLength());
          // Offset 0 is the first line of a file: the only place a UTF-8 BOM is tolerated
          // (Hadoop's LineRecordReader already drops one there; RecordCheck does too).
          long offset = t._1().get();
          return toRow(check.jsonLine(bytes, offset == 0), file, offset);
        }
      };
    }, false);
  }

  private static JavaRDD<Row> textFolder(JavaSparkContext jsc, InputSpec in, RecordCheck check) {
    String fixedDomain = in.domain();
    String glob = fixedDomain.isEmpty() ? in.path() + "/*/*" : in.path() + "/*";
    return jsc.binaryFiles(glob).map(t -> {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(t._1());
      String domain = fixedDomain.isEmpty() ? p.getParent().getName() : fixedDomain;
      byte[] content = t._2().toArray();
      return toRow(check.textFile(domain + "/" + p.getName(), domain, content), t._1(), -1L);
    });
  }

  private static Dataset<Row> parquet(SparkSession spark, InputSpec in, RecordCheck check) {
    Dataset<Row> df = spark.read().parquet(in.path());
    List<String> have = List.of(df.columns());
    for (String c : List.of("doc_id", "domain", "text")) {
      if (!have.contains(c)) {
        throw new ConfigException("Parquet input " + in.path() + " has no column '" + c + "' (columns: " + have
            + "); knowable needs doc_id, domain, text");
      }
    }
    String source = in.path();
    JavaRDD<Row> rows = df.select(col("doc_id").cast("string"), col("domain").cast("string"),
        col("text").cast("string")).javaRDD()
        .map(r -> toRow(check.fields(r.getString(0), r.getString(1), r.getString(2)), source, -1L));
    return spark.createDataFrame(rows, PARSED);
  }

  private static Row toRow(RecordCheck.Result r, String source, long offset) {
    return RowFactory.create(r.docId(), r.domain(), r.text(), source, offset, r.reason(), r.detail(), r.raw());
  }
}
