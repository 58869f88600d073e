package dev.knowable.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.io.Hashing;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What an exported model directory declares in {@code knowable.json} (see
 * docs/MODEL_CONTRACT.md), read and checked before any weights are loaded.
 *
 * @param tokenizerSha256 SHA-256 of the directory's tokenizer.json, recomputed on load
 * @param version contract version: 1 (the graph returns full logits and every hidden
 *     state) or 2 (the scoring head is in the graph: entropy, top-k, log-probs and the
 *     requested hidden states only)
 * @param topK v2: how many top-k ids per position the graph returns; 0 for v1 (any)
 */
public record ModelContract(String name, Path dir, int numLayers, int hiddenSize, int vocabSize, int vocabLimit,
    int maxContext, int eosTokenId, String dtype, String tokenizerSha256, int version, int topK)
    implements Serializable {

  public static final String CONTRACT = "knowable-causal-lm/1";
  public static final String CONTRACT_V2 = "knowable-causal-lm/2";
  public static final String MANIFEST = "knowable.json";
  public static final String TORCHSCRIPT = "model.pt";
  public static final String TOKENIZER = "tokenizer.json";

  /**
   * Reads and checks a model directory.
   *
   * @throws ModelException naming the directory and what is wrong: a missing file, another
   *     contract version, inconsistent sizes, or a tokenizer.json that is not the one the
   *     model was exported with
   */
  public static ModelContract read(Path dir) {
    if (dir == null || dir.toString().isBlank()) {
      throw new ModelException("No model path configured (knowable.models.<small|large>.path)");
    }
    if (!Files.isDirectory(dir)) {
      throw new ModelException("Model directory not found: " + dir.toAbsolutePath());
    }
    List<String> missing = new ArrayList<>();
    for (String f : List.of(MANIFEST, TORCHSCRIPT, TOKENIZER)) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        missing.add(f);
      }
    }
    if (!missing.isEmpty()) {
      throw new ModelException("Model directory " + dir + " lacks " + String.join(", ", missing)
          + " (a model must be exported to the contract in docs/MODEL_CONTRACT.md, e.g. with tools/export_hf.py)");
    }
    JsonNode m;
    try {
      m = new ObjectMapper().readTree(dir.resolve(MANIFEST).toFile());
    } catch (IOException e) {
      throw new ModelException("Cannot parse " + dir.resolve(MANIFEST) + ": " + e.getMessage(), e);
    }
    String contract = text(m, "contract", dir);
    int version;
    if (CONTRACT.equals(contract)) {
      version = 1;
    } else if (CONTRACT_V2.equals(contract)) {
      version = 2;
    } else {
      throw new ModelException(dir.resolve(MANIFEST) + " declares contract '" + contract + "'; this build reads '"
          + CONTRACT + "' and '" + CONTRACT_V2 + "'");
    }
    if (m.hasNonNull("contract_version") && m.get("contract_version").asInt() != version) {
      throw new ModelException(dir.resolve(MANIFEST) + ": contract_version " + m.get("contract_version")
          + " contradicts contract '" + contract + "'");
    }
    ModelContract c = new ModelContract(text(m, "name", dir), dir, integer(m, "num_layers", dir),
        integer(m, "hidden_size", dir), integer(m, "vocab_size", dir), integer(m, "vocab_limit", dir),
        integer(m, "max_context", dir), m.has("eos_token_id") ? m.get("eos_token_id").asInt() : -1,
        m.has("dtype") ? m.get("dtype").asText() : "float32", Hashing.sha256Hex(dir.resolve(TOKENIZER)), version,
        version == 2 ? integer(m, "top_k", dir) : 0);
    if (c.topK() > c.vocabLimit()) {
      throw new ModelException(dir.resolve(MANIFEST) + ": top_k " + c.topK() + " exceeds vocab_limit "
          + c.vocabLimit());
    }
    if (c.vocabLimit() > c.vocabSize()) {
      throw new ModelException(dir.resolve(MANIFEST) + ": vocab_limit " + c.vocabLimit() + " exceeds vocab_size "
          + c.vocabSize());
    }
    // Required: without it a tokenizer.json swapped after export would go unnoticed.
    String declared = m.hasNonNull("tokenizer_sha256") ? m.get("tokenizer_sha256").asText().trim() : "";
    if (declared.isEmpty()) {
      throw new ModelException(dir.resolve(MANIFEST) + " lacks 'tokenizer_sha256' (the SHA-256 of the tokenizer.json "
          + "the model was exported with; tools/export_hf.py writes it). The tokenizer of a model cannot be checked "
          + "without it, so the model is refused.");
    }
    if (!declared.equals(c.tokenizerSha256())) {
      throw new ModelException("tokenizer.json in " + dir + " is not the one the model was exported with (sha256 "
          + c.tokenizerSha256() + ", knowable.json says " + declared + ")");
    }
    return c;
  }

  /**
   * Checks that this model can serve a request over the first {@code vocabLimit} ids with
   * {@code topK} ids per position. A v2 graph computes entropy and top-k inside the export
   * over its own vocab_limit and top_k, so it serves that vocab_limit and up to top_k only.
   *
   * @param what where the values come from, for the message (e.g. a config key prefix)
   */
  public void requireScorable(int vocabLimit, int topK, String what) {
    if (version != 2) {
      return;
    }
    if (vocabLimit != this.vocabLimit) {
      throw new ModelException(what + ": vocab limit " + vocabLimit + ", but model " + name + " (" + dir
          + ") is a contract v2 export whose scoring head covers vocab_limit " + this.vocabLimit + " only; leave "
          + "vocab-limit unset (0) or re-export with --vocab-limit " + vocabLimit + " (tools/export_hf.py)");
    }
    if (topK > this.topK) {
      throw new ModelException(what + ": top-k " + topK + ", but model " + name + " (" + dir + ") is a contract v2 "
          + "export that returns " + this.topK + " ids per position; lower top-k or re-export with --top-k " + topK);
    }
  }

  /** Resolves configured layers (negative counts from the last, -1 = final) to indices 0..L. */
  public List<Integer> resolveLayers(List<Integer> configured) {
    List<Integer> out = new ArrayList<>();
    for (int l : configured) {
      int abs = l < 0 ? numLayers + 1 + l : l;
      if (abs < 0 || abs > numLayers) {
        throw new ModelException("Layer " + l + " is out of range for model " + name + " with " + numLayers
            + " layers (valid: 0.." + numLayers + " or -1..-" + (numLayers + 1) + ")");
      }
      if (!out.contains(abs)) {
        out.add(abs);
      }
    }
    return List.copyOf(out);
  }

  /** The effective vocab limit: configured when > 0, else the model's own. */
  public int effectiveVocabLimit(int configured) {
    if (configured > vocabSize) {
      throw new ModelException("vocab-limit " + configured + " exceeds model " + name + "'s vocab_size " + vocabSize);
    }
    return configured > 0 ? configured : vocabLimit;
  }

  private static String text(JsonNode m, String field, Path dir) {
    if (!m.hasNonNull(field)) {
      throw new ModelException(dir.resolve(MANIFEST) + " lacks field '" + field + "'");
    }
    return m.get(field).asText();
  }

  private static int integer(JsonNode m, String field, Path dir) {
    if (!m.hasNonNull(field) || !m.get(field).canConvertToInt() || m.get(field).asInt() <= 0) {
      throw new ModelException(dir.resolve(MANIFEST) + " field '" + field + "' must be a positive integer");
    }
    return m.get(field).asInt();
  }
}
