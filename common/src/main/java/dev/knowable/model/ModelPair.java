package dev.knowable.model;

import dev.knowable.config.KnowableConfig;
import java.nio.file.Paths;

/** Checks that the tokens and both models of a pair share one tokenizer (docs/METHOD.md section 2). */
public final class ModelPair {
  private ModelPair() {}

  /**
   * Fails when a configured model's tokenizer.json differs from {@code fingerprint}.
   *
   * @param what names the tokenizer being compared, for the message
   */
  public static void requireTokenizer(KnowableConfig config, String fingerprint, String what) {
    for (KnowableConfig.ModelSettings m : new KnowableConfig.ModelSettings[] {config.small(), config.large()}) {
      if (m.path().isBlank()) {
        continue;
      }
      ModelContract c = ModelContract.read(Paths.get(m.path()));
      if (!c.tokenizerSha256().equals(fingerprint)) {
        throw new ModelException("Tokenizer mismatch: the " + m.role() + " model " + c.name() + " at " + m.path()
            + " has tokenizer sha256 " + c.tokenizerSha256() + " but " + what + " has " + fingerprint
            + ". The small and large model must share an identical tokenizer, and the tokens must come from it.");
      }
    }
  }
}
