package dev.knowable.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The command line: help, usage errors and configuration errors (no Spark session needed). */
class MainTest {

  static String[] captureErr(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return new String[] {buf.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void helpListsEveryStageAndOption() {
    String help = Main.help();
    for (String s : new String[] {"ingest", "tokenize", "score-small", "score-large", "label", "probe", "apply",
        "iclt", "aggregate", "report", "apply.probe-run", "--config", "--set"}) {
      assertThat(help).contains(s);
    }
    assertThat(Main.launch(new String[] {"--help"})).isEqualTo(Main.OK);
  }

  @Test
  void usageErrorsExitWithTwoAndSayWhy() {
    int[] rc = new int[1];
    String err = captureErr(() -> rc[0] = Main.launch(new String[] {"scor-small"}))[0];
    assertThat(rc[0]).isEqualTo(Main.USAGE);
    assertThat(err).contains("unknown stage 'scor-small'").contains("score-small");
    err = captureErr(() -> rc[0] = Main.launch(new String[] {"ingest", "--set"}))[0];
    assertThat(err).contains("--set needs a value");
    err = captureErr(() -> rc[0] = Main.launch(new String[] {}))[0];
    assertThat(err).contains("name a stage or 'pipeline'");
  }

  @Test
  void configErrorsFailBeforeAnyWork() {
    int[] rc = new int[1];
    String err = captureErr(() -> rc[0] = Main.launch(
        new String[] {"ingest", "--set", "tokenize.max-tokns=3"}))[0];
    assertThat(rc[0]).isEqualTo(Main.USAGE);
    assertThat(err).contains("Unknown configuration key(s): knowable.tokenize.max-tokns");
    err = captureErr(() -> rc[0] = Main.launch(new String[] {"ingest", "--config", "/nope/job.conf"}))[0];
    assertThat(err).contains("Config file not found: /nope/job.conf");
  }

  @Test
  void parseKeepsOverridesInOrder() {
    Main.Args a = Main.parse(new String[] {"pipeline", "-c", "x.conf", "--set", "a=1", "--set=b=2"});
    assertThat(a.command()).isEqualTo("pipeline");
    assertThat(a.sets()).containsExactly("a=1", "b=2");
    assertThatThrownBy(() -> Main.parse(new String[] {"ingest", "tokenize"}))
        .hasMessageContaining("one stage or 'pipeline' per run");
    assertThat(Main.stagesOf("ingest, tokenize").stream().map(s -> s.name()).toList())
        .containsExactly("ingest", "tokenize");
    assertThatThrownBy(() -> Main.parse(new String[] {"ingest,tokenise"})).hasMessageContaining("unknown stage 'tokenise'");
    assertThat(Main.parse(new String[] {"sql", "SELECT 1"}).query()).isEqualTo("SELECT 1");
    assertThatThrownBy(() -> Main.parse(new String[] {"sql"})).hasMessageContaining("sql needs a query");
  }

  @Test
  void localModeGetsFourShufflePartitionsPerCore() {
    assertThat(Main.localShufflePartitions("local[3]")).isEqualTo(12);
    assertThat(Main.localShufflePartitions("local[1]")).isEqualTo(4);
    assertThat(Main.localShufflePartitions("local[2,4]")).isEqualTo(8);
    assertThat(Main.localShufflePartitions("local[*]"))
        .isEqualTo(Math.max(4, 4 * Runtime.getRuntime().availableProcessors()));
  }
}
