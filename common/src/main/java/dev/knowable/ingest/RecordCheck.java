package dev.knowable.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Validates one input record and either yields a document or says why it is rejected.
 * Pure logic (no Spark), shared by the JSONL, text-folder and Parquet readers.
 */
public final class RecordCheck implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  /** Reasons written to the rejects table. */
  public static final String BAD_JSON = "bad_json";
  public static final String MISSING_FIELD = "missing_field";
  public static final String INVALID_UTF8 = "invalid_utf8";
  public static final String EMPTY_TEXT = "empty_text";
  public static final String TOO_LONG = "too_long";
  public static final String DUPLICATE_DOC_ID = "duplicate_doc_id";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The outcome: a document (reason null) or a rejection (reason set). Fields may be null. */
  public record Result(String docId, String domain, String text, String reason, String detail, String raw) {
    public boolean accepted() {
      return reason == null;
    }
  }

  private final int maxChars;
  private final int rawChars;

  public RecordCheck(int maxChars, int rawChars) {
    this.maxChars = maxChars;
    this.rawChars = rawChars;
  }

  /** One JSONL line that is not the first line of its file; see {@link #jsonLine(byte[], boolean)}. */
  public Result jsonLine(byte[] line) {
    return jsonLine(line, false);
  }

  /**
   * One JSONL line given as raw bytes: {"doc_id": ..., "domain": ..., "text": ...}.
   *
   * <p>The line must hold exactly one JSON object: anything but JSON white space after it
   * (garbage, a second object) rejects the line as bad JSON rather than being dropped.
   * A UTF-8 byte-order mark (EF BB BF) is tolerated, and stripped, only at the very start of
   * a file ({@code firstLineOfFile}); anywhere else (e.g. files with BOMs concatenated into
   * one) the line is rejected as bad JSON, naming the BOM. A U+FEFF inside a JSON string is
   * ordinary text and is kept.
   */
  public Result jsonLine(byte[] line, boolean firstLineOfFile) {
    boolean bom = line.length >= 3 && (line[0] & 0xff) == 0xEF && (line[1] & 0xff) == 0xBB
        && (line[2] & 0xff) == 0xBF;
    if (bom && firstLineOfFile) {
      line = java.util.Arrays.copyOfRange(line, 3, line.length);
      bom = false;
    }
    String decoded = decodeStrict(line);
    if (decoded == null) {
      return reject(null, null, INVALID_UTF8, "the line is not valid UTF-8", lenient(line));
    }
    if (bom) {
      return reject(null, null, BAD_JSON, "the line starts with a UTF-8 byte-order mark, which is only allowed at the "
          + "start of a file (were files with BOMs concatenated?)", decoded);
    }
    if (decoded.isBlank()) {
      return reject(null, null, BAD_JSON, "blank line (JSONL needs one JSON object per line)", decoded);
    }
    JsonNode node;
    try (JsonParser p = JSON.createParser(decoded)) {
      node = JSON.readTree(p);
      int end = node == null ? 0 : (int) p.currentLocation().getCharOffset();
      int trailing = firstNonWhitespace(decoded, end);
      if (node != null && trailing >= 0) {
        String rest = decoded.substring(trailing);
        return reject(null, null, BAD_JSON, "trailing content after the JSON value at character " + (trailing + 1)
            + ": '" + (rest.length() > 40 ? rest.substring(0, 40) + "..." : rest)
            + "' (JSONL needs exactly one JSON object per line)", decoded);
      }
    } catch (Exception e) {
      return reject(null, null, BAD_JSON, "not valid JSON: " + firstLine(e.getMessage()), decoded);
    }
    if (node == null || !node.isObject()) {
      return reject(null, null, BAD_JSON, "a JSON object is expected, got " + (node == null ? "nothing"
          : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)), decoded);
    }
    String docId = stringField(node, "doc_id");
    String domain = stringField(node, "domain");
    String text = stringField(node, "text");
    for (String[] f : new String[][] {{"doc_id", docId}, {"domain", domain}, {"text", text}}) {
      if (f[1] == null) {
        return reject(docId, domain, MISSING_FIELD, "field '" + f[0] + "' is missing, null or not a string", decoded);
      }
    }
    return document(docId, domain, text, decoded);
  }

  /** A whole file as one document (text folders). */
  public Result textFile(String docId, String domain, byte[] content) {
    String decoded = decodeStrict(content);
    if (decoded == null) {
      return reject(docId, domain, INVALID_UTF8, "the file is not valid UTF-8", lenient(content));
    }
    return document(docId, domain, decoded, decoded);
  }

  /** A row of a Parquet input; any field may be null. */
  public Result fields(String docId, String domain, String text) {
    String raw = "{doc_id=" + docId + ", domain=" + domain + ", text=" + (text == null ? null : clip(text)) + "}";
    if (docId == null || docId.isEmpty()) {
      return reject(docId, domain, MISSING_FIELD, "doc_id is null or empty", raw);
    }
    if (domain == null || domain.isEmpty()) {
      return reject(docId, domain, MISSING_FIELD, "domain is null or empty", raw);
    }
    if (text == null) {
      return reject(docId, domain, MISSING_FIELD, "text is null", raw);
    }
    return document(docId, domain, text, raw);
  }

  private Result document(String docId, String domain, String text, String raw) {
    if (docId.isEmpty() || domain.isEmpty()) {
      return reject(docId, domain, MISSING_FIELD, (docId.isEmpty() ? "doc_id" : "domain") + " is empty", raw);
    }
    if (text.isBlank()) {
      return reject(docId, domain, EMPTY_TEXT, "text is empty or only white space", raw);
    }
    if (text.length() > maxChars) {
      return reject(docId, domain, TOO_LONG, "text has " + text.length() + " chars, more than knowable.ingest.max-chars="
          + maxChars, raw);
    }
    return new Result(docId, domain, text, null, null, null);
  }

  private Result reject(String docId, String domain, String reason, String detail, String raw) {
    return new Result(docId, domain, null, reason, detail, clip(raw));
  }

  private String clip(String s) {
    return s == null || s.length() <= rawChars ? s : s.substring(0, rawChars);
  }

  private static String stringField(JsonNode node, String name) {
    JsonNode v = node.get(name);
    return v != null && v.isTextual() ? v.asText() : null;
  }

  /** Decodes UTF-8, or returns null on any malformed or unmappable byte sequence. */
  static String decodeStrict(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Index of the first character at or after {@code from} that is not JSON white space, or -1. */
  private static int firstNonWhitespace(String s, int from) {
    for (int i = Math.max(0, from); i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return i;
      }
    }
    return -1;
  }

  private static String lenient(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
