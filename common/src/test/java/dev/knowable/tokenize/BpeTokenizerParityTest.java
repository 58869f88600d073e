package dev.knowable.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.io.Hashing;
import dev.knowable.model.TestModels;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DJL's (Rust) tokenizer on the BPE pair's tokenizer.json gives exactly the ids of the
 * Python encoder that made the models' training data (tools/knowable_lm/bpe.py), on
 * hand-picked texts (ASCII, code, CJK, emoji, white-space runs, control characters, a
 * literal end-of-text token) and on every model-train document. The expected ids come from
 * tools/make_bpe_fixture.py (common/src/test/resources/tokenizers/bpe-parity.json).
 */
class BpeTokenizerParityTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Path tokenizerFile() {
    return TestModels.demo("bpe-small").resolve("tokenizer.json");
  }

  static JsonNode fixture() throws Exception {
    return JSON.readTree(TestModels.repoRoot().resolve("common/src/test/resources/tokenizers/bpe-parity.json").toFile());
  }

  @Test
  void fixtureWasMadeFromThisTokenizerAndThePairSharesIt() throws Exception {
    String sha = Hashing.sha256Hex(tokenizerFile());
    assertThat(fixture().get("tokenizer_sha256").asText()).isEqualTo(sha);
    assertThat(Hashing.sha256Hex(TestModels.demo("bpe-large").resolve("tokenizer.json"))).isEqualTo(sha);
  }

  @Test
  void handPickedTextsGiveThePythonIdsAndDecodeBack() throws Exception {
    TextTokenizer tok = TextTokenizer.get(tokenizerFile());
    int vocabLimit = fixture().get("vocab_limit").asInt();
    int multiByte = 0;
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerFile())
        .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
      for (JsonNode c : fixture().get("cases")) {
        String text = c.get("text").asText();
        int[] want = new int[c.get("ids").size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = c.get("ids").get(i).asInt();
        }
        int[] got = tok.encode(text);
        assertThat(got).as("ids of %s", text).containsExactly(want);
        for (int id : got) {
          assertThat(id).isBetween(0, vocabLimit - 1);
          multiByte += id > 256 ? 1 : 0;
        }
        long[] ids = Arrays.stream(got).asLongStream().toArray();
        assertThat(hf.decode(ids, false)).as("decode(encode(x)) for %s", text).isEqualTo(text);
      }
    }
    assertThat(multiByte).as("merged (multi-byte) tokens used").isGreaterThan(50);
  }

  /** The end-of-text marker in a text is the special token 256, as in the training stream. */
  @Test
  void literalEndOfTextIsTheSpecialToken() {
    int[] ids = TextTokenizer.get(tokenizerFile()).encode("a<|endoftext|>b");
    assertThat(ids).containsExactly('a', 256, 'b');
  }

  /** All 974 model-train documents (3.5 MB): the sha256 of the ids, one line per document. */
  @Test
  void everyModelTrainDocumentGivesThePythonIds() throws Exception {
    JsonNode want = fixture().get("model_train");
    TextTokenizer tok = TextTokenizer.get(tokenizerFile());
    List<Path> files;
    try (Stream<Path> s = Files.list(TestModels.repoRoot().resolve("demo/corpora/model-train"))) {
      files = s.filter(p -> p.toString().endsWith(".jsonl")).sorted().collect(Collectors.toList());
    }
    List<String> lines = new ArrayList<>();
    long tokens = 0;
    for (Path f : files) {
      try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          int[] ids = tok.encode(JSON.readTree(line).get("text").asText());
          tokens += ids.length;
          lines.add(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        }
      }
    }
    assertThat(lines).hasSize(want.get("documents").asInt());
    assertThat(tokens).isEqualTo(want.get("tokens").asLong());
    assertThat(Hashing.sha256Hex(String.join("\n", lines))).isEqualTo(want.get("ids_sha256").asText());
  }
}
