package dev.knowable.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.jobs.report.ReportData.Density;
import dev.knowable.jobs.report.ReportData.Difference;
import dev.knowable.jobs.report.ReportData.Headline;
import dev.knowable.jobs.report.ReportData.Iclt;
import dev.knowable.jobs.report.ReportData.IcltAuc;
import dev.knowable.jobs.report.ReportData.IcltHistogram;
import dev.knowable.jobs.report.ReportData.Passage;
import dev.knowable.jobs.report.ReportData.ProbeAuc;
import dev.knowable.jobs.report.ReportData.RocCounts;
import dev.knowable.jobs.report.ReportData.RunFacts;
import dev.knowable.jobs.report.ReportData.SweepDifference;
import dev.knowable.jobs.report.ReportData.SweepRow;
import dev.knowable.jobs.report.ReportData.Token;
import dev.knowable.jobs.report.ReportData.TokenView;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report page from hand-made values: no SparkSession (ReportPage and Html have no Spark). */
class ReportPageTest {
  private static final String BAND = "[2.0,inf)";
  private static final String ALL = ReportData.POOLED;

  private static ProbeAuc auc(String balance, String kind, Integer layer, String train, String eval, double auc) {
    return new ProbeAuc(balance, BAND, "gap", kind, layer, train, eval, 3, auc, 0.01, auc - 0.05, auc + 0.05, 40, 60);
  }

  /** A run with two balancings, an MLP at two layers, linear, BET, a combined control and one odd domain. */
  private static List<ProbeAuc> cross() {
    return List.of(
        auc("token", "mlp", 1, ALL, ALL, 0.70), auc("token", "mlp", 2, ALL, ALL, 0.80),
        auc("token", "linear", 2, ALL, ALL, 0.65), auc("token", "bet", null, ALL, ALL, 0.60),
        auc("token", "combined_k4", null, ALL, ALL, 0.75), auc("token", "mlp", 2, "<&>", ALL, 0.72),
        auc("token", "mlp", 2, ALL, "<&>", 0.78),
        new ProbeAuc("entropy_matched", BAND, "gap", "mlp", 2, ALL, ALL, 1, 0.5556, null, Double.NaN, Double.NaN,
            7, 9));
  }

  private static ReportPage.Contents contents(List<Difference> differences, RocCounts roc, Density density,
      Iclt iclt, TokenView tokens) {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("run id", "r<1>");
    return new ReportPage.Contents("r<1>", List.of("token", "entropy_matched"), BAND, "gap", cross(), differences,
        Map.of("mlp_fits", 6, "mlp_stopped_at_cap", 1, "mlp_max_epochs", 200), roc, density, 0.2, 0.1, List.of(), iclt,
        tokens, 5, t -> t.split(" "), new RunFacts(facts, Map.of("run-id", "r<1>")));
  }

  @Test
  void theHeadlineListsEachPooledProbeInOrderWithFormattedNumbers() {
    String page = ReportPage.render(contents(List.of(), null, null, null, null));
    assertThat(page).contains("<title>knowable report: run r&lt;1&gt;</title>")
        .contains("band <b>[2.0,inf)</b>, label kind <b>gap</b>")
        .contains("Balancing <b>token</b> leads (the others follow it: entropy_matched)")
        .contains(" MLP training: 1 of 6 fits reached max-epochs = 200")
        .contains("<td class=\"auc\">0.700</td><td>[0.650, 0.750]</td><td>3</td><td>40</td><td>60</td>")
        // One seed: no interval (NaN) and the AUC rounded to three places.
        .contains("<td class=\"auc\">0.556</td><td>[n/a, n/a]</td><td>1</td><td>7</td><td>9</td>")
        // Only pooled train and eval rows: not the probe trained or evaluated on one domain.
        .doesNotContain(">0.720<").doesNotContain(">0.780<");
    // mlp before linear before bet before the combined control; the lead balancing first.
    assertThat(page).containsSubsequence("data-balance=\"token\" data-probe=\"mlp\" data-layer=\"1\"",
        "data-probe=\"mlp\" data-layer=\"2\"", "data-probe=\"linear\"", "data-probe=\"bet\"",
        "data-probe=\"combined_k4\"", "data-balance=\"entropy_matched\"");
    assertThat(page).containsSubsequence(ReportPage.SECTIONS.stream().map(s -> "<h2 id=\"" + s + "\"").toList()
        .toArray(new String[0]));
  }

