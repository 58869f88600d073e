package dev.knowable.jobs.cli;

import dev.knowable.jobs.aggregate.AggregateStage;
import dev.knowable.jobs.apply.ApplyStage;
import dev.knowable.jobs.iclt.IcltStage;
import dev.knowable.jobs.ingest.IngestStage;
import dev.knowable.jobs.label.LabelStage;
import dev.knowable.jobs.probe.ProbeStage;
import dev.knowable.jobs.report.ReportStage;
import dev.knowable.jobs.score.ScoreStage;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.jobs.tokenize.TokenizeStage;
import java.util.List;
import java.util.Optional;

/** The pipeline's stages in run order: {@code pipeline} runs all of them; each also runs by name. */
public final class Stages {
  private Stages() {}

  public static List<Stage> all() {
    return List.of(new IngestStage(), new TokenizeStage(), new ScoreStage(ScoreStage.SMALL),
        new ScoreStage(ScoreStage.LARGE), new LabelStage(), new ProbeStage(), new ApplyStage(), new IcltStage(),
        new AggregateStage(), new ReportStage());
  }

  public static Optional<Stage> named(String name) {
    return all().stream().filter(s -> s.name().equals(name)).findFirst();
  }
}
