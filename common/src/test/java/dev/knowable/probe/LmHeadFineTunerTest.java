package dev.knowable.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.knowable.config.ConfigException;
import dev.knowable.config.ConfigLoader;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LmHeadFineTunerTest {
  private static final BetFtSettings SETTINGS = new BetFtSettings(true, 300, 5, 1e-4, 1e-2, 16);

  private static LmHeadFineTuner.Head randomHead(int vocab, int dim, boolean bias, long seed) {
    Random r = new Random(seed);
    double[] w = new double[vocab * dim];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextGaussian() * 0.5;
    }
    double[] b = null;
    if (bias) {
      b = new double[vocab];
      for (int i = 0; i < vocab; i++) {
        b[i] = r.nextGaussian() * 0.5;
      }
    }
    return new LmHeadFineTuner.Head(vocab, dim, w, b);
  }

  private static float[][] hidden(int n, int dim, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[n][dim];
    for (float[] row : x) {
      for (int i = 0; i < dim; i++) {
        row[i] = (float) r.nextGaussian();
      }
    }
    return x;
  }

  /** Targets from a "large" head: its top-k log-probs through {@link LmHeadFineTuner#target}. */
  private static LmHeadFineTuner.Target[] targets(LmHeadFineTuner.Head large, float[][] x, int k) {
    LmHeadFineTuner.Target[] t = new LmHeadFineTuner.Target[x.length];
    double[] z = new double[large.vocab()];
    for (int r = 0; r < x.length; r++) {
      large.logits(x[r], z);
      double m = java.util.Arrays.stream(z).max().orElseThrow();
      double s = 0;
      for (double v : z) {
        s += Math.exp(v - m);
      }
      double lse = m + Math.log(s);
      Integer[] idx = new Integer[z.length];
      for (int i = 0; i < idx.length; i++) {
        idx[i] = i;
      }
      double[] zz = z.clone();
      java.util.Arrays.sort(idx, (a, b) -> Double.compare(zz[b], zz[a]));
      int[] ids = new int[k];
      float[] lp = new float[k];
      for (int j = 0; j < k; j++) {
        ids[j] = idx[j];
        lp[j] = (float) (zz[idx[j]] - lse);
      }
      t[r] = LmHeadFineTuner.target(large.vocab(), ids, lp);
    }
    return t;
  }

  @Test
  void targetPutsTheLeftoverMassEvenlyOnTheOtherIdsAndSumsToOne() {
    double[] t = LmHeadFineTuner.target(10, new int[] {3, 7}, new float[] {(float) Math.log(0.5),
        (float) Math.log(0.3)}).dense();
    assertThat(java.util.Arrays.stream(t).sum()).isCloseTo(1.0, offset(1e-12));
    assertThat(t[3]).isCloseTo(0.5, offset(1e-7));
    assertThat(t[7]).isCloseTo(0.3, offset(1e-7));
    for (int v : new int[] {0, 1, 2, 4, 5, 6, 8, 9}) {
      assertThat(t[v]).isCloseTo(0.2 / 8, offset(1e-7));
    }
    // The sparse form's sum_v t_v z_v is the dense one's.
    LmHeadFineTuner.Target sparse = LmHeadFineTuner.target(10, new int[] {3, 7}, new float[] {(float) Math.log(0.5),
        (float) Math.log(0.3)});
    double[] z = {0.1, -2, 3, 0.5, 1, 1.5, -1, 2, 0, 4};
    double dense = 0;
    for (int v = 0; v < 10; v++) {
      dense += t[v] * z[v];
    }
    assertThat(sparse.dot(z)).isCloseTo(dense, offset(1e-12));
    // Top-k mass above 1 by rounding, or k = vocab: renormalised, nothing elsewhere.
    double[] over = LmHeadFineTuner.target(4, new int[] {0, 1}, new float[] {(float) Math.log(0.7),
        (float) Math.log(0.31)}).dense();
    assertThat(java.util.Arrays.stream(over).sum()).isCloseTo(1.0, offset(1e-12));
    assertThat(over[2]).isZero();
    // Ids outside the vocabulary are dropped; their mass joins the leftover.
    double[] cut = LmHeadFineTuner.target(3, new int[] {5, 0}, new float[] {(float) Math.log(0.5),
        (float) Math.log(0.2)}).dense();
    assertThat(cut[0]).isCloseTo(0.2, offset(1e-7));
    assertThat(cut[1]).isCloseTo(0.4, offset(1e-7));
    assertThat(java.util.Arrays.stream(cut).sum()).isCloseTo(1.0, offset(1e-12));
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    LmHeadFineTuner.Head head = randomHead(6, 4, true, 1);
    float[][] x = hidden(5, 4, 2);
    LmHeadFineTuner.Target[] t = targets(randomHead(6, 4, true, 3), x, 2);
    double[][] g = LmHeadFineTuner.gradient(head, x, t);
    double h = 1e-6;
    for (int i = 0; i < head.weight().length; i++) {
      double keep = head.weight()[i];
      head.weight()[i] = keep + h;
      double up = LmHeadFineTuner.meanLoss(head, x, t);
      head.weight()[i] = keep - h;
      double down = LmHeadFineTuner.meanLoss(head, x, t);
      head.weight()[i] = keep;
      assertThat(g[0][i]).as("dW[%d]", i).isCloseTo((up - down) / (2 * h), offset(1e-7));
    }
    for (int v = 0; v < head.vocab(); v++) {
      double keep = head.bias()[v];
      head.bias()[v] = keep + h;
      double up = LmHeadFineTuner.meanLoss(head, x, t);
      head.bias()[v] = keep - h;
      double down = LmHeadFineTuner.meanLoss(head, x, t);
      head.bias()[v] = keep;
      assertThat(g[1][v]).as("db[%d]", v).isCloseTo((up - down) / (2 * h), offset(1e-7));
    }
  }

  @Test
  void fineTuningLowersTheLossTowardAnotherHeadsDistribution() {
    LmHeadFineTuner.Head small = randomHead(12, 6, false, 4);
    LmHeadFineTuner.Head large = randomHead(12, 6, false, 5);
    float[][] train = hidden(400, 6, 6);
    float[][] val = hidden(100, 6, 7);
    LmHeadFineTuner.Target[] tt = targets(large, train, 4);
    LmHeadFineTuner.Target[] vt = targets(large, val, 4);
    LmHeadFineTuner.Fit fit = LmHeadFineTuner.train(small, train, tt, val, vt, SETTINGS, 11);
    assertThat(fit.bestEpoch()).isPositive();
    assertThat(fit.bestValLoss()).isLessThan(fit.initialValLoss() - 0.1);
    assertThat(LmHeadFineTuner.meanLoss(fit.head(), val, vt)).isEqualTo(fit.bestValLoss());
    assertThat(LmHeadFineTuner.meanLoss(fit.head(), train, tt)).isLessThan(LmHeadFineTuner.meanLoss(small, train,
        tt));
    assertThat(fit.head().bias()).isNull();
    // The input head is not changed.
    assertThat(small.weight()).isEqualTo(randomHead(12, 6, false, 4).weight());
  }

  @Test
  void aTargetEqualToTheHeadsOwnDistributionKeepsEpochZero() {
    LmHeadFineTuner.Head head = randomHead(8, 5, true, 8);
    float[][] train = hidden(200, 5, 9);
    float[][] val = hidden(60, 5, 10);
    // k = vocab: the target is exactly the head's own softmax, so the loss is at its minimum.
    LmHeadFineTuner.Fit fit = LmHeadFineTuner.train(head, train, targets(head, train, 8), val,
        targets(head, val, 8), SETTINGS, 1);
    assertThat(fit.bestEpoch()).isZero();
    assertThat(fit.head()).isSameAs(head);
    assertThat(fit.epochsRun()).isEqualTo(SETTINGS.patience());
    assertThat(fit.converged()).isTrue();
    // max-epochs 0: the own head, no training.
    LmHeadFineTuner.Fit none = LmHeadFineTuner.train(head, train, targets(head, train, 8), val,
        targets(head, val, 8), new BetFtSettings(true, 0, 5, 1e-4, 1e-3, 64), 1);
    assertThat(none.epochsRun()).isZero();
    assertThat(none.head()).isSameAs(head);
  }

  @Test
  void theSameSeedGivesTheSameBitsAndAnotherSeedAnotherHead() {
    LmHeadFineTuner.Head small = randomHead(10, 4, true, 12);
    LmHeadFineTuner.Head large = randomHead(10, 4, true, 13);
    float[][] train = hidden(150, 4, 14);
    float[][] val = hidden(40, 4, 15);
    LmHeadFineTuner.Target[] tt = targets(large, train, 3);
    LmHeadFineTuner.Target[] vt = targets(large, val, 3);
    BetFtSettings s = new BetFtSettings(true, 5, 5, 0, 1e-2, 16);
    LmHeadFineTuner.Fit a = LmHeadFineTuner.train(small, train, tt, val, vt, s, 3);
    LmHeadFineTuner.Fit b = LmHeadFineTuner.train(small, train, tt, val, vt, s, 3);
    LmHeadFineTuner.Fit c = LmHeadFineTuner.train(small, train, tt, val, vt, s, 4);
    assertThat(a.head().weight()).isEqualTo(b.head().weight());
    assertThat(a.head().bias()).isEqualTo(b.head().bias());
    assertThat(a.bestValLoss()).isEqualTo(b.bestValLoss());
    assertThat(c.head().weight()).isNotEqualTo(a.head().weight());
    // Capped at 5 epochs while still improving: not converged.
    assertThat(a.epochsRun()).isEqualTo(5);
    assertThat(a.converged()).isFalse();
  }

  @Test
  void entropyIsThatOfTheSoftmax() {
    LmHeadFineTuner.Head uniform = new LmHeadFineTuner.Head(4, 2, new double[8], null);
    assertThat(uniform.entropy(new float[] {1, 2})).isCloseTo(Math.log(4), offset(1e-12));
    LmHeadFineTuner.Head peaked = new LmHeadFineTuner.Head(2, 1, new double[] {0, 0}, new double[] {0, Math.log(3)});
    double p = 0.25;
    assertThat(peaked.entropy(new float[] {0})).isCloseTo(-p * Math.log(p) - (1 - p) * Math.log(1 - p),
        offset(1e-12));
  }

  @Test
  void settingsComeFromReferenceConfAndAreChecked() {
    BetFtSettings s = BetFtSettings.from(ConfigLoader.load(null, List.of()).raw());
    assertThat(s).isEqualTo(new BetFtSettings(true, 300, 5, 1e-4, 1e-3, 64));
    assertThatThrownBy(() -> BetFtSettings.from(ConfigLoader.load(null,
        List.of("probe.bet-ft.batch-size=0")).raw()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.probe.bet-ft.batch-size");
    assertThatThrownBy(() -> BetFtSettings.from(ConfigLoader.load(null,
        List.of("probe.bet-ft.learning-rate=0")).raw()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("knowable.probe.bet-ft.learning-rate");
    assertThatThrownBy(() -> new BetFtSettings(true, -1, 5, 0, 1e-3, 1)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("max-epochs");
  }
}
