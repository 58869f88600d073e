package dev.knowable.label;

import java.util.Arrays;
import java.util.Locale;

/** Which labelling of in-band positions (docs/METHOD.md section 4). */
public enum LabelKind {
  /** Class 0 when H_L is below the epistemic threshold, class 1 when |H_L - H_S| is small, else dropped. */
  GAP("gap"),
  /** Every in-band position: label = H_L >= the no-gap threshold. */
  NO_GAP("no_gap"),
  /**
   * Labels known by construction (label.source = synthetic-qa): 0 where the answer is a
   * deterministic function of the question, 1 where it is a coin flip. No large model.
   */
  CONSTRUCTION("construction");

  private final String tableValue;

  LabelKind(String tableValue) {
    this.tableValue = tableValue;
  }

  /** The value in the label_kind column. */
  public String tableValue() {
    return tableValue;
  }

  /** Accepts the config spelling (gap, no-gap) and the table spelling (no_gap). */
  public static LabelKind parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    return Arrays.stream(values()).filter(k -> k.tableValue.equals(t)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("label kind must be gap, no-gap or construction, got '" + text + "'"));
  }
}
