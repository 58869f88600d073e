package dev.knowable.probe;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Trains the paper's MLP probe, Linear(d, h) -> Dropout -> ReLU -> Linear(h, 2) with
 * softmax cross-entropy and Adam, on one configuration's rows (called inside a Spark task;
 * the rows are probe-example sized). The forward pass, its gradient and the Adam step are
 * written out as DJL NDArray operations on the PyTorch engine, without DJL's autograd:
 * DJL allows one collecting gradient tape per JVM, which made the MLP tasks of an
 * executor take turns; written out, they train in parallel on every core. A test checks
 * the loss and gradients against central differences computed in double precision.
 *
 * <p>Deterministic for a seed: the initial weights (PyTorch's nn.Linear default,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in))), the minibatch order and the dropout masks all come
 * from generators seeded by it. Adam follows torch.optim.Adam (betas 0.9 / 0.999, eps 1e-8,
 * bias-corrected moments, no weight decay). After every epoch the loss on the validation
 * rows (no dropout) decides the checkpoint: the weights of the best epoch are returned, and
 * training stops after {@code patience} epochs without an improvement of more than
 * {@code minDelta} nats (early stopping), or at {@code maxEpochs}.
 */
public final class MlpProbeTrainer {
  /** Validation rows are scored in chunks of this many to bound native memory. */
  private static final int EVAL_CHUNK = 1024;
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPS = 1e-8;

  /**
   * The fitted probe and how training went.
   *
   * @param converged true when early stopping ended training (patience exhausted); false when
   *     it reached maxEpochs first (or there were no validation rows), so more epochs might
   *     have lowered the validation loss
   */
  public record Fit(MlpWeights weights, int epochsRun, int bestEpoch, double bestValLoss, boolean converged) {}

  private MlpProbeTrainer() {}

  /**
   * @param trainX training features, one row per example (all of length d)
   * @param trainY training labels 0/1
   * @param valX validation features (may be empty: then the last epoch is kept)
   * @param valY validation labels
   */
  public static Fit train(float[][] trainX, int[] trainY, float[][] valX, int[] valY, MlpSettings settings,
      long seed) {
    return train(FeatureRows.of(trainX), trainY, FeatureRows.of(valX), valY, settings, seed, Device.cpu());
  }

  /**
   * Trains on rows held in any form (e.g. {@link HalfRows}), on {@code device}: the
   * parameters, Adam's moments and each minibatch live there; rows are decoded on the host
   * one minibatch at a time. On the CPU the result is the same bits for a seed; a GPU's
   * kernels (cuBLAS) sum in another order, so its weights differ in the last bits.
   *
   * @param device where the arithmetic runs (the task's GPU, see ProbeFitTask, or the CPU)
   */
  public static Fit train(FeatureRows trainX, int[] trainY, FeatureRows valX, int[] valY, MlpSettings settings,
      long seed, Device device) {
    if (trainX.rows() == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    if (trainX.rows() != trainY.length || valX.rows() != valY.length) {
      throw new IllegalArgumentException("rows and labels differ in count");
    }
    int d = trainX.dim();
    if (valX.rows() > 0 && valX.dim() != d) {
      throw new IllegalArgumentException("feature rows differ in length: " + valX.dim() + " vs " + d);
    }
    int h = settings.hidden();
    SplittableRandom random = new SplittableRandom(seed);
    SplittableRandom dropout = new SplittableRandom(random.nextLong());
    float keep = (float) (1 - settings.dropout());
    try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
      Param w1 = new Param(manager, uniform(h * d, d, random), new Shape(h, d));
      Param b1 = new Param(manager, uniform(h, d, random), new Shape(h));
      Param w2 = new Param(manager, uniform(2 * h, h, random), new Shape(2, h));
      Param b2 = new Param(manager, uniform(2, h, random), new Shape(2));
      Param[] params = {w1, b1, w2, b2};
      int[] order = new int[trainX.rows()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      MlpWeights best = null;
      double bestLoss = Double.POSITIVE_INFINITY;
      int bestEpoch = 0;
      // The last epoch whose loss beat the best by more than minDelta: patience counts from it.
      int improvedEpoch = 0;
      double improvedLoss = Double.POSITIVE_INFINITY;
      int epoch = 0;
      long step = 0;
      while (epoch < settings.maxEpochs() && epoch - improvedEpoch < settings.patience()) {
        epoch++;
        shuffle(order, random);
        for (int start = 0; start < order.length; start += settings.batchSize()) {
          int end = Math.min(order.length, start + settings.batchSize());
          int b = end - start;
          try (NDManager batch = manager.newSubManager()) {
            for (Param p : params) {
              p.attachTo(batch);
            }
            NDArray x = batch.create(rows(trainX, order, start, end, d), new Shape(b, d));
            NDArray y = batch.create(oneHot(trainY, order, start, end), new Shape(b, 2));
            NDArray mask = batch.create(mask(b * h, keep, settings.dropout(), dropout), new Shape(b, h));
            NDList grads = gradients(x, y, mask, w1.value, b1.value, w2.value, b2.value);
            step++;
            for (int k = 0; k < params.length; k++) {
              params[k].adam(grads.get(k + 1), step, settings.learningRate());
            }
          }
        }
        double valLoss = valX.rows() == 0 ? Double.NaN : meanLoss(manager, params, valX, valY, d);
        if (valX.rows() > 0 && valLoss < improvedLoss - settings.minDelta()) {
          improvedLoss = valLoss;
          improvedEpoch = epoch;
        }
        if (valX.rows() == 0 || valLoss < bestLoss) {
          bestLoss = valLoss;
          bestEpoch = epoch;
          best = new MlpWeights(d, h, w1.value.toFloatArray(), b1.value.toFloatArray(), w2.value.toFloatArray(),
              b2.value.toFloatArray());
        }
      }
      if (best == null) {
        // Every validation loss was NaN or infinite: no checkpoint is better than another.
        throw new IllegalStateException("MLP probe: the validation loss was not finite in any of " + epoch
            + " epochs (" + trainX.rows() + " train / " + valX.rows() + " val rows, " + d + " features), so no "
            + "checkpoint can be chosen. Check the features for NaN or infinite values, or lower "
            + "knowable.probe.mlp.learning-rate (now " + settings.learningRate() + ").");
      }
      boolean converged = valX.rows() > 0 && epoch - improvedEpoch >= settings.patience();
      return new Fit(best, epoch, bestEpoch, bestLoss, converged);
    }
  }

  /**
   * Mean cross-entropy of one minibatch and its gradient, written out.
   *
   * @param y one-hot labels [B, 2]
   * @param mask dropout mask [B, h]: 0 or 1 / keep (all ones without dropout)
   * @return loss (scalar), dL/dw1 [h, d], dL/db1 [h], dL/dw2 [2, h], dL/db2 [2]
   */
  static NDList gradients(NDArray x, NDArray y, NDArray mask, NDArray w1, NDArray b1, NDArray w2, NDArray b2) {
    long batch = x.getShape().get(0);
    NDArray dropped = x.matMul(w1.transpose()).add(b1).mul(mask);
    NDArray a = dropped.maximum(0f);
    NDArray logits = a.matMul(w2.transpose()).add(b2);
    NDArray logProb = logits.logSoftmax(1);
    NDArray loss = logProb.mul(y).sum().neg().div(batch);
    NDArray dz = logProb.exp().sub(y).div(batch);
    NDArray gw2 = dz.transpose().matMul(a);
    NDArray gb2 = dz.sum(new int[] {0});
    // ReLU passes the gradient where its input was positive; dropout scales it by the mask.
    NDArray dh = dz.matMul(w2).mul(dropped.gt(0f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)).mul(mask);
    NDArray gw1 = dh.transpose().matMul(x);
    NDArray gb1 = dh.sum(new int[] {0});
    return new NDList(loss, gw1, gb1, gw2, gb2);
  }

  /** A parameter and its Adam moments, owned by the trainer's manager. */
  private static final class Param {
    final NDArray value;
    final NDArray m;
    final NDArray v;

    Param(NDManager manager, float[] init, Shape shape) {
      value = manager.create(init, shape);
      m = manager.zeros(shape);
      v = manager.zeros(shape);
    }

    /** Temporaries made from these arrays during the batch belong to the batch's manager. */
    void attachTo(NDManager batch) {
      value.tempAttach(batch);
      m.tempAttach(batch);
      v.tempAttach(batch);
    }

    /** torch.optim.Adam, in place. */
    void adam(NDArray grad, long step, double lr) {
      m.muli(BETA1).addi(grad.mul(1 - BETA1));
      v.muli(BETA2).addi(grad.square().mul(1 - BETA2));
      double c1 = 1 - Math.pow(BETA1, step);
      double c2 = 1 - Math.pow(BETA2, step);
      value.subi(m.div(c1).div(v.div(c2).sqrt().add(EPS)).mul(lr));
    }
  }

  private static float[] uniform(int count, int fanIn, SplittableRandom random) {
    double bound = 1.0 / Math.sqrt(fanIn);
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return out;
  }

  private static float[] mask(int count, float keep, double rate, SplittableRandom random) {
    float[] out = new float[count];
    if (rate == 0) {
      java.util.Arrays.fill(out, 1f);
      return out;
    }
    for (int i = 0; i < count; i++) {
      out[i] = random.nextDouble() < keep ? 1f / keep : 0f;
    }
    return out;
  }

  private static float[] oneHot(int[] y, int[] order, int start, int end) {
    float[] out = new float[(end - start) * 2];
    for (int r = start; r < end; r++) {
      out[(r - start) * 2 + y[order[r]]] = 1f;
    }
    return out;
  }

  private static double meanLoss(NDManager manager, Param[] p, FeatureRows x, int[] y, int d) {
    int[] all = new int[x.rows()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    double sum = 0;
    for (int start = 0; start < x.rows(); start += EVAL_CHUNK) {
      int end = Math.min(x.rows(), start + EVAL_CHUNK);
      try (NDManager chunk = manager.newSubManager()) {
        for (Param q : p) {
          q.attachTo(chunk);
        }
        NDArray features = chunk.create(rows(x, all, start, end, d), new Shape(end - start, d));
        NDArray logits = features.matMul(p[0].value.transpose()).add(p[1].value).maximum(0f)
            .matMul(p[2].value.transpose()).add(p[3].value);
        NDArray labels = chunk.create(oneHot(y, all, start, end), new Shape(end - start, 2));
        sum += -logits.logSoftmax(1).mul(labels).sum().getFloat();
      }
    }
    return sum / x.rows();
  }

  private static float[] rows(FeatureRows x, int[] order, int start, int end, int d) {
    float[] flat = new float[(end - start) * d];
    for (int r = start; r < end; r++) {
      x.copyRow(order[r], flat, (r - start) * d);
    }
    return flat;
  }

  private static void shuffle(int[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
