package dev.knowable.jobs.probe;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.ScoreFixtures.Position;
import dev.knowable.jobs.ScoreFixtures;
import dev.knowable.jobs.SparkTestBase;
import dev.knowable.jobs.label.LabelStage;
import dev.knowable.jobs.tables.ProbeTables;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.model.ModelContract;
import dev.knowable.model.ScoreRequest;
import dev.knowable.model.SequenceScores;
import dev.knowable.model.TorchScriptModel;
import dev.knowable.tables.Table;
import dev.knowable.tokenize.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BET-FT through label -> probe on score tables of the demo's real tiny pair (tiny-small,
 * tiny-large) over 2 x 40 demo documents of 128 tokens: the small model's final hidden state
 * (layer 2, after the final norm) and entropy, the large model's entropy and top-10.
 */
class BetFtStageTest extends SparkTestBase {
  private static final List<String> DOMAINS = List.of("code", "legal");
  private static final int DOCS = 40;
  private static final int TOKENS = 128;
  private static final int TOP_K = 10;
  private static final Map<String, Object> VOCAB = Map.of("vocab_limit", 257);
  private static Path small;
  private static List<Position> positions;
  private static Map<String, int[]> topIds;
  private static Map<String, float[]> topLogprobs;

  @BeforeAll
  static void score() throws IOException {
    Path root = dev.knowable.model.TestModels.repoRoot();
    small = root.resolve("demo/models/tiny-small");
    Path large = root.resolve("demo/models/tiny-large");
    positions = new ArrayList<>();
    topIds = new HashMap<>();
    topLogprobs = new HashMap<>();
    ObjectMapper json = new ObjectMapper();
    // The JVM's shared tokenizer: not closed here, other tests in this JVM use it.
    TextTokenizer tokenizer = TextTokenizer.get(small.resolve("tokenizer.json"));
    try (TorchScriptModel s = TorchScriptModel.load(ModelContract.read(small), Device.cpu());
        TorchScriptModel l = TorchScriptModel.load(ModelContract.read(large), Device.cpu())) {
      for (String domain : DOMAINS) {
        List<String> lines = Files.readAllLines(root.resolve("demo/corpora/probe/" + domain + ".jsonl"));
        int doc = 0;
        for (String line : lines) {
          if (doc == DOCS) {
            break;
          }
          JsonNode d = json.readTree(line);
          int[] ids = tokenizer.encode(d.get("text").asText());
          if (ids.length < TOKENS) {
            continue;
          }
          ids = java.util.Arrays.copyOf(ids, TOKENS);
          SequenceScores ss = s.score(List.of(ids), new ScoreRequest(257, 1, List.of(2))).get(0);
          SequenceScores ls = l.score(List.of(ids), new ScoreRequest(257, TOP_K, List.of())).get(0);
          String docId = domain + "-" + doc;
          String split = doc % 5 < 3 ? "train" : doc % 5 == 3 ? "val" : "test";
          for (int p = 0; p < TOKENS; p++) {
            positions.add(new Position(docId, domain, split, p, ids[p], p == 0 ? -1 : ids[p - 1], ss.entropy()[p],
                ls.entropy()[p], ss.hiddenAt(0, p, 64)));
            topIds.put(docId + "/" + p, ls.topkIdsAt(p));
            topLogprobs.put(docId + "/" + p, ls.topkLogprobsAt(p));
          }
          doc++;
        }
      }
    }
  }

  private RunTables run(Path tmp, String... sets) {
    List<String> all = new ArrayList<>(List.of("label.bands=[\"1.0:inf\"]", "label.kinds=[gap]",
        "label.balance=[token]", "probe.seeds=1", "probe.bootstrap-resamples=20", "probe.mlp.enabled=false",
        "probe.context.enabled=false", "probe.combined.enabled=false", "models.small.path=\"" + small + "\"",
        "models.small.layers=[2]"));
    all.addAll(List.of(sets));
    KnowableConfig config = config(tmp, all.toArray(String[]::new));
    RunTables tables = new RunTables(spark, config);
    tables.write("small_scores", ScoreFixtures.small(spark, positions), List.of("domain"), VOCAB);
    tables.write("large_scores", ScoreFixtures.large(spark, positions, topIds, topLogprobs), List.of("domain"),
        VOCAB);
    new LabelStage().run(spark, config, tables);
    new ProbeStage().run(spark, config, tables);
    return tables;
  }

  private static Map<String, Double> aucs(RunTables tables, String kind) {
    Map<String, Double> out = new HashMap<>();
    for (Row r : tables.read(Table.PROBE_METRICS).filter("probe_kind = '" + kind + "'").collectAsList()) {
      out.put(r.getAs("train_domain") + "/" + r.getAs("eval_domain") + "/" + r.getAs("eval_split"), r.getAs("auc"));
    }
    return out;
  }

