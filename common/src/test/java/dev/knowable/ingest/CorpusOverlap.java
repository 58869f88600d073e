package dev.knowable.ingest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * The corpus leak measure, written independently of tools/build_corpora.py: text is
 * normalised (every run of ASCII white space becomes one space, ends stripped) and cut
 * into all windows of {@link #WINDOW} code points; a window is kept as a 64-bit rolling
 * hash in a primitive open-addressing table (millions of windows, no boxing).
 */
final class CorpusOverlap {
  static final int WINDOW = 100;
  /** Odd multiplier of the polynomial rolling hash (mod 2^64). */
  private static final long BASE = 0x100000001b3L * 2 + 1;
  private static final long BASE_POW; // BASE^(WINDOW-1) mod 2^64

  static {
    long p = 1;
    for (int i = 0; i < WINDOW - 1; i++) {
      p *= BASE;
    }
    BASE_POW = p;
  }

  private CorpusOverlap() {}

  /** One probe passage: id, domain and text. */
  record Passage(String docId, String domain, String text) {}

  /** Code points of the text with each ASCII white-space run replaced by one space, ends stripped. */
  static int[] normalise(String text) {
    int[] cps = text.codePoints().toArray();
    int[] out = new int[cps.length];
    int n = 0;
    boolean pendingSpace = false;
    for (int c : cps) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B) {
        pendingSpace = n > 0;
      } else {
        if (pendingSpace) {
          out[n++] = ' ';
          pendingSpace = false;
        }
        out[n++] = c;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** Calls sink with the hash of every WINDOW-code-point window of the normalised text. */
  static void forEachWindow(String text, LongConsumer sink) {
    int[] t = normalise(text);
    if (t.length < WINDOW) {
      return;
    }
    long h = 0;
    for (int i = 0; i < WINDOW; i++) {
      h = h * BASE + t[i];
    }
    sink.accept(mix(h));
    for (int i = WINDOW; i < t.length; i++) {
      h = (h - t[i - WINDOW] * BASE_POW) * BASE + t[i];
      sink.accept(mix(h));
    }
  }

  /** splitmix64 finaliser: spreads the polynomial hash over the table's low bits. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    z = z ^ (z >>> 31);
    return z == 0 ? 1 : z; // 0 marks an empty slot
  }

  /** Open-addressing set of non-zero longs with int-valued bit masks. */
  static final class LongMaskTable {
    private long[] keys;
    private int[] masks;
    private int size;

    LongMaskTable(int expected) {
      int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
      keys = new long[cap];
      masks = new int[cap];
    }

    /** ORs bits into the key's mask (adding the key if absent); returns the new mask. */
    int or(long key, int bits) {
      if (size * 2 >= keys.length) {
        grow();
      }
      int m = keys.length - 1;
      int i = (int) (key ^ (key >>> 32)) & m;
      while (keys[i] != 0 && keys[i] != key) {
        i = (i + 1) & m;
      }
      if (keys[i] == 0) {
        keys[i] = key;
        size++;
      }
      masks[i] |= bits;
      return masks[i];
    }

    /** The key's mask, 0 when absent. */
    int mask(long key) {
      int m = keys.length - 1;
      int i = (int) (key ^ (key >>> 32)) & m;
      while (keys[i] != 0) {
        if (keys[i] == key) {
          return masks[i];
        }
        i = (i + 1) & m;
      }
      return 0;
    }

    int size() {
      return size;
    }

    private void grow() {
      long[] oldKeys = keys;
      int[] oldMasks = masks;
      keys = new long[oldKeys.length * 2];
      masks = new int[oldKeys.length * 2];
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != 0) {
          or(oldKeys[i], oldMasks[i]);
        }
      }
    }
  }

  /** The windows of all model-training texts. */
  static LongMaskTable trainWindows(List<String> texts) {
    long chars = texts.stream().mapToLong(String::length).sum();
    LongMaskTable t = new LongMaskTable((int) Math.min(1 << 28, chars));
    for (String s : texts) {
      forEachWindow(s, k -> t.or(k, 1));
    }
    return t;
  }

  /** What the check found for one probe set. */
  record Report(Map<String, Integer> passages, Map<String, List<String>> sharingTrain,
      List<String> crossSplit) {
    /** Domains where more than maxFraction of the passages share a window with model-train text. */
    List<String> domainsOver(double maxFraction) {
      List<String> out = new ArrayList<>();
      passages.forEach((d, n) -> {
        int bad = sharingTrain.getOrDefault(d, List.of()).size();
        if (bad > maxFraction * n) {
          out.add(d + ": " + bad + " of " + n + " passages, e.g. " + sharingTrain.get(d).subList(0, Math.min(5, bad)));
        }
      });
      return out;
    }
  }

  /**
   * Passages sharing a window with the training windows (per domain), and passages
   * sharing a window with a passage of another probe split (split of each doc_id by the
   * given assigner).
   */
  static Report check(LongMaskTable train, List<Passage> probe, SplitAssigner splits) {
    Map<String, Integer> counts = new TreeMap<>();
    Map<String, List<String>> sharing = new TreeMap<>();
    long chars = probe.stream().mapToLong(p -> p.text().length()).sum();
    LongMaskTable bySplit = new LongMaskTable((int) Math.min(1 << 28, chars));
    Map<String, Integer> bit = new LinkedHashMap<>();
    bit.put(SplitAssigner.TRAIN, 1);
    bit.put(SplitAssigner.VAL, 2);
    bit.put(SplitAssigner.TEST, 4);
    for (Passage p : probe) {
      counts.merge(p.domain(), 1, Integer::sum);
      int b = bit.get(splits.splitOf(p.docId()));
      boolean[] hit = {false};
      forEachWindow(p.text(), k -> {
        if (train.mask(k) != 0) {
          hit[0] = true;
        }
        bySplit.or(k, b);
      });
      if (hit[0]) {
        sharing.computeIfAbsent(p.domain(), d -> new ArrayList<>()).add(p.docId());
      }
    }
    List<String> cross = new ArrayList<>();
    for (Passage p : probe) {
      boolean[] hit = {false};
      forEachWindow(p.text(), k -> {
        if (Integer.bitCount(bySplit.mask(k)) > 1) {
          hit[0] = true;
        }
      });
      if (hit[0]) {
        cross.add(p.docId() + " (" + splits.splitOf(p.docId()) + ")");
      }
    }
    return new Report(counts, sharing, cross);
  }
}
