import java.io.File;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Which Parquet encoding of 16-bit hidden states is smaller: array<smallint> (what
 * small_scores stores) or binary (2 bytes a value, big-endian here; byte order does not
 * change the size class). Reads a float16 small_scores folder, keeps its first N rows,
 * writes both forms with Spark's defaults (snappy) and prints the bytes of each.
 *
 *   java --add-opens=java.base/sun.nio.ch=ALL-UNNAMED ... -cp "jobs/target/knowable-app.jar:$(cat jobs/target/spark-classpath.txt)" \
 *     bench/HalfEncodingBytes.java <float16 small_scores dir> <scratch dir> [rows]
 */
public class HalfEncodingBytes {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("half-encoding")
        .config("spark.ui.enabled", "false").getOrCreate();
    int rows = args.length > 2 ? Integer.parseInt(args[2]) : 200000;
    Dataset<Row> in = spark.read().parquet(args[0]).limit(rows).cache();
    long n = in.count();
    String toBinary = "aggregate(%s, X'', (acc, x) -> concat(acc, unhex(lpad(hex(x & 65535), 4, '0'))))";
    Dataset<Row> binary = in;
    for (String c : in.columns()) {
      if (c.startsWith("hidden_l")) {
        binary = binary.withColumn(c, org.apache.spark.sql.functions.expr(String.format(toBinary, c)));
      }
    }
    in.coalesce(1).write().mode("overwrite").parquet(args[1] + "/smallint");
    binary.coalesce(1).write().mode("overwrite").parquet(args[1] + "/binary");
    for (String form : new String[] {"smallint", "binary"}) {
      long bytes = 0;
      for (File f : new File(args[1] + "/" + form).listFiles()) {
        if (f.getName().endsWith(".parquet")) {
          bytes += f.length();
        }
      }
      System.out.printf("%s: %d rows, %d bytes, %.1f bytes/row%n", form, n, bytes, (double) bytes / n);
    }
    spark.stop();
  }
}
