package dev.knowable.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.knowable.config.ConfigLoader;
import dev.knowable.config.KnowableConfig.SplitFractions;
import dev.knowable.ingest.CorpusOverlap.LongMaskTable;
import dev.knowable.ingest.CorpusOverlap.Passage;
import dev.knowable.ingest.CorpusOverlap.Report;
import dev.knowable.model.TestModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled probe sets (demo/corpora/probe and demo/corpora/study) must not share a
 * 100-character normalised window with the model-training text (at most 1% of any
 * domain's passages), and no window may occur in passages of two different probe splits
 * (splits by the real SplitAssigner with conf/demo.conf's split settings).
 */
class CorpusLeakTest {
  static final List<String> DOMAINS = List.of("code", "legal", "speech", "scripture", "reference");
  static final ObjectMapper JSON = new ObjectMapper();
  static LongMaskTable train;
  static SplitAssigner splits;

  @BeforeAll
  static void readModelTrain() throws IOException {
    Path root = TestModels.repoRoot();
    List<String> texts = new ArrayList<>();
    for (String d : DOMAINS) {
      for (Passage p : read(root.resolve("demo/corpora/model-train/" + d + ".jsonl"))) {
        texts.add(p.text());
      }
    }
    train = CorpusOverlap.trainWindows(texts);
    SplitFractions f = ConfigLoader.load(root.resolve("conf/demo.conf"), List.of()).ingest().split();
    assertThat(f.groupSeparator()).isEqualTo("#");
    splits = new SplitAssigner(f);
  }

  static List<Passage> read(Path file) throws IOException {
    List<Passage> out = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n = JSON.readTree(line);
        out.add(new Passage(n.get("doc_id").asText(), n.get("domain").asText(), n.get("text").asText()));
      }
    }
    return out;
  }

  static List<Passage> probeSet(String dir) throws IOException {
    List<Passage> all = new ArrayList<>();
    for (String d : DOMAINS) {
      all.addAll(read(TestModels.repoRoot().resolve("demo/corpora/" + dir + "/" + d + ".jsonl")));
    }
    return all;
  }

  @Test
  void theDemoProbeSetIsLeakFree() throws IOException {
    assertLeakFree(probeSet("probe"), 1000);
  }

  @Test
  void theStudyCorpusIsLeakFree() throws IOException {
    assertLeakFree(probeSet("study"), 5000);
  }

  private static void assertLeakFree(List<Passage> probe, int minPassages) {
    assertThat(probe).hasSizeGreaterThan(minPassages);
    Report r = CorpusOverlap.check(train, probe, splits);
    assertThat(r.passages().keySet()).containsExactlyInAnyOrderElementsOf(DOMAINS);
    SoftAssertions soft = new SoftAssertions(); // report both rules when both fail
    soft.assertThat(r.domainsOver(0.01)).as("domains whose passages share model-train windows").isEmpty();
    soft.assertThat(r.crossSplit()).as("passages sharing a window with another probe split").isEmpty();
    soft.assertAll();
  }

  @Test
  void theStudyConfigReadsTheStudyCorpusWithTheDemoSplits() {
    Path root = TestModels.repoRoot();
    var demo = ConfigLoader.load(root.resolve("conf/demo.conf"), List.of());
    var study = ConfigLoader.load(root.resolve("conf/study.conf"), List.of());
    assertThat(study.runId()).isEqualTo("study");
    assertThat(study.ingest().inputs()).singleElement()
        .satisfies(i -> assertThat(i.path()).isEqualTo("demo/corpora/study"));
    // the split the leak test checks is the one the study run uses
    assertThat(study.ingest().split()).isEqualTo(demo.ingest().split());
    assertThat(study.tokenize()).isEqualTo(demo.tokenize());
  }

  // ---- the measure itself, on planted text

  static final String TRAIN_TEXT = "The quick brown fox jumps over the lazy dog while the cat watches from the warm "
      + "windowsill and the bird sings in the old oak tree beyond the garden wall at dawn.";

  @Test
  void aCopiedWindowIsFoundThroughWhiteSpaceChanges() {
    LongMaskTable t = CorpusOverlap.trainWindows(List.of(TRAIN_TEXT));
    assertThat(t.size()).isEqualTo(TRAIN_TEXT.length() - 100 + 1); // every window distinct here
    // the first 100 characters of the training text, with its spaces turned into line breaks and tabs
    String copied = "intro line\n\n" + TRAIN_TEXT.substring(0, 100).replace(" ", " \n\t ") + "\n\nend";
    // 99 characters only: no window can match
    String near = "intro line " + TRAIN_TEXT.substring(0, 99) + "#" + TRAIN_TEXT.substring(100, 150);
    Report r = CorpusOverlap.check(t, List.of(
        new Passage("legal:a#00", "legal", copied), new Passage("legal:b#00", "legal", near)),
        new SplitAssigner(new SplitFractions(1.0, 0.0, 0.0, "s", "#")));
    assertThat(r.sharingTrain()).containsOnlyKeys("legal");
    assertThat(r.sharingTrain().get("legal")).containsExactly("legal:a#00");
  }

  @Test
  void normalisationCollapsesAsciiWhiteSpaceOnlyAndCountsCodePoints() {
    assertThat(CorpusOverlap.normalise("  a \t\n b\r\n\u000bc  ")).containsExactly('a', ' ', 'b', ' ', 'c');
    // a no-break space is not ASCII white space; a non-BMP character is one code point
    assertThat(CorpusOverlap.normalise("a\u00a0b \uD83D\uDE00")).containsExactly('a', 0xa0, 'b', ' ', 0x1F600);
    long[] n = {0};
    CorpusOverlap.forEachWindow("x".repeat(99) + "\uD83D\uDE00", k -> n[0]++);
    assertThat(n[0]).isEqualTo(1); // 100 code points, 101 UTF-16 units: one window
    n[0] = 0;
    CorpusOverlap.forEachWindow("x".repeat(99), k -> n[0]++);
    assertThat(n[0]).isZero();
  }

  @Test
  void theOnePercentRuleCountsPassagesPerDomain() {
    LongMaskTable t = CorpusOverlap.trainWindows(List.of(TRAIN_TEXT));
    SplitAssigner one = new SplitAssigner(new SplitFractions(1.0, 0.0, 0.0, "s", "#"));
    List<Passage> ps = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ps.add(new Passage("code:f" + i + "#00", "code", "unique text number " + i + " " + "y".repeat(120)));
    }
    ps.add(new Passage("speech:s#00", "speech", "unrelated " + "z".repeat(150)));
    ps.set(7, new Passage("code:f7#00", "code", TRAIN_TEXT));
    ps.set(9, new Passage("code:f9#00", "code", "prefix " + TRAIN_TEXT.substring(30, 140)));
    Report r = CorpusOverlap.check(t, ps, one);
    assertThat(r.sharingTrain().get("code")).containsExactly("code:f7#00", "code:f9#00");
    assertThat(r.domainsOver(0.01)).isEmpty(); // 2 of 200 = 1%: allowed
    ps.set(11, new Passage("code:f11#00", "code", TRAIN_TEXT.substring(60)));
    assertThat(CorpusOverlap.check(t, ps, one).domainsOver(0.01)).singleElement().asString()
        .startsWith("code: 3 of 200 passages");
  }

  @Test
  void aWindowSharedAcrossProbeSplitsIsFoundAndOneWithinADocumentIsNot() {
    SplitFractions f = new SplitFractions(0.6, 0.2, 0.2, "knowable-split-v1", "#");
    SplitAssigner real = new SplitAssigner(f);
    // two documents that the real assigner puts in different splits
    String a = "legal:doc0";
    String b = null;
    for (int i = 1; b == null; i++) {
      if (!real.splitOf("legal:doc" + i + "#00").equals(real.splitOf(a + "#00"))) {
        b = "legal:doc" + i;
      }
    }
    String shared = TRAIN_TEXT.substring(0, 120);
    LongMaskTable none = CorpusOverlap.trainWindows(List.of());
    // passages #00 and #01 of one document share text: same split, allowed
    Report same = CorpusOverlap.check(none, List.of(
        new Passage(a + "#00", "legal", "one " + shared), new Passage(a + "#01", "legal", "two " + shared),
        new Passage(b + "#00", "legal", "other " + "q".repeat(200))), real);
    assertThat(same.crossSplit()).isEmpty();
    assertThat(same.sharingTrain()).isEmpty();
    Report cross = CorpusOverlap.check(none, List.of(
        new Passage(a + "#00", "legal", "one " + shared), new Passage(b + "#03", "legal", "two " + shared)), real);
    assertThat(cross.crossSplit()).containsExactly(
        a + "#00 (" + real.splitOf(a + "#00") + ")", b + "#03 (" + real.splitOf(b + "#03") + ")");
  }
}
