package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.ScoreFixtures;
import dev.knowable.jobs.ScoreFixtures.Position;
import dev.knowable.jobs.tables.SparkSchemas;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.label.LabelStage;
import dev.knowable.jobs.report.ReportStage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * label -> probe -> report with {@code label.band-unit = quantile} on LabelProbeStagesTest's
 * synthetic scores (linear probe only, to stay cheap): the report is written, leads with the
 * quantile band and shades its token view in the nats range the label stage resolved.
 */
class QuantileBandReportTest extends SparkTestBase {

  @Test
  void theReportOfAQuantileBandRunNamesTheBand(@TempDir Path tmp) throws Exception {
    KnowableConfig config = config(tmp, "label.band-unit=quantile", "label.bands=[\"0.5:1\"]",
        "label.kinds=[gap]", "label.balance=[token]", "probe.seeds=1", "probe.mlp.enabled=false",
        "probe.linear.max-iter=20", "probe.context.enabled=false", "probe.combined.enabled=false",
        "probe.bootstrap-resamples=0", "report.passages=1", "report.passage-tokens=20", "report.density-bins=5",
        "report.roc-thresholds=10");
    RunTables tables = new RunTables(spark, config);
    List<Position> positions = LabelProbeStagesTest.synthetic(17);
    tables.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"),
        LabelProbeStagesTest.VOCAB);
    tables.write("large_scores", ScoreFixtures.large(spark, positions), List.of("domain"),
        LabelProbeStagesTest.VOCAB);
    List<Row> docs = new ArrayList<>();
    positions.stream().filter(p -> p.position() == 0).forEach(p -> docs.add(RowFactory.create(p.docId(), p.split(),
        "text of " + p.docId(), 8 + p.docId().length(), "fixture", p.domain())));
    tables.write("documents", spark.createDataFrame(docs, SparkSchemas.of("documents")), List.of("domain"), Map.of());

    new LabelStage().run(spark, config, tables);
    new ProbeStage().run(spark, config, tables);
    new ReportStage().run(spark, config, tables);

    String html = Files.readString(tmp.resolve("out").resolve("report").resolve("test.html"),
        StandardCharsets.UTF_8);
    assertThat(html).contains("band <b>q[0.5,1.0)</b>").contains("class=\"pass\" data-doc=");
  }
}
