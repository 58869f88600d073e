package dev.knowable.jobs.bench;

import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.score.ScoreStage;
import dev.knowable.jobs.tokenize.TokenizeStage;
import dev.knowable.model.LanguageModel;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ModelRegistry;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.TokenBatcher;
import ai.djl.Device;
import java.io.DataOutputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Benchmark (not a test): the Spark score stage vs a bare loop that feeds the same
 * batches (same TokenBatcher, same token budget, per shard as the stage's tasks see them)
 * to the same model instance with the same threads, alternated in one JVM.
 *
 * <p>Args: config file, output dir, repetitions, engines (comma list), roles (comma list).
 * Spark runs local[1] with one intra-op thread, so both sides use one core. Also writes
 * each role's batches to {@code <output>/batches-<role>.bin} for bench/torch_reference.py.
 */
public final class ScoreBench {
  private ScoreBench() {}

  public static void main(String[] args) throws Exception {
    Path conf = Paths.get(args[0]);
    String output = args[1];
    int reps = Integer.parseInt(args[2]);
    String[] engines = args[3].split(",");
    String[] roles = args[4].split(",");
    SparkSession spark = SparkSession.builder().master("local[1]").appName("score-bench")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").getOrCreate();
    KnowableConfig base = load(conf, output, "bench", "pytorch");
    RunTables tables = new RunTables(spark, base);
    new IngestStage().run(spark, base, tables);
    new TokenizeStage().run(spark, base, tables);
    // Token ids per shard, as the stage's tasks get them (one task per shard).
    Map<Integer, List<int[]>> shards = new TreeMap<>();
    for (Row r : tables.read("tokens", "tokenize").select("shard", "token_ids").collectAsList()) {
      List<Integer> ids = r.getList(1);
      shards.computeIfAbsent(r.getInt(0), k -> new ArrayList<>()).add(ids.stream().mapToInt(Integer::intValue).toArray());
    }
    long tokens = shards.values().stream().flatMap(List::stream).mapToLong(a -> a.length).sum();
    System.out.printf("BENCH corpus: %d shards, %d tokens, token budget %d%n", shards.size(), tokens,
        base.score().tokenBudget());
    List<String> lines = new ArrayList<>();
    for (String role : roles) {
      writeBatches(shards, base, Paths.get(output, "batches-" + role + ".bin"));
    }
    for (int rep = 1; rep <= reps; rep++) {
      for (String engine : engines) {
        for (String role : roles) {
          KnowableConfig c = load(conf, output, "bench", engine);
          double bare = bareLoop(shards, c, role, engine);
          KnowableConfig sc = c; // same run: its scores table is overwritten each time
          RunTables st = new RunTables(spark, sc);
          long start = System.nanoTime();
          new ScoreStage(role).run(spark, sc, st);
          double stage = (System.nanoTime() - start) / 1e9;
          String line = String.format("| %d | %s | %s | %.0f | %.0f | %.3f |", rep, engine, role, tokens / bare,
              tokens / stage, bare / stage);
          System.out.println("BENCH " + line);
          lines.add(line);
        }
      }
    }
    System.out.println("BENCH | rep | engine | role | bare loop tokens/s | score stage tokens/s | stage/bare |");
    System.out.println("BENCH |---|---|---|---|---|---|");
    lines.forEach(l -> System.out.println("BENCH " + l));
    spark.stop();
  }

  private static KnowableConfig load(Path conf, String output, String runId, String engine) {
    // The stage's tokens are read from run "bench"; each stage run writes its own scores.
    return ConfigLoader.load(conf, List.of("output=\"" + output + "\"", "run-id=\"" + runId + "\"",
        "if-exists=overwrite", "models.small.engine=" + engine, "models.large.engine=" + engine,
        "score.threads=1"));
  }

  /** Seconds for the bare loop over every shard's batches (model already loaded and warm). */
  private static double bareLoop(Map<Integer, List<int[]>> shards, KnowableConfig c, String role, String engine) {
    KnowableConfig.ModelSettings s = role.equals(ScoreStage.SMALL) ? c.small() : c.large();
    ModelContract contract = ModelContract.read(Paths.get(s.path()));
    LanguageModel m = ModelRegistry.get(Paths.get(s.path()), engine, Device.cpu(), 1);
    List<Integer> layers = role.equals(ScoreStage.SMALL) ? contract.resolveLayers(s.layers()) : List.of();
    ScoreRequest req = new ScoreRequest(contract.effectiveVocabLimit(s.vocabLimit()),
        role.equals(ScoreStage.SMALL) ? 1 : s.topK(), layers);
    long start = System.nanoTime();
    long sink = 0;
    for (List<int[]> docs : shards.values()) {
      int[] lengths = docs.stream().mapToInt(a -> a.length).toArray();
      for (List<Integer> batch : TokenBatcher.batches(lengths, c.score().tokenBudget(), c.score().maxBatchSize())) {
        List<int[]> seqs = new ArrayList<>();
        batch.forEach(i -> seqs.add(docs.get(i)));
        sink += m.score(seqs, req).size();
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    if (sink < 0) {
      throw new IllegalStateException();
    }
    return secs;
  }

  /** Batches as int32 little-endian: count, then per batch B, then per sequence length and ids. */
  private static void writeBatches(Map<Integer, List<int[]>> shards, KnowableConfig c, Path file) throws IOException {
    List<List<int[]>> all = new ArrayList<>();
    for (List<int[]> docs : shards.values()) {
      int[] lengths = docs.stream().mapToInt(a -> a.length).toArray();
      for (List<Integer> batch : TokenBatcher.batches(lengths, c.score().tokenBudget(), c.score().maxBatchSize())) {
        List<int[]> seqs = new ArrayList<>();
        batch.forEach(i -> seqs.add(docs.get(i)));
        all.add(seqs);
      }
    }
    Files.createDirectories(file.getParent());
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      writeInt(out, all.size());
      for (List<int[]> b : all) {
        writeInt(out, b.size());
        for (int[] s : b) {
          writeInt(out, s.length);
          for (int id : s) {
            writeInt(out, id);
          }
        }
      }
    }
  }

  private static void writeInt(DataOutputStream out, int v) throws IOException {
    out.writeInt(Integer.reverseBytes(v));
  }
}
