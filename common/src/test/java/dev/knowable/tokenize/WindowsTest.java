package dev.knowable.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.knowable.config.ConfigException;
import dev.knowable.config.ConfigLoader;
import dev.knowable.tokenize.Windows.Window;
import java.util.List;
import org.junit.jupiter.api.Test;

class WindowsTest {

  @Test
  void consecutiveWindowsScoreFromThePreviousEnd() {
    // 10 tokens, length 4, overlap 1: [0,4) [3,7) [6,10); each scores from where the last ended.
    assertThat(Windows.of(10, 4, 1)).containsExactly(new Window(0, 4, 0), new Window(3, 7, 4),
        new Window(6, 10, 7));
    // The last window may be short: [0,4) [2,6) [4,7).
    assertThat(Windows.of(7, 4, 2)).containsExactly(new Window(0, 4, 0), new Window(2, 6, 4), new Window(4, 7, 6));
    // No overlap: disjoint windows, no context carried.
    assertThat(Windows.of(8, 4, 0)).containsExactly(new Window(0, 4, 0), new Window(4, 8, 4));
  }

  @Test
  void aDocumentThatFitsIsOneWindowScoringEverything() {
    assertThat(Windows.of(4, 4, 3)).containsExactly(new Window(0, 4, 0));
    assertThat(Windows.of(1, 2048, 512)).containsExactly(new Window(0, 1, 0));
    assertThat(Windows.of(0, 4, 1)).isEmpty();
  }

  @Test
  void everyPositionIsScoredOnceWithAtLeastTheOverlapAsContext() {
    for (int n = 1; n <= 60; n++) {
      for (int len = 1; len <= 9; len++) {
        for (int ov = 0; ov < len; ov++) {
          int[] scored = new int[n];
          List<Window> ws = Windows.of(n, len, ov);
          for (Window w : ws) {
            assertThat(w.length()).isBetween(1, len);
            for (int p = w.scoreFrom(); p < w.end(); p++) {
              scored[p]++;
              // Left context inside the window: all of it for the first, >= overlap after.
              assertThat(p - w.start()).isGreaterThanOrEqualTo(w.start() == 0 ? p : ov);
            }
          }
          for (int p = 0; p < n; p++) {
            assertThat(scored[p]).as("n=%d len=%d ov=%d pos %d", n, len, ov, p).isEqualTo(1);
          }
          // Windows = 1 + ceil((n - len) / (len - ov)) beyond the first.
          int expected = n <= len ? 1 : 1 + (n - len + (len - ov) - 1) / (len - ov);
          assertThat(ws).hasSize(expected);
        }
      }
    }
  }

  @Test
  void badArgumentsAndSettingsAreRefused() {
    assertThatThrownBy(() -> Windows.of(5, 4, 4)).hasMessage("Window overlap must be in [0, 4), got 4");
    assertThatThrownBy(() -> Windows.of(5, 0, 0)).hasMessage("Window length must be >= 1, got 0");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tokenize.window-overlap=1.0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("knowable.tokenize.window-overlap must be a fraction of max-tokens in [0, 1), got 1.0");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tokenize.long-documents=split")))
        .hasMessageContaining("knowable.tokenize.long-documents must be one of [window, truncate], got 'split'");
    var t = ConfigLoader.load(null, List.of("tokenize.max-tokens=100", "tokenize.window-overlap=0.3")).tokenize();
    assertThat(t.overlapTokens()).isEqualTo(30);
    assertThat(ConfigLoader.load(null, List.of()).tokenize().overlapTokens()).isEqualTo(512);
  }
}
