package dev.knowable.label;

import java.util.List;
import java.util.Locale;

/**
 * The key of token-identity balancing: the paper balances on the current input token id;
 * the (previous, current) pair is a stricter control for small vocabularies, where the
 * last two tokens alone can predict the label.
 */
public enum BalanceKey {
  CURRENT(List.of("token_id")),
  PREV_CURRENT(List.of("prev_token_id", "token_id"));

  private final List<String> columns;

  BalanceKey(List<String> columns) {
    this.columns = columns;
  }

  /** The probe_examples / small_scores columns that form the key. */
  public List<String> columns() {
    return columns;
  }

  /** Parses the config value current or prev-current. */
  public static BalanceKey parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "current" -> CURRENT;
      case "prev-current" -> PREV_CURRENT;
      default -> throw new IllegalArgumentException("must be current or prev-current, got '" + text + "'");
    };
  }
}
