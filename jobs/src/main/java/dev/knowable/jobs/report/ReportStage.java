package dev.knowable.jobs.report;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.report.ReportData.Density;
import dev.knowable.jobs.report.ReportData.Difference;
import dev.knowable.jobs.report.ReportData.Iclt;
import dev.knowable.jobs.report.ReportData.ProbeAuc;
import dev.knowable.jobs.report.ReportData.RocCounts;
import dev.knowable.jobs.report.ReportData.SweepRow;
import dev.knowable.jobs.report.ReportData.TokenView;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tables.TokensTable;
import dev.knowable.label.Balancing;
import dev.knowable.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report stage: one self-contained HTML file for this run (charts rendered by XChart
 * and embedded as base64 PNG; no script, no network). Orchestration only: {@link ReportQueries}
 * gathers each section's small aggregates in Spark, {@link ReportPage} draws them; this class
 * picks what the sections show, writes the file and prints its path and the headline table.
 */
public final class ReportStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ReportStage.class);

  @Override
  public String name() {
    return "report";
  }

  @Override
  public String description() {
    return "one self-contained HTML report of this run (charts, headline AUCs, token view) -> <output>/report/<run-id>.html";
  }

  /** The report's path for a config. */
  public static String reportPath(KnowableConfig config) {
    String p = config.report().path();
    return p.isBlank() ? new Path(new Path(config.output(), "report"), config.runId() + ".html").toString() : p;
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    long start = System.nanoTime();
    KnowableConfig.Report r = config.report();
    ReportQueries queries = new ReportQueries(spark, tables, config.runId());
    List<ProbeAuc> all = queries.probeAucs();
    // The balancings in config order (knowable.label.balance): the first leads; the sections
    // below the headline show it alone.
    List<String> balances = ReportData.balanceOrder(
        config.label().balancings().stream().map(Balancing::tableValue).toList(), all);
    String lead = balances.get(0);
    List<ProbeAuc> cross = all.stream().filter(x -> lead.equals(x.balance())).toList();
    String band = ReportData.headlineBand(config.label().bands().get(0).name(), cross);
    String labelKind = ReportData.labelKind(cross);
    List<Difference> differences = ReportData.differences(queries.differences(band, labelKind, balances), balances);
    // The ROC and the token view show the MLP (else linear) probe at its best layer.
    String kind = ReportData.shownKind(cross, band, labelKind);
    Integer layer = ReportData.bestLayer(cross, kind, band, labelKind);
    RocCounts roc = timed("roc", () -> layer == null ? null : queries.rocCounts(band, labelKind, lead, kind, layer,
        ReportData.strongestControl(cross, band, labelKind), r.rocThresholds()));
    Density density = timed("density", () -> queries.density(r.densityBins(), config.label().bands().get(0)));
    List<SweepRow> sweep = timed("sweep", () -> queries.sweep(band));
    Iclt iclt = timed("iclt", () -> queries.iclt(ReportPage.ICLT_SCORES));
    TokenView tokens = timed("tokens", () -> layer == null ? null
        : queries.tokenView(band, labelKind, lead, kind, layer, r.passages(), r.passageTokens()));
    Map<String, Object> probeModels = queries.probeModelsManifest();
    String page = timed("rendering", () -> ReportPage.render(new ReportPage.Contents(config.runId(), balances, band,
        labelKind, all, differences, probeModels, roc, density, config.label().labeler().epistemicMaxLargeEntropy(),
        config.label().labeler().aleatoricMaxGap(), sweep, iclt, tokens, r.passageTokens(),
        tokens == null || tokens.passages().isEmpty() ? null : pieces(config), queries.runFacts())));

    byte[] bytes = page.getBytes(StandardCharsets.UTF_8);
    Path dest = new Path(reportPath(config));
    write(spark, dest, bytes);
    LOG.info("report: {} ({} bytes) in {} s", dest, bytes.length,
        String.format("%.1f", (System.nanoTime() - start) / 1e9));
    System.out.println();
    System.out.println("Report: " + dest + " (" + bytes.length / 1024 + " KiB)");
    System.out.print(ReportPage.consoleTable(ReportData.headline(all, band, labelKind, balances), differences, band,
        labelKind));
    String mlp = ReportPage.mlpNote(probeModels);
    String betFt = ReportPage.betFtNote(probeModels);
    System.out.print(mlp.isEmpty() ? "" : mlp.trim() + "\n");
    System.out.print(betFt.isEmpty() ? "" : betFt.trim() + "\n");
  }

  /** Writes through a hidden temporary file and a rename, so a reader never sees half a report. */
  private static void write(SparkSession spark, Path dest, byte[] bytes) {
    try {
      org.apache.hadoop.fs.FileSystem fs = dest.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs instanceof org.apache.hadoop.fs.LocalFileSystem local) {
        fs = local.getRawFileSystem(); // no .crc side file next to a file meant to be opened by hand
      }
      Path tmp = new Path(dest.getParent(), "." + dest.getName() + ".tmp");
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(bytes);
      }
      if (fs.exists(dest)) {
        fs.delete(dest, false);
      }
      if (!fs.rename(tmp, dest)) {
        throw new IOException("rename " + tmp + " -> " + dest + " returned false");
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write the report to " + dest + ": " + e.getMessage(), e);
    }
  }

  /**
   * Token texts from the run's tokenizer (the tokens table's); null (the token view shows ids)
   * when it is not there or cannot be loaded. The instance is the JVM's shared one
   * (TextTokenizer's cache): never closed here, other stages of this JVM may hold it.
   */
  static Function<String, String[]> pieces(KnowableConfig config) {
    java.nio.file.Path file = null;
    try {
      file = TokensTable.tokenizerPath(config);
      if (!Files.isRegularFile(file)) {
        return null;
      }
      return TextTokenizer.get(file)::pieces;
    } catch (RuntimeException e) {
      LOG.warn("report: cannot load {} ({}); the token view shows token ids", file, e.getMessage());
      return null;
    }
  }

  private static <T> T timed(String section, Supplier<T> work) {
    long t = System.nanoTime();
    T out = work.get();
    LOG.info("report: section {} in {} s", section, String.format("%.1f", (System.nanoTime() - t) / 1e9));
    return out;
  }
}
