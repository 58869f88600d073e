import java.io.File;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Bytes of a Parquet table folder: total file size, rows, and compressed bytes per top-level
 * column from the footers (used by bench/hidden-storage.sh; run with the app's classpath:
 * java -cp "$(cat jobs/target/spark-classpath.txt)" bench/ParquetColumnBytes.java DIR).
 * Prints "files_bytes rows" then "column bytes" lines.
 */
public class ParquetColumnBytes {
  public static void main(String[] args) throws Exception {
    long files = 0;
    long rows = 0;
    Map<String, Long> columns = new TreeMap<>();
    Configuration conf = new Configuration();
    for (File f : list(new File(args[0]))) {
      files += f.length();
      try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(f.getPath()), conf))) {
        for (BlockMetaData b : r.getFooter().getBlocks()) {
          rows += b.getRowCount();
          for (ColumnChunkMetaData c : b.getColumns()) {
            columns.merge(c.getPath().toArray()[0], c.getTotalSize(), Long::sum);
          }
        }
      }
    }
    System.out.println(files + " " + rows);
    columns.forEach((k, v) -> System.out.println(k + " " + v));
  }

  private static java.util.List<File> list(File dir) {
    java.util.List<File> out = new java.util.ArrayList<>();
    File[] kids = dir.listFiles();
    if (kids == null) {
      return out;
    }
    for (File k : kids) {
      if (k.isDirectory()) {
        out.addAll(list(k));
      } else if (k.getName().endsWith(".parquet")) {
        out.add(k);
      }
    }
    return out;
  }
}
