package dev.knowable.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PairedBootstrapTest {

  /** Rows in `docs` documents of `perDoc` positions; the label is the document's, so positions are correlated. */
  private static int[] labels(int docs, int perDoc) {
    int[] y = new int[docs * perDoc];
    for (int i = 0; i < y.length; i++) {
      y[i] = (i / perDoc) % 2;
    }
    return y;
  }

  private static String[] groups(int docs, int perDoc, boolean byRow) {
    String[] g = new String[docs * perDoc];
    for (int i = 0; i < g.length; i++) {
      g[i] = byRow ? "row" + i : "doc" + (i / perDoc);
    }
    return g;
  }

  @Test
  void aScoreComparedWithItselfDiffersByExactlyZero() {
    int[] y = labels(20, 5);
    double[] s = new Random(1).doubles(y.length).toArray();
    PairedBootstrap.Difference d = PairedBootstrap.aucDifference(s, s, y, groups(20, 5, false), 200, 7);
    assertThat(d.difference()).isZero();
    assertThat(d.low()).isZero();
    assertThat(d.high()).isZero();
    assertThat(d.groups()).isEqualTo(20);
  }

  @Test
  void aPerfectScoreBeatsNoiseWithAnIntervalAboveZero() {
    int[] y = labels(40, 5);
    Random r = new Random(2);
    double[] perfect = new double[y.length];
    double[] noise = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      perfect[i] = y[i] + 0.1 * r.nextDouble();
      noise[i] = r.nextDouble();
    }
    PairedBootstrap.Difference d = PairedBootstrap.aucDifference(perfect, noise, y, groups(40, 5, false), 300, 3);
    assertThat(d.aucA()).isEqualTo(1.0);
    assertThat(d.difference()).isEqualTo(1.0 - RocAuc.exact(noise, y), within(1e-15));
    assertThat(d.low()).as("the perfect score wins in every resample").isGreaterThan(0.2);
    assertThat(d.high()).isLessThanOrEqualTo(1.0);
  }

  @Test
  void resamplingDocumentsIsWiderThanResamplingPositionsWhenPositionsAreCorrelated() {
    // Each document's positions share one noisy score offset: 20 documents carry the
    // information, not 400 positions. A position bootstrap pretends otherwise.
    int docs = 20;
    int perDoc = 20;
    int[] y = labels(docs, perDoc);
    Random r = new Random(4);
    double[] a = new double[y.length];
    double[] b = new double[y.length];
    double[] docOffsetA = r.doubles(docs).toArray();
    double[] docOffsetB = r.doubles(docs).toArray();
    for (int i = 0; i < y.length; i++) {
      a[i] = 0.6 * y[i] + docOffsetA[i / perDoc] + 0.01 * r.nextDouble();
      b[i] = 0.2 * y[i] + docOffsetB[i / perDoc] + 0.01 * r.nextDouble();
    }
    PairedBootstrap.Difference byDoc = PairedBootstrap.aucDifference(a, b, y, groups(docs, perDoc, false), 400, 5);
    PairedBootstrap.Difference byRow = PairedBootstrap.aucDifference(a, b, y, groups(docs, perDoc, true), 400, 5);
    assertThat(byDoc.difference()).isEqualTo(byRow.difference());
    assertThat(byDoc.high() - byDoc.low()).as("document-level interval")
        .isGreaterThan(2 * (byRow.high() - byRow.low()));
  }

  @Test
  void rowOrderDoesNotChangeTheInterval() {
    int[] y = labels(15, 4);
    Random r = new Random(6);
    double[] a = r.doubles(y.length).toArray();
    double[] b = r.doubles(y.length).toArray();
    String[] g = groups(15, 4, false);
    PairedBootstrap.Difference d1 = PairedBootstrap.aucDifference(a, b, y, g, 100, 9);
    // The same rows reversed.
    int n = y.length;
    double[] ra = new double[n];
    double[] rb = new double[n];
    int[] ry = new int[n];
    String[] rg = new String[n];
    for (int i = 0; i < n; i++) {
      ra[i] = a[n - 1 - i];
      rb[i] = b[n - 1 - i];
      ry[i] = y[n - 1 - i];
      rg[i] = g[n - 1 - i];
    }
    PairedBootstrap.Difference d2 = PairedBootstrap.aucDifference(ra, rb, ry, rg, 100, 9);
    assertThat(d2.difference()).isEqualTo(d1.difference(), within(1e-15));
    assertThat(d2.low()).isEqualTo(d1.low(), within(1e-12));
    assertThat(d2.high()).isEqualTo(d1.high(), within(1e-12));
  }
}
