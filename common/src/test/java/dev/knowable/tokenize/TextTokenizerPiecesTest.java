package dev.knowable.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import org.junit.jupiter.api.Test;

/** Token texts for display (the report's token view): one per encoded id, together the text. */
class TextTokenizerPiecesTest {
  @Test
  void piecesAreTheTextOfEachEncodedToken() {
    // The shared cached instance: not closed here (other tests of this JVM may hold it).
    TextTokenizer tok = TextTokenizer.get(TestModels.demo("tiny-small").resolve("tokenizer.json"));
    String text = "knowable\tit <&>";
    String[] pieces = tok.pieces(text);
    assertThat(pieces).hasSameSizeAs(tok.encode(text)).doesNotContainNull();
    assertThat(String.join("", pieces)).isEqualTo(text);
  }
}
