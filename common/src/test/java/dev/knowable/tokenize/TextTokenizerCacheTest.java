package dev.knowable.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.model.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The JVM-wide tokenizer cache never hands out an instance that was closed. */
class TextTokenizerCacheTest {
  @Test
  void aClosedTokenizerLeavesTheCacheAndTheNextGetLoadsAFreshOne() {
    // tiny-small's byte tokenizer: not the file other tests in this JVM share.
    Path file = TestModels.demo("tiny-small").resolve("tokenizer.json");
    TextTokenizer first = TextTokenizer.get(file);
    int[] ids = first.encode("knowable");
    assertThat(TextTokenizer.get(file)).isSameAs(first);
    first.close();
    TextTokenizer second = TextTokenizer.get(file);
    assertThat(second).isNotSameAs(first);
    assertThat(second.encode("knowable")).containsExactly(ids);
  }
}
