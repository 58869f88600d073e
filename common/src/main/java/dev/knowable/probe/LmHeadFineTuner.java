package dev.knowable.probe;

import java.util.Arrays;
import java.util.Random;

/**
 * BET-FT's fit (docs/METHOD.md 6.5): a linear LM head {@code z = W h + b} (W vocab x d, b
 * optional) over the small model's final-layer hidden states h, initialised with the model's
 * own head and fine-tuned with Adam to minimise the cross-entropy {@code -sum_v t_v log
 * softmax(z)_v} against a target distribution t built from the large model's top-k
 * log-probs ({@link #target}). Early stopping on the mean val loss; "epoch 0" is the initial
 * head, so the kept head is never worse on val than the model's own. Pure Java, single
 * threaded, in double precision: the same inputs and seed give the same bits.
 */
public final class LmHeadFineTuner {
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPS = 1e-8;

  private LmHeadFineTuner() {}

  /**
   * A linear head: logits z_v = sum_i weight[v * dim + i] h_i + bias[v].
   *
   * @param bias null when the model's head has none (then none is fitted)
   */
  public record Head(int vocab, int dim, double[] weight, double[] bias) {
    public Head {
      if (vocab < 1 || dim < 1 || weight.length != (long) vocab * dim || (bias != null && bias.length != vocab)) {
        throw new IllegalArgumentException("Head of " + vocab + " x " + dim + " with " + weight.length
            + " weights and " + (bias == null ? "no" : bias.length) + " biases");
      }
    }

    /** From float weights (as a model stores them). */
    public static Head of(int vocab, int dim, float[] weight, float[] bias) {
      double[] w = new double[weight.length];
      for (int i = 0; i < w.length; i++) {
        w[i] = weight[i];
      }
      double[] b = null;
      if (bias != null) {
        b = new double[bias.length];
        for (int i = 0; i < b.length; i++) {
          b[i] = bias[i];
        }
      }
      return new Head(vocab, dim, w, b);
    }

    Head copy() {
      return new Head(vocab, dim, weight.clone(), bias == null ? null : bias.clone());
    }

    /** Logits of one hidden state into {@code z}. */
    void logits(float[] h, double[] z) {
      if (h.length != dim) {
        throw new IllegalArgumentException("hidden state of " + h.length + " values, head dim " + dim);
      }
      for (int v = 0; v < vocab; v++) {
        double s = bias == null ? 0 : bias[v];
        int o = v * dim;
        for (int i = 0; i < dim; i++) {
          s += weight[o + i] * h[i];
        }
        z[v] = s;
      }
    }

    /** Entropy in nats of softmax(W h + b): the BET-FT score. */
    public double entropy(float[] h) {
      double[] z = new double[vocab];
      logits(h, z);
      double m = max(z);
      double s = 0;
      double t = 0;
      for (double x : z) {
        double e = Math.exp(x - m);
        s += e;
        t += e * (x - m);
      }
      return Math.log(s) - t / s;
    }
  }

  /**
   * The fit: the kept head (lowest val loss, epoch 0 included) and how training went.
   *
   * @param epochsRun epochs trained (0 when max-epochs is 0 or there are no val rows)
   * @param bestEpoch epoch of the kept head (0 = the initial head)
   * @param initialValLoss mean val cross-entropy of the initial head (NaN without val rows)
   * @param bestValLoss that of the kept head
   * @param converged false when max-epochs ended training while patience had not
   */
  public record Fit(Head head, int epochsRun, int bestEpoch, double initialValLoss, double bestValLoss,
      boolean converged) {}

  /**
   * A target distribution over {@code vocab} ids, held sparsely: probability probs[j] at
   * ids[j] (distinct ids), {@code rest} at every other id.
   */
  public record Target(int vocab, int[] ids, double[] probs, double rest) {
    /** t_v at every id. */
    public double[] dense() {
      double[] t = new double[vocab];
      java.util.Arrays.fill(t, rest);
      for (int j = 0; j < ids.length; j++) {
        t[ids[j]] = probs[j];
      }
      return t;
    }