  @Test
  void theOwnHeadAloneReproducesBet(@TempDir Path tmp) {
    RunTables tables = run(tmp, "probe.bet-ft.max-epochs=0", "probe.linear.enabled=false");
    Map<String, Double> bet = aucs(tables, ProbeTables.BET);
    Map<String, Double> betFt = aucs(tables, ProbeTables.BET_FT);
    // 3 train domains (code, legal, all) x 3 eval domains x 2 splits.
    assertThat(bet).hasSize(18);
    assertThat(betFt.keySet()).isEqualTo(bet.keySet());
    // The head read from model.pt times the stored final hidden state is the model's own
    // distribution: the same entropies up to fp32 rounding, so the same ranking.
    for (String k : bet.keySet()) {
      assertThat(betFt.get(k)).as(k).isCloseTo(bet.get(k), org.assertj.core.data.Offset.offset(1e-3));
    }
    Map<String, Object> models = tables.readManifest(Table.PROBE_MODELS);
    assertThat(((Number) models.get("bet_ft_fits")).longValue()).isEqualTo(3);
    assertThat(((Number) models.get("bet_ft_kept_own_head")).longValue()).isEqualTo(3);
  }

  @Test
  void fineTuningWritesMetricsModelsAndComparisons(@TempDir Path tmp) {
    RunTables tables = run(tmp);
    Map<String, Double> betFt = aucs(tables, ProbeTables.BET_FT);
    assertThat(betFt).hasSize(18);
    // Fine-tuning moved the heads: the ranking differs from BET's somewhere.
    Map<String, Double> bet = aucs(tables, ProbeTables.BET);
    assertThat(betFt.keySet()).anySatisfy(k -> assertThat(Math.abs(betFt.get(k) - bet.get(k))).isGreaterThan(1e-3));
    // Thresholded like BET: one threshold per fit, chosen on the train domain's val split, so
    // on that very set its accuracy is the best any threshold reaches, and never above it elsewhere.
    List<Row> rows = tables.read(Table.PROBE_METRICS).filter("probe_kind = 'bet_ft'").collectAsList();
    Map<String, java.util.Set<String>> thresholds = new HashMap<>();
    for (Row r : rows) {
      assertThat(r.<Object>getAs("layer")).isNull();
      thresholds.computeIfAbsent(r.getAs("train_domain"), d -> new java.util.HashSet<>())
          .add(r.getAs("threshold") + "/" + r.getAs("threshold_direction"));
      double accuracy = r.getAs("accuracy");
      double oracle = r.getAs("oracle_accuracy");
      if (r.getAs("train_domain").equals(r.getAs("eval_domain")) && "val".equals(r.getAs("eval_split"))) {
        assertThat(accuracy).as("val accuracy of " + r.getAs("train_domain")).isCloseTo(oracle,
            org.assertj.core.data.Offset.offset(1e-9));
      } else {
        assertThat(accuracy).isLessThanOrEqualTo(oracle + 1e-9);
      }
    }
    assertThat(thresholds).hasSize(3).allSatisfy((domain, t) -> assertThat(t).as(domain).hasSize(1));
    List<Row> fits = tables.read(Table.PROBE_MODELS).filter("probe_kind = 'bet_ft'").collectAsList();
    assertThat(fits).hasSize(3);
    for (Row f : fits) {
      assertThat(f.<Integer>getAs("input_dim")).isEqualTo(64);
      assertThat(f.<Long>getAs("n_train")).isPositive();
      assertThat(f.<Integer>getAs("epochs_run")).isPositive();
      assertThat(f.<Double>getAs("best_val_loss")).isFinite();
    }
    // Fine-tuning toward the large model moved the head on at least one fit.
    assertThat(fits).anySatisfy(f -> assertThat(f.<Integer>getAs("best_epoch")).isPositive());
    // BET-FT is a baseline of probe_comparisons, next to BET; the linear probe is compared with it.
    List<Row> cmp = tables.read(Table.PROBE_COMPARISONS).collectAsList();
    assertThat(cmp).extracting(r -> r.<String>getAs("baseline_kind")).contains("bet", "bet_ft");
    assertThat(cmp).extracting(r -> r.<String>getAs("probe_kind")).containsOnly("linear");
    Map<String, Object> models = tables.readManifest(Table.PROBE_MODELS);
    assertThat(((Number) models.get("bet_ft_fits")).longValue()).isEqualTo(3);
    assertThat(((Number) models.get("logistic_fits")).longValue()).isEqualTo(3);
  }

  @Test
  void skippedWithoutTheFinalLayer(@TempDir Path tmp) {
    // hidden_l2 stored but the model named has 4 layers: its final layer is not there.
    RunTables tables = run(tmp, "models.small.path=\"" + small.resolveSibling("tiny-large") + "\"",
        "probe.linear.enabled=false");
    assertThat(aucs(tables, ProbeTables.BET_FT)).isEmpty();
    assertThat(aucs(tables, ProbeTables.BET)).hasSize(18);
  }
}
