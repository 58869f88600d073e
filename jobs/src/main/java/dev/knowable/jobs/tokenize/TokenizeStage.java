package dev.knowable.jobs.tokenize;

import dev.knowable.config.KnowableConfig;
import dev.knowable.ingest.SplitAssigner;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.model.ModelPair;
import dev.knowable.tables.Table;
import dev.knowable.tokenize.TextTokenizer;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * tokenize: documents -> tokens. Each document is tokenized whole; with
 * long-documents=window every id is kept (the score stages cut windows), with truncate only
 * the first max-tokens ids. Its shard is a stable hash of doc_id. The tokenizer's SHA-256 goes
 * into the manifest, and must equal the models' (a pair with another tokenizer is refused).
 */
public final class TokenizeStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(TokenizeStage.class);

  @Override
  public String name() {
    return "tokenize";
  }

  @Override
  public String description() {
    return "tokenize documents with the models' tokenizer.json (long ones kept whole for windows, or truncated), "
        + "assign shards";
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    if (!tables.needsWrite(Table.TOKENS)) {
      return;
    }
    Path tokenizerFile = TokensTable.tokenizerPath(config).toAbsolutePath();
    String fingerprint = TextTokenizer.get(tokenizerFile).fingerprint();
    ModelPair.requireTokenizer(config, fingerprint, "tokenizer " + tokenizerFile);
    Dataset<Row> documents = tables.read(Table.DOCUMENTS);
    StructType schema = SparkSchemas.of(Table.TOKENS);
    boolean truncate = config.tokenize().longDocuments() == KnowableConfig.LongDocuments.TRUNCATE;
    // Window mode keeps every id: the cap is then only the int array length.
    int maxTokens = truncate ? config.tokenize().maxTokens() : Integer.MAX_VALUE;
    int shards = config.tokenize().shards();
    String file = tokenizerFile.toString();
    Dataset<Row> tokens = documents.select("doc_id", "split", "text", "domain")
        .mapPartitions((MapPartitionsFunction<Row, Row>) rows -> tokenize(rows, file, maxTokens, shards),
            Encoders.row(schema));
    Map<String, Object> extras = new LinkedHashMap<>();
    extras.put("tokenizer", file);
    extras.put("tokenizer_sha256", fingerprint);
    extras.put("max_tokens", config.tokenize().maxTokens());
    extras.put("long_documents", truncate ? "truncate" : "window");
    extras.put("window_overlap_tokens", config.tokenize().overlapTokens());
    extras.put("shards", shards);
    long start = System.nanoTime();
    long rows = tables.write(Table.TOKENS, tokens, extras);
    Row totals = tables.read(Table.TOKENS).selectExpr("sum(n_tokens)", "sum(n_tokens_full)",
        "sum(CAST(n_tokens < n_tokens_full AS INT))").first();
    LOG.info("tokenize: {} documents, {} tokens kept of {} ({} documents truncated to {}), {} s", rows,
        totals.get(0), totals.get(1), totals.get(2), truncate ? maxTokens : "-",
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
  }

  private static Iterator<Row> tokenize(Iterator<Row> rows, String file, int maxTokens, int shards) {
    TextTokenizer tok = TextTokenizer.get(Paths.get(file));
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        Row r = rows.next();
        String docId = r.getString(0);
        int[] all = tok.encode(r.getString(2));
        int n = Math.min(all.length, maxTokens);
        int[] kept = n == all.length ? all : java.util.Arrays.copyOf(all, n);
        return RowFactory.create(docId, r.getString(1), SplitAssigner.shardOf(docId, shards), kept, n, all.length,
            r.getString(3));
      }
    };
  }
}
