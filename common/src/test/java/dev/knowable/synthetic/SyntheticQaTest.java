package dev.knowable.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.model.TestModels;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticQaTest {

  private static final int N = SyntheticQa.QUESTION_BITS;

  /** Positions with a label, as "position:label". */
  private static List<String> labels(int[] truth) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < truth.length; i++) {
      if (truth[i] != SyntheticQa.NO_LABEL) {
        out.add(i + ":" + truth[i]);
      }
    }
    return out;
  }

  @Test
  void constantsAreTheByteIds() {
    assertThat(SyntheticQa.ZERO).isEqualTo(48);
    assertThat(SyntheticQa.ONE).isEqualTo(49);
    assertThat(SyntheticQa.SPACE).isEqualTo(32);
    assertThat(SyntheticQa.NEWLINE).isEqualTo(10);
    assertThat(SyntheticQa.QUESTION_BITS).isEqualTo(10);
    assertThat(SyntheticQa.RECORD_LENGTH).isEqualTo(13);
    assertThat(SyntheticQa.tokens("01 \n")).containsExactly(48, 49, 32, 10);
  }

  @Test
  void kindZeroRecordIsKnowable() {
    int[] t = SyntheticQa.truth("0110100111 1\n");
    assertThat(t).hasSize(13);
    assertThat(labels(t)).containsExactly(N + ":0");
    assertThat(t[N]).isEqualTo(SyntheticQa.KNOWABLE);
  }

  @Test
  void kindOneRecordIsAleatoric() {
    int[] t = SyntheticQa.truth("1000000000 0\n");
    assertThat(labels(t)).containsExactly(N + ":1");
    assertThat(t[N]).isEqualTo(SyntheticQa.ALEATORIC);
  }

  @Test
  void everyRecordOfAStreamIsLabelledIncludingRepeats() {
    // a kind-1 record, its repeat (other answer), a kind-0 record, its repeat (same answer)
    String text = "1011001110 0\n1011001110 1\n0011110000 1\n0011110000 1\n";
    assertThat(labels(SyntheticQa.truth(text))).containsExactly("10:1", "23:1", "36:0", "49:0");
  }

  @Test
  void promptWithoutAnswerIsLabelledAtItsLastPosition() {
    // the ICLT prompt "Q c\nQ ": the hint record and the question asked again
    assertThat(labels(SyntheticQa.truth("0101010101 "))).containsExactly("10:0");
    assertThat(labels(SyntheticQa.truth("1101010101 0\n1101010101 "))).containsExactly("10:1", "23:1");
  }

  @Test
  void malformedTextHasNoLabels() {
    assertThat(labels(SyntheticQa.truth(""))).isEmpty();
    assertThat(labels(SyntheticQa.truth("011010011 1\n"))).as("9 bits").isEmpty();
    assertThat(labels(SyntheticQa.truth("01101001110 1\n"))).as("11 bits").isEmpty();
    assertThat(labels(SyntheticQa.truth("01101x0111 1\n"))).as("other character").isEmpty();
    assertThat(labels(SyntheticQa.truth(" 0110100111 1\n"))).as("not at a record start").isEmpty();
    assertThat(labels(SyntheticQa.truth("1 0110100111 1\n"))).as("inside a record").isEmpty();
    assertThat(labels(SyntheticQa.truth("0110100111\n"))).as("no space").isEmpty();
    assertThat(labels(SyntheticQa.truth("0110100111  1\n0110100111 1 0\n")))
        .as("only the first space of a well-formed question").containsExactly("10:0", "24:0");
    assertThat(labels(SyntheticQa.truth("The quick brown fox.\n"))).isEmpty();
    // end-of-text (256) does not start a record; a newline after it does
    int[] ids = SyntheticQa.tokens("0110100111 1\n");
    int[] withEos = new int[ids.length + 1];
    withEos[0] = 256;
    System.arraycopy(ids, 0, withEos, 1, ids.length);
    assertThat(labels(SyntheticQa.truth(withEos))).isEmpty();
  }

  @Test
  void otherQuestionLengths() {
    assertThat(labels(SyntheticQa.truth(SyntheticQa.tokens("101 1\n01 0\n"), 3))).containsExactly("3:1");
    assertThatThrownBy(() -> SyntheticQa.truth(new int[0], 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void probeDocumentsHaveOneLabelMatchingTheirKind() throws Exception {
    Path probe = TestModels.repoRoot().resolve("demo/synthetic/probe.jsonl");
    assertThat(probe).as("tools/make_synthetic.py writes it").isRegularFile();
    ObjectMapper mapper = new ObjectMapper();
    int[] perKind = new int[2];
    Set<String> ids = new HashSet<>();
    Set<String> questions = new HashSet<>();
    try (BufferedReader r = Files.newBufferedReader(probe, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode doc = mapper.readTree(line);
        String id = doc.get("doc_id").asText();
        String text = doc.get("text").asText();
        assertThat(doc.get("domain").asText()).isEqualTo(SyntheticQa.DOMAIN);
        assertThat(ids.add(id)).as("distinct doc_id %s", id).isTrue();
        assertThat(text).matches("[01]{" + N + "} [01]\n");
        String q = text.substring(0, N);
        assertThat(id).startsWith(SyntheticQa.DOC_ID_PREFIX + q + "#");
        questions.add(q);
        int[] truth = SyntheticQa.truth(text);
        assertThat(labels(truth)).as(id).hasSize(1);
        int kind = q.charAt(0) - '0';
        assertThat(truth[N]).as(id).isEqualTo(kind);
        perKind[kind]++;
      }
    }
    assertThat(ids).hasSizeGreaterThanOrEqualTo(2000);
    assertThat(perKind[0]).as("balanced kinds").isEqualTo(perKind[1]);
    // held-out questions of both kinds (25% of 2^N, per meta.json)
    assertThat(questions).hasSize((1 << N) / 4);
    assertThat(questions.stream().filter(q -> q.charAt(0) == '0').count()).isEqualTo((1 << N) / 8);
  }
}
