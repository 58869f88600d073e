package dev.knowable.iclt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class IcltPromptsTest {
  static final Separator DOT_EOS = new Separator("dot-eos", new int[] {46, 256});
  static final Separator NONE = new Separator("none", new int[0]);

  @Test
  void hintSequencesArePromptCandidateSeparatorPrompt() {
    int[] prompt = {10, 11, 12};
    int[] candidates = {7, 8};
    List<int[]> dot = IcltPrompts.hintSequences(prompt, candidates, DOT_EOS.ids());
    assertThat(dot).hasSize(2);
    assertThat(dot.get(0)).containsExactly(10, 11, 12, 7, 46, 256, 10, 11, 12);
    assertThat(dot.get(1)).containsExactly(10, 11, 12, 8, 46, 256, 10, 11, 12);
    List<int[]> none = IcltPrompts.hintSequences(prompt, candidates, NONE.ids());
    assertThat(none.get(0)).containsExactly(10, 11, 12, 7, 10, 11, 12);
    assertThat(none.get(1)).containsExactly(10, 11, 12, 8, 10, 11, 12);
  }

  @Test
  void longPromptKeepsItsLastTokensAndEverySequenceFits() {
    int[] prompt = new int[50];
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = 100 + i;
    }
    // maxContext 20, separator 2: cap = floor((20 - 2 - 1) / 2) = 8 -> tokens 142..149.
    int[] capped = IcltPrompts.capPrompt(prompt, 20, DOT_EOS.length());
    assertThat(capped).containsExactly(142, 143, 144, 145, 146, 147, 148, 149);
    for (int[] s : IcltPrompts.hintSequences(capped, new int[] {1, 2, 3}, DOT_EOS.ids())) {
      assertThat(s.length).isEqualTo(8 + 1 + 2 + 8).isLessThanOrEqualTo(20);
    }
    // Empty separator: cap = floor(19 / 2) = 9.
    assertThat(IcltPrompts.capPrompt(prompt, 20, 0)).hasSize(9).startsWith(141).endsWith(149);
    // A short prompt comes back whole (a copy).
    int[] shortPrompt = {1, 2};
    assertThat(IcltPrompts.capPrompt(shortPrompt, 20, 2)).containsExactly(1, 2).isNotSameAs(shortPrompt);
  }

  @Test
  void exactBoundary() {
    // maxContext 21, separator 2: cap = floor(18 / 2) = 9 and 9 + 1 + 2 + 9 = 21 = maxContext exactly.
    int[] nine = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int[] capped = IcltPrompts.capPrompt(nine, 21, 2);
    assertThat(capped).containsExactly(nine);
    assertThat(IcltPrompts.hintSequences(capped, new int[] {0}, DOT_EOS.ids()).get(0)).hasSize(21);
    // One more token is cut from the front.
    assertThat(IcltPrompts.capPrompt(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 21, 2)).containsExactly(nine);
    // The smallest maxContext that works: sep + 3 = 5 -> a one-token prompt.
    assertThat(IcltPrompts.capPrompt(nine, 5, 2)).containsExactly(9);
  }

  @Test
  void invalidInputsAreRejectedClearly() {
    assertThatThrownBy(() -> IcltPrompts.capPrompt(new int[] {1, 2}, 4, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxContext 4 is too small")
        .hasMessageContaining("at least 5 tokens");
    assertThatThrownBy(() -> IcltPrompts.capPrompt(new int[0], 100, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Empty prompt");
    assertThatThrownBy(() -> IcltPrompts.capPrompt(new int[] {1}, 100, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Separator length");
    assertThatThrownBy(() -> IcltPrompts.hintSequences(new int[0], new int[] {1}, new int[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Empty prompt");
  }

  @Test
  void separatorIsAValue() {
    int[] ids = {46, 256};
    Separator s = new Separator("dot-eos", ids);
    ids[0] = 0; // the record copied them
    assertThat(s.ids()).containsExactly(46, 256);
    assertThat(s).isEqualTo(DOT_EOS).hasSameHashCodeAs(DOT_EOS);
    assertThat(s.toString()).contains("dot-eos").contains("46");
  }
}