    /** sum_v t_v z_v. */
    double dot(double[] z) {
      double top = 0;
      double topZ = 0;
      for (int j = 0; j < ids.length; j++) {
        top += probs[j] * z[ids[j]];
        topZ += z[ids[j]];
      }
      if (rest == 0) {
        return top;
      }
      double all = 0;
      for (double x : z) {
        all += x;
      }
      return top + rest * (all - topZ);
    }
  }

  /**
   * The target distribution over {@code vocab} ids: exp(logprob) at the top-k ids (ids outside
   * [0, vocab) and repeats are dropped), the leftover mass {@code 1 - sum} spread evenly over
   * the other vocab - k ids. When the top-k mass is 1 or more (rounding), or k covers the
   * vocabulary, the top-k probabilities are renormalised to sum to 1 and the others get 0.
   */
  public static Target target(int vocab, int[] ids, float[] logprobs) {
    boolean[] seen = new boolean[vocab];
    int[] keptIds = new int[ids.length];
    double[] probs = new double[ids.length];
    double mass = 0;
    int k = 0;
    for (int j = 0; j < ids.length; j++) {
      int id = ids[j];
      if (id < 0 || id >= vocab || seen[id]) {
        continue;
      }
      seen[id] = true;
      keptIds[k] = id;
      probs[k] = Math.exp(logprobs[j]);
      mass += probs[k];
      k++;
    }
    keptIds = java.util.Arrays.copyOf(keptIds, k);
    probs = java.util.Arrays.copyOf(probs, k);
    double leftover = 1 - mass;
    if (k < vocab && leftover > 0) {
      return new Target(vocab, keptIds, probs, leftover / (vocab - k));
    }
    if (mass > 0) {
      for (int j = 0; j < k; j++) {
        probs[j] /= mass;
      }
      return new Target(vocab, keptIds, probs, 0);
    }
    return new Target(vocab, keptIds, probs, 1.0 / vocab);
  }

  /** Mean cross-entropy of the head's softmax against the targets (NaN for no rows). */
  public static double meanLoss(Head head, float[][] x, Target[] targets) {
    if (x.length == 0) {
      return Double.NaN;
    }
    double[] z = new double[head.vocab()];
    double sum = 0;
    for (int r = 0; r < x.length; r++) {
      head.logits(x[r], z);
      sum += crossEntropy(z, targets[r]);
    }
    return sum / x.length;
  }

  /**
   * The gradient of {@link #meanLoss} over {@code rows} of x with respect to the weights
   * (into gw, vocab x dim) and biases (into gb, ignored when the head has none): per row
   * (softmax(z) - t) h^T, averaged.
   */
  static void gradient(Head head, float[][] x, Target[] targets, int[] rows, int from, int to, double[] gw,
      double[] gb) {
    Arrays.fill(gw, 0);
    if (gb != null) {
      Arrays.fill(gb, 0);
    }
    int vocab = head.vocab();
    int dim = head.dim();
    double[] z = new double[vocab];
    double scale = 1.0 / (to - from);
    for (int n = from; n < to; n++) {
      int r = rows[n];
      float[] h = x[r];
      head.logits(h, z);
      double m = max(z);
      double s = 0;
      for (int v = 0; v < vocab; v++) {
        z[v] = Math.exp(z[v] - m);
        s += z[v];
      }
      Target t = targets[r];
      double rest = t.rest();
      for (int j = 0; j < t.ids().length; j++) {
        // Scratch: z holds p_v - t_v for the top-k ids, p_v - rest elsewhere.
        z[t.ids()[j]] -= (t.probs()[j] - rest) * s;
      }
      for (int v = 0; v < vocab; v++) {
        double g = (z[v] / s - rest) * scale;
        if (g == 0) {
          continue;
        }
        int o = v * dim;
        for (int i = 0; i < dim; i++) {
          gw[o + i] += g * h[i];
        }
        if (gb != null) {
          gb[v] += g;
        }
      }
    }
  }