  @Test
  void pairedDifferencesAreSignedAndColouredByTheirInterval() {
    List<Difference> d = List.of(new Difference("token", "mlp", 2, 1, "bet", 0.2, 0.1, 0.3),
        new Difference("token", "mlp", 2, 1, "combined_k4", -0.05, -0.1, 0.01));
    Html html = new Html("t");
    html.differenceTable(d);
    assertThat(html.finish())
        .contains("<td class=\"l\">bet</td><td class=\"pos\">+0.200</td><td>[+0.100, +0.300]</td><td>1</td>")
        .contains("<td class=\"l\">combined_k4</td><td class=\"\">-0.050</td><td>[-0.100, +0.010]</td>");
  }

  @Test
  void emptySectionsSayWhatIsMissing() {
    String page = ReportPage.render(contents(List.of(), null, null, null, null));
    assertThat(page).contains("No probe_comparisons in this run.")
        .contains("No hidden-state probe in this run: no ROC curves.")
        .contains("small_scores or large_scores is missing: no density.")
        .contains("This run has no iclt_scores (the iclt stage did not run).")
        .contains("No hidden-state probe or no small_scores: no token view.")
        .doesNotContain("<figure id=\"roc-").doesNotContain("<figure id=\"density\"");
    Html html = new Html("t");
    ReportPage.density(html, new Density(0, 4, 0, 0, new long[0], new long[0], new long[0], 2.0), 0.2, 0.1);
    ReportPage.layers(html, List.of(auc("token", "bet", null, ALL, ALL, 0.6)), BAND, "gap");
    ReportPage.tokens(html, new TokenView("mlp", 2, 7, 2.0, Double.POSITIVE_INFINITY, List.of()), BAND, 5, null);
    ReportPage.iclt(html, new Iclt(List.of("eos"), null, List.of()));
    assertThat(html.finish()).contains("No scored positions.").contains("No hidden-state probes in this run.")
        .contains("The run has no test documents.").contains("band [2.0,inf), seed 7)")
        .doesNotContain("iclt-table");
  }

  @Test
  void oddDomainAndDocumentNamesAreEscaped() {
    RocCounts roc = new RocCounts("mlp", 2, 1, "combined_k4", 2, Map.of("<&>", List.of(
        new long[][] {{1, 0}, {0, 1}}, new long[][] {{1, 1}, {0, 0}}, new long[][] {{0, 0}, {1, 1}})));
    TokenView view = new TokenView("mlp", 2, 1, 2.0, 5.0, List.of(new Passage("d<1>", "<&>", "a <b>\nc",
        List.of(new Token(0, 11, 3.0f, 0.9, 1.5f), new Token(1, 12, 1.0f, 0.2, null)))));
    String page = ReportPage.render(contents(List.of(), roc, null, null, view));
    assertThat(page).contains("<figure id=\"roc-&lt;&amp;&gt;\" class=\"chart small\"><img alt=\"ROC curves "
            + "&lt;&amp;&gt;\"")
        .contains("<div class=\"pass\" data-doc=\"d&lt;1&gt;\"><p style=\"line-height:1.4\"><b>&lt;&amp;&gt;</b> "
            + "&middot; d&lt;1&gt;</p>")
        .doesNotContain("<&>").doesNotContain("d<1>");
    // Token 0 unshaded; token 1 ("<b>\nc" split on spaces: "<b>\nc") carries position 0's values, in the band.
    assertThat(page).contains("<span class=\"t out\" title=\"position 0: the first token, not predicted\"><b>a</b>")
        .contains("title=\"position 1: H_S 3.000, H_L 1.500, P(epistemic) 0.900\"><b style=\"background:"
            + "rgba(214,39,40,0.90)\">&lt;b&gt;\u21b5c</b>")
        // Position 1 predicts token 2, past the text's pieces: shown by id, out of the band, no H_L.
        .contains("title=\"position 2: H_S 1.000, H_L n/a, P(epistemic) 0.200 (outside the band)\"><b>#12</b>");
  }

