package dev.knowable.jobs.label;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.knowable.config.KnowableConfig;
import dev.knowable.jobs.tables.HiddenStates;
import dev.knowable.jobs.tables.ProbeExamplesTable;
import dev.knowable.jobs.tables.RunTables;
import dev.knowable.jobs.tables.ScoresTable;
import dev.knowable.jobs.tables.Stage;
import dev.knowable.label.Balancing;
import dev.knowable.label.Band;
import dev.knowable.label.LabelSettings;
import dev.knowable.tables.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The label stage: small_scores + large_scores -> {@code probe_examples}. Gap (and no-gap)
 * labels per configured band, token-identity balancing, then global class balancing,
 * separately per split, domain, band and label kind. The manifest records the counts
 * after each step (per population) and the bands resolved to nats.
 */
public final class LabelStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(LabelStage.class);
  /** Columns of probe_examples before the hidden states, in data-schemas order. */
  private static final List<String> COLUMNS = List.of("doc_id", "split", "position", "token_id", "prev_token_id",
      "band", "label_kind", "balance", "label", "small_entropy", "large_entropy");

  @Override
  public String name() {
    return "label";
  }

  @Override
  public String description() {
    return "Gap labels per entropy band, entropy-matched and token-identity balancing -> probe_examples";
  }

  /**
   * H_S and H_L are compared directly, so both must be entropies over the same ids: the
   * effective vocab_limit the two score stages recorded must be equal.
   */
  static void requireSameVocabLimit(RunTables tables) {
    Object small = tables.readManifest(Table.SMALL_SCORES).get("vocab_limit");
    Object large = tables.readManifest(Table.LARGE_SCORES).get("vocab_limit");
    if (small == null || large == null || !String.valueOf(small).equals(String.valueOf(large))) {
      throw new IllegalStateException("small_scores of run " + tables.runId() + " has entropies over vocab_limit "
          + small + " ids but large_scores over " + large + ": H_S and H_L must be entropies over the same ids. "
          + "Set knowable.models.small.vocab-limit and knowable.models.large.vocab-limit to one value and rerun "
          + "score-small / score-large with if-exists=overwrite.");
    }
  }

  @Override
  public void run(SparkSession spark, KnowableConfig config, RunTables tables) {
    LabelSettings settings = config.label();
    if (!tables.needsWrite(Table.PROBE_EXAMPLES)) {
      return;
    }
    Dataset<Row> small = ScoresTable.withoutRejected(tables, tables.read(Table.SMALL_SCORES));
    List<Band> bands = ProbeExamples.resolveBands(settings.bands(), small);
    HiddenStates.requireStoredFor(tables, bands);
    LOG.info("Label stage, run {}: labels from {}, bands {}, kinds {}, balancings {} (key {}, H_S bins of {} nats)",
        tables.runId(), settings.source(), bands, settings.kinds(), settings.balancings(), settings.balanceKey(),
        settings.entropyBinNats());

    if (settings.source() == LabelSettings.Source.PAIR) {
      requireSameVocabLimit(tables);
    }
    Dataset<Row> labelled = (settings.source() == LabelSettings.Source.SYNTHETIC_QA
        ? ProbeExamples.constructionLabels(small, tables.read(Table.TOKENS), bands)
        : ProbeExamples.label(ProbeExamples.joinScores(small,
            ScoresTable.withoutRejected(tables, tables.read(Table.LARGE_SCORES)), bands),
            bands, settings.kinds(), settings.labeler())).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> kept = ProbeExamples.dropGap(labelled);
    // Token balancing's intermediate step is counted for the manifest: keep it computed once.
    List<Dataset<Row>> cached = new ArrayList<>();
    List<Map<String, Object>> counts = new ArrayList<>(ProbeExamples.classCounts(labelled, "in_band"));
    Dataset<Row> balanced = null;
    try {
      for (Balancing b : settings.balancings()) {
        Dataset<Row> tagged = kept.withColumn(ProbeExamplesTable.BALANCE, lit(b.tableValue()));
        Dataset<Row> one;
        if (b == Balancing.TOKEN) {
          Dataset<Row> tokenBalanced = ProbeExamples.tokenIdentityBalance(tagged, settings.balanceKey(),
              settings.seed()).persist(StorageLevel.MEMORY_AND_DISK());
          cached.add(tokenBalanced);
          counts.addAll(ProbeExamples.classCounts(tokenBalanced, "token_identity_balanced"));
          one = ProbeExamples.classBalance(tokenBalanced, settings.seed());
        } else {
          one = ProbeExamples.entropyMatchedBalance(tagged, settings.balanceKey(), settings.entropyBinNats(),
              settings.seed());
        }
        balanced = balanced == null ? one : balanced.unionByName(one);
      }
      Dataset<Row> classBalanced = balanced.persist(StorageLevel.MEMORY_AND_DISK());
      cached.add(classBalanced);
      List<Column> out = new ArrayList<>();
      COLUMNS.forEach(c -> out.add(col(c)));
      ProbeExamplesTable.hiddenColumns(small.schema()).forEach(h -> out.add(col(h)));
      out.add(col("domain"));

      Map<String, Object> extras = new LinkedHashMap<>();
      List<Map<String, Object>> resolved = new ArrayList<>();
      for (Band b : bands) {
        resolved.add(b.manifestEntry());
      }
      extras.put("bands", resolved);
      extras.put("label_source", settings.source().name().toLowerCase(java.util.Locale.ROOT));
      extras.put("balance_key", settings.balanceKey().name().toLowerCase(java.util.Locale.ROOT));
      extras.put("balance", settings.balancings().stream().map(Balancing::tableValue).toList());
      extras.put("entropy_bin_nats", settings.entropyBinNats());
      extras.put("seed", settings.seed());
      extras.put("positions", ProbeExamples.positionCounts(small));
      // "in_band" rows count every in-band position; its n_class0/1 are the labelled ones
      // before balancing (the rest fell in the gap).
      // "class_balanced": the rows written, per balancing (entropy-matched rows are balanced
      // per cell, hence per class too).
      counts.addAll(ProbeExamples.classCounts(classBalanced, "class_balanced"));
      extras.put("counts", counts);
      long written = counts.stream().filter(c -> "class_balanced".equals(c.get("step")))
          .mapToLong(c -> (Long) c.get("rows")).sum();
      if (written == 0) {
        // Nothing to probe: fail with the counts that say why instead of publishing an empty table.
        throw new IllegalStateException("No probe examples survive labelling and balancing in run "
            + tables.runId() + " (bands " + bands + "). Counts per step: " + counts
            + ". Widen knowable.label.bands or use band-unit = quantile if the models' entropy scale differs.");
      }
      long rows = tables.write(Table.PROBE_EXAMPLES,
          ProbeExamples.withHiddenStates(classBalanced, small, bands, HiddenStates.dtype(tables))
              .select(out.toArray(new Column[0])),
          extras);
      LOG.info("Label stage wrote {} probe examples", rows);
    } finally {
      cached.forEach(Dataset::unpersist);
      labelled.unpersist();
    }
  }
}
