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
}