  @Test
  void theSweepListsEachCellInBalancingThenThresholdOrder() {
    SweepDifference mlp = new SweepDifference(0.014, 0.003, 0.025);
    SweepDifference linear = new SweepDifference(-0.16, -0.177, -0.143);
    List<SweepRow> rows = List.of(
        new SweepRow("token", 0.5, 0.2, "sweep/cut0.5-gap0.2", BAND, 2, 4200, 4200, mlp, linear, 3),
        new SweepRow("entropy_matched", 1.0, 0.1, "sweep/<x>", BAND, 2, 10, 11,
            new SweepDifference(-0.019, -0.038, Double.NaN), null, 3),
        new SweepRow("token", 0.2, 0.1, null, BAND, 2, 1549, 1549, mlp, linear, 3),
        new SweepRow("token", 0.2, 0.1, "sweep/cut0.2-gap0.1", BAND, 2, 1549, 1549, mlp, linear, 3));
    Html html = new Html("t");
    ReportPage.sweep(html, ReportData.sweepOrder(rows, List.of("token", "entropy_matched")));
    String page = html.finish();
    assertThat(page).contains("<h2 id=\"sweep\">Threshold sweep").contains("Band <b>[2.0,inf)</b>, layer 2,")
        .contains("<tr class=\"sweep\"><td class=\"l\">token</td><td>0.5</td><td>0.2</td><td>4200 / 4200</td>"
            + "<td class=\"pos\">+0.014 [+0.003, +0.025]</td><td class=\"neg\">-0.160 [-0.177, -0.143]</td>"
            + "<td>3</td><td class=\"l\">sweep/cut0.5-gap0.2</td></tr>")
        // A missing bound reads n/a; a missing probe kind a dash; cell names are escaped.
        .contains("<td>1.0</td><td>0.1</td><td>10 / 11</td><td class=\"\">-0.019 [-0.038, n/a]</td><td>-</td>")
        .contains("sweep/&lt;x&gt;").doesNotContain("sweep/<x>")
        .contains("<tr class=\"sweep own\"><td class=\"l\">token</td><td>0.2</td><td>0.1</td>");
    // The lead balancing first, by cut and gap; the run's own setting before a cell with the same thresholds.
    assertThat(page).containsSubsequence("<b>this run</b>", "sweep/cut0.2-gap0.1", "sweep/cut0.5-gap0.2",
        "sweep/&lt;x&gt;");
    Html empty = new Html("t");
    ReportPage.sweep(empty, List.of());
    assertThat(empty.finish()).contains("No threshold sweep for this run: <code>bench/threshold-sweep.sh CONFIG "
        + "OUTPUT_ROOT</code>").doesNotContain("sweep-table");
    assertThat(ReportPage.render(contents(List.of(), null, null, null, null)))
        .contains("<a href=\"#sweep\">sweep</a>").contains("No threshold sweep for this run");
  }

  @Test
  void densityAndIcltSectionsDrawTheirAggregates() {
    Density d = new Density(12345, 4, 8.0, 2.0, new long[] {0, 3}, new long[] {1, 3}, new long[] {12000, 345},
        2.0);
    Iclt iclt = new Iclt(List.of("eos", "nl"), List.of(new IcltAuc("[2.0,4.0) token", "mi<", 0.61, Double.NaN,
        0.7, 5, 6)), List.of(new IcltHistogram("mi", -1.0, 0.5, Map.of("eos", new long[2][20]))));
    String page = ReportPage.render(contents(List.of(), null, d, iclt, null));
    assertThat(page).contains("Every scored position of the run (12,345), binned into 4 x 4 cells of 2.00 nats")
        .contains("H_L &lt; 0.2;").contains("|H_L - H_S| &le; 0.1;").contains("<figure id=\"density\"")
        .contains("<tr><td class=\"l\">[2.0,4.0) token</td><td class=\"l\">mi&lt;</td><td>0.610</td>"
            + "<td>[n/a, 0.700]</td><td>5</td><td>6</td></tr>")
        .contains("<figure id=\"iclt-mi\" class=\"chart small\"><img alt=\"ICLT mi distribution by class\" "
            + "src=\"data:image/png;base64,iVBOR");
  }