  /** The gradient of the mean loss over all rows (for tests). */
  static double[][] gradient(Head head, float[][] x, Target[] targets) {
    int[] rows = new int[x.length];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = i;
    }
    double[] gw = new double[head.weight().length];
    double[] gb = head.bias() == null ? null : new double[head.vocab()];
    gradient(head, x, targets, rows, 0, rows.length, gw, gb);
    return new double[][] {gw, gb};
  }

  /**
   * Fine-tunes a copy of {@code init}: per epoch the train rows in an order shuffled by a
   * Random seeded with {@code seed}, Adam steps on minibatches of batchSize, then the mean
   * val loss. Stops after patience epochs without a val loss more than minDelta below the
   * best, or at maxEpochs; keeps the head with the lowest val loss (epoch 0 = init). Without
   * val rows nothing can choose a head: init is returned unchanged (epochsRun 0).
   */
  public static Fit train(Head init, float[][] trainX, Target[] trainT, float[][] valX, Target[] valT,
      BetFtSettings settings, long seed) {
    double initialVal = meanLoss(init, valX, valT);
    if (valX.length == 0 || trainX.length == 0 || settings.maxEpochs() == 0) {
      return new Fit(init, 0, 0, initialVal, initialVal, true);
    }
    Head head = init.copy();
    Head best = init;
    double bestLoss = initialVal;
    int bestEpoch = 0;
    int since = 0;
    double[] w = head.weight();
    double[] b = head.bias();
    double[] gw = new double[w.length];
    double[] gb = b == null ? null : new double[b.length];
    double[] mw = new double[w.length];
    double[] vw = new double[w.length];
    double[] mb = b == null ? null : new double[b.length];
    double[] vb = b == null ? null : new double[b.length];
    int[] order = new int[trainX.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Random random = new Random(seed);
    long step = 0;
    int epoch = 0;
    boolean stopped = false;
    while (epoch < settings.maxEpochs()) {
      epoch++;
      shuffle(order, random);
      for (int from = 0; from < order.length; from += settings.batchSize()) {
        int to = Math.min(order.length, from + settings.batchSize());
        gradient(head, trainX, trainT, order, from, to, gw, gb);
        step++;
        double c1 = 1 - Math.pow(BETA1, step);
        double c2 = 1 - Math.pow(BETA2, step);
        adam(w, gw, mw, vw, settings.learningRate(), c1, c2);
        if (b != null) {
          adam(b, gb, mb, vb, settings.learningRate(), c1, c2);
        }
      }
      double loss = meanLoss(head, valX, valT);
      if (loss < bestLoss - settings.minDelta()) {
        since = 0;
      } else {
        since++;
      }
      if (loss < bestLoss) {
        bestLoss = loss;
        best = head.copy();
        bestEpoch = epoch;
      }
      if (since >= settings.patience()) {
        stopped = true;
        break;
      }
    }
    return new Fit(best, epoch, bestEpoch, initialVal, bestLoss, stopped);
  }

  private static void adam(double[] p, double[] g, double[] m, double[] v, double lr, double c1, double c2) {
    for (int i = 0; i < p.length; i++) {
      m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
      v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
      p[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + EPS);
    }
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** -sum t_v log softmax(z)_v = logsumexp(z) - sum t_v z_v. */
  private static double crossEntropy(double[] z, Target t) {
    double m = max(z);
    double s = 0;
    for (int v = 0; v < z.length; v++) {
      s += Math.exp(z[v] - m);
    }
    return m + Math.log(s) - t.dot(z);
  }

  private static double max(double[] z) {
    double m = Double.NEGATIVE_INFINITY;
    for (double x : z) {
      m = Math.max(m, x);
    }
    return m;
  }
}
