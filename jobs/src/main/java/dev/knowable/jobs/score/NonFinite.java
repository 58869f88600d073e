package dev.knowable.jobs.score;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A document whose scores hold NaN or infinite values: how many positions, and the first one
 * (position, input token, the output that is not finite and its value). Small: one per bad
 * document, gathered by the driver per shard.
 */
public record NonFinite(String docId, String domain, String split, int positions, int firstPosition, int tokenId,
    String field, String value) implements Serializable {

  /** Reason text for the rejects table and error messages. */
  public String detail() {
    return positions + " position(s) with non-finite scores; the first is position " + firstPosition
        + " (input token id " + tokenId + "): " + field + " = " + value;
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("doc_id", docId);
    m.put("domain", domain);
    m.put("split", split);
    m.put("positions", positions);
    m.put("first_position", firstPosition);
    m.put("token_id", tokenId);
    m.put("field", field);
    m.put("value", value);
    return m;
  }

  static NonFinite fromMap(Map<String, Object> m) {
    return new NonFinite((String) m.get("doc_id"), (String) m.get("domain"), (String) m.get("split"),
        ((Number) m.get("positions")).intValue(), ((Number) m.get("first_position")).intValue(),
        ((Number) m.get("token_id")).intValue(), (String) m.get("field"), (String) m.get("value"));
  }
}
