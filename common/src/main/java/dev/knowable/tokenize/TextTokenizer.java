package dev.knowable.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.knowable.io.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Hugging Face {@code tokenizer.json} read through DJL's tokenizers, one instance per
 * JVM and file. Encodes whole documents without special tokens, padding or truncation
 * (truncation to max-tokens is the pipeline's, so the full count is known).
 */
public final class TextTokenizer implements AutoCloseable {
  private static final Map<String, TextTokenizer> CACHE = new ConcurrentHashMap<>();

  private final HuggingFaceTokenizer tokenizer;
  private final String fingerprint;
  private final Path file;
  private final String key;

  private TextTokenizer(Path file, String key) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("Tokenizer file not found: " + file.toAbsolutePath());
    }
    this.file = file;
    this.key = key;
    this.fingerprint = Hashing.sha256Hex(file);
    try {
      this.tokenizer = HuggingFaceTokenizer.builder()
          .optTokenizerPath(file)
          .optAddSpecialTokens(false)
          .optTruncation(false)
          .optPadding(false)
          .build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("Cannot load tokenizer " + file + " (expected a Hugging Face tokenizer.json): "
          + e.getMessage(), e);
    }
  }

  /** The shared tokenizer for a file on this JVM. */
  public static TextTokenizer get(Path file) {
    return CACHE.computeIfAbsent(file.toAbsolutePath().normalize().toString(), k -> new TextTokenizer(file, k));
  }

  /** SHA-256 of the tokenizer file: equal fingerprints mean the same vocabulary and rules. */
  public String fingerprint() {
    return fingerprint;
  }

  public Path file() {
    return file;
  }

  /** Token ids of the whole text, no special tokens added. */
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * The text of each token of the whole text (as {@link #encode} splits it), cut from {@code
   * text} by the token's character span; null for a token without a span (e.g. a byte-level
   * piece of a multi-byte character). For showing tokens, not for ids.
   */
  public String[] pieces(String text) {
    Encoding enc = tokenizer.encode(text, false, false);
    CharSpan[] spans = enc.getCharTokenSpans();
    String[] out = new String[enc.getIds().length];
    for (int i = 0; i < out.length; i++) {
      out[i] = spans[i] == null ? null : text.substring(spans[i].getStart(), spans[i].getEnd());
    }
    return out;
  }

  /**
   * Releases the native tokenizer and drops it from the JVM's cache, so a later {@link #get}
   * loads a fresh one instead of handing out a released instance.
   */
  @Override
  public void close() {
    CACHE.remove(key, this);
    tokenizer.close();
  }
}
