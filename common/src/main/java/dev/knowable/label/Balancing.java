package dev.knowable.label;

import java.util.Arrays;
import java.util.Locale;

/**
 * How the classes of one population (split, domain, band, label kind) are balanced; the
 * value of the {@code balance} column of probe_examples and of every probe and ICLT table.
 */
public enum Balancing {
  /**
   * The paper's (docs/METHOD.md 5.1, 5.2): token-identity balancing (each key kept with
   * probability min(n_0, n_1) / n_c), then global class balancing. H_S may still separate
   * the classes (BET above chance).
   */
  TOKEN("token"),
  /**
   * Entropy-matched (docs/METHOD.md 5.3): within each cell (token-identity key, H_S bin of a
   * configured width) the classes are made exactly equal, keeping the first min(n_0, n_1)
   * rows of each class in a seeded order; cells seen in one class only are dropped. Both
   * the token key and H_S are then (up to the bin width) independent of the label, so BET
   * and the current-token control sit near chance and a probe must use something else.
   */
  ENTROPY_MATCHED("entropy_matched");

  private final String tableValue;

  Balancing(String tableValue) {
    this.tableValue = tableValue;
  }

  /** The value in the balance column. */
  public String tableValue() {
    return tableValue;
  }

  /** Accepts the config spelling (token, entropy-matched) and the table spelling (entropy_matched). */
  public static Balancing parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    return Arrays.stream(values()).filter(b -> b.tableValue.equals(t)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("balance must be token or entropy-matched, got '" + text
            + "'"));
  }

  /**
   * The H_S bin of an entropy: floor(H_S / width), computed on the fp32 value as stored
   * (so the Spark column and this function agree bit for bit).
   */
  public static long entropyBin(float smallEntropy, double width) {
    if (!(width > 0) || Double.isInfinite(width)) {
      throw new IllegalArgumentException("entropy bin width must be finite and > 0, got " + width);
    }
    return (long) Math.floor(smallEntropy / width);
  }
}
