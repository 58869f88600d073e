package dev.knowable.jobs.iclt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.cli.Main;
import dev.knowable.jobs.cli.RunSql;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.model.TestModels;
import java.nio.file.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mechanism check of the in-context learning test, end to end through Spark, on the
 * synthetic question/answer language whose truth is known (demo/synthetic, model
 * demo/models/synthetic-qa; conf/synthetic.conf).
 *
 * <p>Why these expectations: the probe documents ask questions the model never saw. For
 * kind 0 the answer is a fixed function of the question the model cannot know, and it was
 * trained on repeats where a kind-0 answer given earlier in context is the answer again:
 * hinted with c, it repeats c (q_j(c_j) near 1), so MI over the candidates is near
 * H(Y) = ln 2. For kind 1 the answer is a coin flip at every occurrence, repeats included:
 * the hint carries no information and q_j stays near (1/2, 1/2), so MI is near 0. MI must
 * therefore separate the kinds almost perfectly (test AUC >= 0.9, direction chosen on val:
 * high MI = kind 0 = class 0, so the sign is -1). The first question bit reveals the kind,
 * so a linear probe on the hidden state separates them too (test AUC >= 0.95); neither
 * shows self-knowledge, only that the mechanism works.
 */
class SyntheticIcltTest extends SparkTestBase {

  @Test
  void icltAndProbesSeparateKnowableFromCoinFlipQuestions(@TempDir Path tmp) {
    Path root = TestModels.repoRoot();
    KnowableConfig c = config(tmp,
        "ingest.inputs=[{path=\"" + root.resolve("demo/synthetic/probe.jsonl") + "\", format=jsonl}]",
        "ingest.split.group-separator=\"#\"", "tokenize.max-tokens=64", "tokenize.shards=2",
        "models.small.path=\"" + root.resolve("demo/models/synthetic-qa") + "\"", "models.small.layers=[1, 2]",
        "label.source=synthetic-qa", "label.bands=[\"0.0:inf\"]",
        "probe.model-pair=synthetic-qa", "probe.label-kinds=[construction]", "probe.seeds=1",
        "probe.mlp.enabled=false", "probe.context.ks=[1]", "probe.bootstrap-resamples=50",
        "iclt.bands=[\"0.0:inf\"]", "iclt.label-kind=construction", "iclt.max-per-cell=100",
        "iclt.bootstrap-resamples=50",
        "iclt.separators=[{name=newline, text=\"\\n\", eos=false}, {name=none, text=\"\", eos=false}]");
    Main.run(spark, "ingest,tokenize,score-small,label,probe,iclt", c);
    RunSql.registerViews(spark, c);

    // Construction labels: one labelled position per document (the space before the answer).
    assertThat(sql("SELECT count(*) FROM probe_examples WHERE position != 10")).first()
        .extracting(r -> r.getLong(0)).isEqualTo(0L);
    for (String sep : new String[] {"newline", "none"}) {
      Row mi = sql("SELECT auc, score_sign, auc_ci_low, n_class0, n_class1 FROM iclt_metrics WHERE probe_kind = "
          + "'iclt_mi@" + sep + "' AND train_domain = 'all' AND eval_domain = 'all' AND eval_split = 'test'").get(0);
      System.out.printf("synthetic ICLT mi@%s: test AUC %.3f [%.3f], sign %d, n %d / %d%n", sep, mi.getDouble(0),
          mi.getDouble(2), mi.getInt(1), mi.getLong(3), mi.getLong(4));
      if (sep.equals("newline")) {
        assertThat(mi.getInt(1)).as("high MI means knowable (class 0)").isEqualTo(-1);
        assertThat(mi.getDouble(0)).as("MI separates the kinds under the trained separator").isGreaterThanOrEqualTo(0.9);
        assertThat(mi.getLong(3)).isGreaterThanOrEqualTo(50);
      }
    }
    Row hint = sql("SELECT avg(CASE WHEN label = 0 THEN hint_repeat END), avg(CASE WHEN label = 1 THEN hint_repeat "
        + "END) FROM iclt_scores WHERE separator = 'newline'").get(0);
    System.out.printf("synthetic hint_repeat: kind 0 %.3f, kind 1 %.3f%n", hint.getDouble(0), hint.getDouble(1));
    assertThat(hint.getDouble(0)).as("knowable questions: the hint is mostly repeated").isGreaterThan(0.7);
    assertThat(hint.getDouble(1)).as("coin-flip questions: the hint is ignored (1/2)").isBetween(0.4, 0.6);
    Row bet = sql("SELECT auc FROM iclt_metrics WHERE probe_kind = 'bet' AND train_domain = 'all' "
        + "AND eval_domain = 'all' AND eval_split = 'test'").get(0);
    System.out.printf("synthetic BET on the same positions: test AUC %.3f%n", bet.getDouble(0));
    Row paired = sql("SELECT auc_difference, difference_ci_low, difference_ci_high, n_docs FROM iclt_comparisons "
        + "WHERE probe_kind = 'iclt_mi@newline' AND train_domain = 'all' AND eval_domain = 'all' "
        + "AND eval_split = 'test'").get(0);
    System.out.printf("synthetic MI@newline - BET (paired, %d documents): %.3f [%.3f, %.3f]%n", paired.getInt(3),
        paired.getDouble(0), paired.getDouble(1), paired.getDouble(2));
    assertThat(paired.getDouble(1)).as("MI beats BET on the same positions, documents resampled").isPositive();
    Row linear = sql("SELECT max(auc) FROM probe_metrics WHERE probe_kind = 'linear' AND train_domain = 'all' "
        + "AND eval_domain = 'all' AND eval_split = 'test'").get(0);
    assertThat(linear.getDouble(0)).as("the first question bit is in the hidden state").isGreaterThanOrEqualTo(0.95);
  }
}
