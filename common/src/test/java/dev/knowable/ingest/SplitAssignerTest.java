package dev.knowable.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.knowable.config.KnowableConfig.SplitFractions;
import dev.knowable.io.Hashing;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitAssignerTest {

  @Test
  void unitIntervalIsTheTop53BitsOfSha256() {
    // sha256("s:a") = a4b6... : first 8 bytes as unsigned, >>> 11, / 2^53, by hand.
    String hex = Hashing.sha256Hex("s:a");
    long v = Long.parseUnsignedLong(hex.substring(0, 16), 16);
    assertThat(Hashing.unitInterval("s", "a")).isEqualTo((v >>> 11) / Math.pow(2, 53));
  }

  @Test
  void splitsAreStableAndFollowTheFractions() {
    SplitAssigner a = new SplitAssigner(new SplitFractions(0.6, 0.2, 0.2, "salt", ""));
    Map<String, Integer> n = new HashMap<>();
    for (int i = 0; i < 20000; i++) {
      String s = a.splitOf("doc-" + i);
      assertThat(new SplitAssigner(new SplitFractions(0.6, 0.2, 0.2, "salt", "")).splitOf("doc-" + i)).isEqualTo(s);
      n.merge(s, 1, Integer::sum);
    }
    assertThat(n.get("train") / 20000.0).isCloseTo(0.6, within(0.02));
    assertThat(n.get("val") / 20000.0).isCloseTo(0.2, within(0.02));
    assertThat(n.get("test") / 20000.0).isCloseTo(0.2, within(0.02));
    SplitAssigner other = new SplitAssigner(new SplitFractions(0.6, 0.2, 0.2, "other-salt", ""));
    long moved = java.util.stream.IntStream.range(0, 1000)
        .filter(i -> !other.splitOf("doc-" + i).equals(a.splitOf("doc-" + i))).count();
    assertThat(moved).as("another salt redraws the splits").isGreaterThan(300);
  }

  @Test
  void shardsCoverTheRange() {
    int[] seen = new int[8];
    for (int i = 0; i < 2000; i++) {
      int s = SplitAssigner.shardOf("d" + i, 8);
      assertThat(s).isBetween(0, 7);
      seen[s]++;
    }
    for (int c : seen) {
      assertThat(c).isGreaterThan(150);
    }
  }

  @Test
  void passagesOfOneDocumentShareItsSplit() {
    SplitAssigner grouped = new SplitAssigner(new SplitFractions(0.6, 0.2, 0.2, "salt", "#"));
    SplitAssigner plain = new SplitAssigner(new SplitFractions(0.6, 0.2, 0.2, "salt", ""));
    int differ = 0;
    for (int i = 0; i < 200; i++) {
      String whole = grouped.splitOf("doc-" + i);
      assertThat(whole).isEqualTo(plain.splitOf("doc-" + i));
      for (int k = 0; k < 4; k++) {
        assertThat(grouped.splitOf("doc-" + i + "#0" + k)).isEqualTo(whole);
        if (!plain.splitOf("doc-" + i + "#0" + k).equals(whole)) {
          differ++;
        }
      }
    }
    assertThat(differ).as("without grouping passages scatter across splits").isGreaterThan(100);
    assertThat(grouped.groupOf("#x")).as("a leading separator is not a group").isEqualTo("#x");
  }
}
