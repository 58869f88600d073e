package dev.knowable.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RecordCheckTest {
  final RecordCheck check = new RecordCheck(20, 10);

  RecordCheck.Result json(String s) {
    return check.jsonLine(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void acceptsAWellFormedLine() {
    RecordCheck.Result r = json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"héllo\",\"extra\":1}");
    assertThat(r.accepted()).isTrue();
    assertThat(r.text()).isEqualTo("héllo");
  }

  @Test
  void rejectsEachMalformedKindWithItsReason() {
    assertThat(json("{\"doc_id\":").reason()).isEqualTo(RecordCheck.BAD_JSON);
    assertThat(json("  ").reason()).isEqualTo(RecordCheck.BAD_JSON);
    assertThat(json("[1]").detail()).contains("a JSON object is expected, got array");
    assertThat(json("{\"doc_id\":\"a\",\"text\":\"x\"}").detail()).contains("'domain'");
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":7}").reason()).isEqualTo(RecordCheck.MISSING_FIELD);
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\" \\n\"}").reason()).isEqualTo(RecordCheck.EMPTY_TEXT);
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"123456789012345678901\"}").reason())
        .isEqualTo(RecordCheck.TOO_LONG);
    byte[] bad = {'{', '"', 'd', '"', ':', (byte) 0xff, '}'};
    RecordCheck.Result r = check.jsonLine(bad);
    assertThat(r.reason()).isEqualTo(RecordCheck.INVALID_UTF8);
    assertThat(r.raw()).as("raw keeps the record, invalid bytes replaced").startsWith("{\"d\":");
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"0123456789abcdefghij!\"}").raw())
        .as("raw is clipped").hasSize(10);
  }

  @Test
  void textFilesAndParquetFields() {
    assertThat(check.textFile("d/a", "d", "hi".getBytes(StandardCharsets.UTF_8)).accepted()).isTrue();
    assertThat(check.textFile("d/a", "d", new byte[0]).reason()).isEqualTo(RecordCheck.EMPTY_TEXT);
    assertThat(check.textFile("d/a", "d", new byte[] {(byte) 0xe9}).reason()).isEqualTo(RecordCheck.INVALID_UTF8);
    assertThat(check.fields(null, "d", "x").reason()).isEqualTo(RecordCheck.MISSING_FIELD);
    assertThat(check.fields("a", "d", null).detail()).isEqualTo("text is null");
  }

  static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  static byte[] withBom(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[BOM.length + b.length];
    System.arraycopy(BOM, 0, out, 0, BOM.length);
    System.arraycopy(b, 0, out, BOM.length, b.length);
    return out;
  }

  @Test
  void rejectsTrailingContentAfterTheObject() {
    RecordCheck.Result r = json("{\"doc_id\": \"a\", \"domain\": \"d\", \"text\": \"x\"} junk");
    assertThat(r.accepted()).isFalse();
    assertThat(r.reason()).isEqualTo(RecordCheck.BAD_JSON);
    assertThat(r.detail()).startsWith("trailing content after the JSON value at character 45: 'junk'");
    assertThat(r.raw()).as("raw is the clipped line").isEqualTo("{\"doc_id\":");
    // Two objects on one line: the second is not silently dropped.
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"x\"}{\"doc_id\":\"b\"}").detail())
        .contains("trailing content").contains("{\"doc_id\":\"b\"}");
    assertThat(json("{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"x\"}}").detail()).contains("trailing content");
    assertThat(json("[1] 2").detail()).contains("trailing content");
    // JSON white space after the object (a CR of a CRLF file, tabs) is fine.
    assertThat(json("  {\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"x\"} \t\r").accepted()).isTrue();
  }

  @Test
  void aByteOrderMarkIsStrippedOnlyAtTheStartOfAFile() {
    String line = "{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"x\"}";
    RecordCheck.Result first = check.jsonLine(withBom(line), true);
    assertThat(first.accepted()).isTrue();
    assertThat(first.docId()).isEqualTo("a");
    assertThat(first.text()).isEqualTo("x");
    RecordCheck.Result later = check.jsonLine(withBom(line), false);
    assertThat(later.reason()).isEqualTo(RecordCheck.BAD_JSON);
    assertThat(later.detail()).contains("byte-order mark").contains("only allowed at the start of a file");
    assertThat(check.jsonLine(withBom(line)).reason()).as("no flag: not the first line").isEqualTo(RecordCheck.BAD_JSON);
    // A U+FEFF inside a string is text, and a first line without a BOM is unchanged.
    RecordCheck.Result inText = check.jsonLine(
        "{\"doc_id\":\"a\",\"domain\":\"d\",\"text\":\"\uFEFFx\"}".getBytes(StandardCharsets.UTF_8), false);
    assertThat(inText.text()).isEqualTo("\uFEFFx");
    assertThat(check.jsonLine(line.getBytes(StandardCharsets.UTF_8), true).accepted()).isTrue();
    // A BOM followed by invalid UTF-8 is still invalid UTF-8.
    assertThat(check.jsonLine(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, (byte) 0xff}, true).reason())
        .isEqualTo(RecordCheck.INVALID_UTF8);
  }
}