  @Test
  void theRenderingClassesNeedNoSpark() throws java.io.IOException {
    java.nio.file.Path dir = dev.knowable.model.TestModels.repoRoot()
        .resolve("jobs/src/main/java/dev/knowable/jobs/report");
    for (String f : List.of("ReportPage.java", "ReportData.java", "Html.java", "Charts.java")) {
      assertThat(java.nio.file.Files.readString(dir.resolve(f))).as(f).doesNotContain("org.apache.spark")
          .doesNotContain("ReportQueries.").doesNotContain("RunTables");
    }
  }

  @Test
  void rocPointsCumulateFromTheHighestBinDown() {
    Charts.Curve c = ReportPage.rocPoints("p", new long[][] {{3, 1}, {1, 1}, {0, 2}});
    assertThat(c.x()).containsExactly(0.0, 0.0, 0.25, 1.0);
    assertThat(c.y()).containsExactly(0.0, 0.5, 0.75, 1.0);
    assertThat(ReportPage.rocPoints("empty", new long[2][2]).y()).containsExactly(0.0, 0.0, 0.0);
  }

  @Test
  void theConsoleTableAndNotes() {
    String t = ReportPage.consoleTable(List.of(new Headline("token", "mlp", 2, 3, 0.8, 0.75, 0.85, 40, 60)),
        List.of(new Difference("token", "mlp", 2, 1, "bet", 0.2, 0.1, 0.3)), BAND, "gap");
    assertThat(t).contains("band [2.0,inf), label gap")
        .contains("  token            mlp (layer 2)           0.800  [ 0.750,  0.850]     3      100")
        .contains("  token            mlp (layer 2)          - bet           +0.200  [ +0.100,  +0.300]");
    assertThat(ReportPage.mlpNote(Map.of())).isEmpty();
    assertThat(ReportPage.betFtNote(Map.of("bet_ft_fits", 4, "bet_ft_stopped_at_cap", 0))).startsWith(
        " BET-FT: 0 of 4 fits reached max-epochs");
  }

  @Test
  void theSectionsChoicesAreStatedOnce() {
    List<ProbeAuc> cross = cross();
    assertThat(ReportData.balanceOrder(List.of("entropy_matched", "token", "none"), cross))
        .containsExactly("entropy_matched", "token");
    assertThat(ReportData.balanceOrder(List.of(), cross)).containsExactly("entropy_matched", "token");
    assertThatThrownBy(() -> ReportData.balanceOrder(List.of("token"), List.of()))
        .hasMessageContaining("no test rows");
    assertThat(ReportData.headlineBand("[2.0,4.0)", cross)).isEqualTo(BAND);
    assertThat(ReportData.labelKind(cross)).isEqualTo("gap");
    List<ProbeAuc> token = cross.stream().filter(x -> x.balance().equals("token")).toList();
    assertThat(ReportData.bestLayer(token, "mlp", BAND, "gap")).isEqualTo(2);
    assertThat(ReportData.bestLayer(token, "mlp", "[4.0,inf)", "gap")).isNull();
    assertThat(ReportData.shownKind(token, BAND, "gap")).isEqualTo("mlp");
    assertThat(ReportData.strongestControl(token, BAND, "gap")).isEqualTo("combined_k4");
    assertThat(ReportData.strongestControl(List.of(auc("token", "context_k2", null, ALL, ALL, 0.6),
        auc("token", "context_k3", null, ALL, ALL, 0.7), auc("token", "context_k4", null, ALL, ALL, 0.65)), BAND,
        "gap")).isEqualTo("context_k3");
    // Of each probe and baseline the lowest seed; the combined control first, then BET.
    List<Difference> d = ReportData.differences(List.of(
        new Difference("token", "mlp", 2, 2, "bet", 0.3, 0.2, 0.4),
        new Difference("token", "mlp", 2, 1, "bet", 0.2, 0.1, 0.3),
        new Difference("token", "mlp", 2, 1, "combined_k4", 0.0, -0.1, 0.1),
        new Difference("entropy_matched", "mlp", 2, 1, "bet", 0.1, 0.0, 0.2)), List.of("token", "entropy_matched"));
    assertThat(d).extracting(x -> x.balance() + " " + x.baseline() + " " + x.seed())
        .containsExactly("token combined_k4 1", "token bet 1", "entropy_matched bet 1");
  }
}
