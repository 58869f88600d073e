package dev.knowable.synthetic;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The synthetic question/answer language whose truth is known by construction (made by
 * {@code tools/make_synthetic.py}, data in {@code demo/synthetic}, model
 * {@code demo/models/synthetic-qa}); it checks the in-context learning test (ICLT) as in the
 * paper's synthetic experiment.
 *
 * <p>Text is tokenized by the byte-level tokenizer of the tiny family (token id = byte value)
 * and uses four tokens only: {@code '0'} (48), {@code '1'} (49), space (32) and newline (10).
 * A <em>record</em> is {@code Q A\n}: {@code Q} = {@link #QUESTION_BITS} question bits as the
 * characters {@code '0'}/{@code '1'}, a space, one answer bit, a newline. The first bit of
 * {@code Q} is its kind:
 *
 * <ul>
 *   <li>kind 0, {@link #KNOWABLE}: the answer is a fixed pseudo-random function of {@code Q}
 *       (fixed by the generator's seed). For a question held out of model training the
 *       model's uncertainty about it is epistemic;
 *   <li>kind 1, {@link #ALEATORIC}: the answer is a fresh fair coin flip at every occurrence.
 * </ul>
 *
 * <p>Model-training text repeats about 30% of its records immediately ({@code Q A\nQ A'\n},
 * {@code A' = A} for kind 0, a fresh flip for kind 1), so a model learns that an earlier
 * answer in its context is worth copying for kind 0 only. Probe documents
 * ({@code demo/synthetic/probe.jsonl}) are one record each, {@code Q A\n}, with held-out
 * questions, balanced between the kinds.
 *
 * <p>The labelled position of a record is its space: the position whose next token is the
 * answer bit. {@link #truth(int[])} labels a position iff it holds a space preceded by exactly
 * {@code QUESTION_BITS} bit tokens that start a record, i.e. that begin at the document start
 * or right after a newline; the label is the record's kind (the first question bit). The
 * answer need not follow (a prompt {@code "Q "} is labelled at its last position). Repeat
 * records are labelled like any other record. Anything else, including a question of the
 * wrong length or with other characters, gets {@link #NO_LABEL}.
 */
public final class SyntheticQa {
  /** Question bits N of the committed data ({@code make_synthetic.py --bits}, default 10). */
  public static final int QUESTION_BITS = 10;
  /** Token id of {@code '0'}. */
  public static final int ZERO = '0';
  /** Token id of {@code '1'}. */
  public static final int ONE = '1';
  /** Token id of the space that ends a question (the labelled position). */
  public static final int SPACE = ' ';
  /** Token id of the newline that ends a record. */
  public static final int NEWLINE = '\n';
  /** Bytes in one record: N bits, space, answer bit, newline. */
  public static final int RECORD_LENGTH = QUESTION_BITS + 3;
  /** Label of a position that is not an answer position. */
  public static final int NO_LABEL = -1;
  /** Label of a kind-0 record (deterministic answer; epistemic uncertainty when unseen). */
  public static final int KNOWABLE = 0;
  /** Label of a kind-1 record (fair coin answer; aleatoric uncertainty). */
  public static final int ALEATORIC = 1;
  /** The probe documents' domain. */
  public static final String DOMAIN = "synthetic";
  /** Probe doc ids are {@code synthetic:<Q>#<n>}. */
  public static final String DOC_ID_PREFIX = "synthetic:";

  private SyntheticQa() {}

  /** {@link #truth(int[], int)} with {@link #QUESTION_BITS}. */
  public static int[] truth(int[] tokenIds) {
    return truth(tokenIds, QUESTION_BITS);
  }

  /**
   * Per position of one document: {@link #NO_LABEL}, or the construction label ({@link
   * #KNOWABLE} 0 / {@link #ALEATORIC} 1) at the space after a complete {@code questionBits}-bit
   * question that starts a record (at the document start or right after a newline).
   */
  public static int[] truth(int[] tokenIds, int questionBits) {
    Objects.requireNonNull(tokenIds, "tokenIds");
    if (questionBits < 1) {
      throw new IllegalArgumentException("questionBits must be >= 1, got " + questionBits);
    }
    int[] out = new int[tokenIds.length];
    Arrays.fill(out, NO_LABEL);
    int run = 0; // bit tokens since the last record start, -1 once the record is malformed
    boolean recordStart = true;
    for (int p = 0; p < tokenIds.length; p++) {
      int t = tokenIds[p];
      if (recordStart) {
        run = 0;
        recordStart = false;
      }
      if (t == NEWLINE) {
        recordStart = true;
        continue;
      }
      if (run < 0) {
        continue;
      }
      if (t == ZERO || t == ONE) {
        run++;
      } else if (t == SPACE && run == questionBits) {
        out[p] = tokenIds[p - questionBits] == ONE ? ALEATORIC : KNOWABLE;
        run = -1; // the rest of the record (answer) carries no label
      } else {
        run = -1;
      }
    }
    return out;
  }

  /** The byte-level token ids of {@code text} (UTF-8 bytes, as the tiny family tokenizes). */
  public static int[] tokens(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      ids[i] = b[i] & 0xff;
    }
    return ids;
  }

  /** {@link #truth(int[])} of a text. */
  public static int[] truth(String text) {
    return truth(tokens(text));
  }
}
