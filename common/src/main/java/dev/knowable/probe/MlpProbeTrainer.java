package dev.knowable.probe;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.SplittableRandom;

/**
 * Trains the paper's MLP probe with DJL's PyTorch training API on one configuration's
 * rows (called inside a Spark task; the rows are probe-example sized).
 *
 * <p>Deterministic for a seed: the initial weights (PyTorch's nn.Linear default,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in))), the minibatch order and the dropout masks all come
 * from generators seeded by it. After every epoch the loss on the validation rows (in
 * eval mode) decides the checkpoint: the weights of the best epoch are returned, and
 * training stops after {@code patience} epochs without improvement.
 */
public final class MlpProbeTrainer {
  /** Validation rows are scored in chunks of this many to bound native memory. */
  private static final int EVAL_CHUNK = 1024;
  /**
   * DJL's PyTorch engine allows one collecting GradientCollector per JVM, so MLP tasks that
   * share an executor take turns per minibatch (their state is separate: results do not
   * depend on the interleaving).
   */
  private static final Object GRADIENT_LOCK = new Object();

  /** The fitted probe and how training went. */
  public record Fit(MlpWeights weights, int epochsRun, int bestEpoch, double bestValLoss) {}

  private MlpProbeTrainer() {}

  /**
   * @param trainX training features, one row per example (all of length d)
   * @param trainY training labels 0/1
   * @param valX validation features (may be empty: then the last epoch is kept)
   * @param valY validation labels
   */
  public static Fit train(float[][] trainX, int[] trainY, float[][] valX, int[] valY, MlpSettings settings,
      long seed) {
    if (trainX.length == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    int d = trainX[0].length;
    int h = settings.hidden();
    SplittableRandom random = new SplittableRandom(seed);
    SequentialBlock block = new SequentialBlock();
    Linear hidden = Linear.builder().setUnits(h).build();
    Linear output = Linear.builder().setUnits(2).build();
    block.add(hidden).add(new SeededDropout(settings.dropout(), random.nextLong())).add(Activation.reluBlock())
        .add(output);
    Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) settings.learningRate()))
        .build();
    DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
        .optOptimizer(adam).optDevices(new Device[] {Device.cpu()});
    try (Model model = Model.newInstance("mlp-probe", Device.cpu(), "PyTorch")) {
      model.setBlock(block);
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(1, d));
        torchDefaultInit(hidden, d, h, random);
        torchDefaultInit(output, h, 2, random);
        NDManager manager = trainer.getManager();
        int[] order = new int[trainX.length];
        for (int i = 0; i < order.length; i++) {
          order[i] = i;
        }
        MlpWeights best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        int epoch = 0;
        while (epoch < settings.maxEpochs() && epoch - bestEpoch < settings.patience()) {
          epoch++;
          shuffle(order, random);
          for (int start = 0; start < order.length; start += settings.batchSize()) {
            int end = Math.min(order.length, start + settings.batchSize());
            try (NDManager batch = manager.newSubManager()) {
              NDArray x = batch.create(rows(trainX, order, start, end, d), new Shape(end - start, d));
              NDArray y = batch.create(labels(trainY, order, start, end));
              synchronized (GRADIENT_LOCK) {
                try (GradientCollector collector = trainer.newGradientCollector()) {
                  NDList logits = trainer.forward(new NDList(x));
                  collector.backward(trainer.getLoss().evaluate(new NDList(y), logits));
                }
                trainer.step();
              }
            }
          }
          double valLoss = valX.length == 0 ? Double.NaN : meanLoss(trainer, manager, valX, valY, d);
          if (valX.length == 0 || valLoss < bestLoss) {
            bestLoss = valLoss;
            bestEpoch = epoch;
            best = snapshot(hidden, output, d, h);
          }
        }
        if (best == null) {
          // Every validation loss was NaN or infinite: no checkpoint is better than another.
          throw new IllegalStateException("MLP probe: the validation loss was not finite in any of " + epoch
              + " epochs (" + trainX.length + " train / " + valX.length + " val rows, " + d + " features), so no "
              + "checkpoint can be chosen. Check the features for NaN or infinite values, or lower "
              + "knowable.probe.mlp.learning-rate (now " + settings.learningRate() + ").");
        }
        return new Fit(best, epoch, bestEpoch, bestLoss);
      }
    }
  }

  /** PyTorch's nn.Linear default initialisation, drawn from the probe's seeded generator. */
  private static void torchDefaultInit(Linear layer, int fanIn, int units, SplittableRandom random) {
    double bound = 1.0 / Math.sqrt(fanIn);
    float[] w = new float[units * fanIn];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    float[] b = new float[units];
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    layer.getParameters().get("weight").getArray().set(w);
    layer.getParameters().get("bias").getArray().set(b);
  }

  private static double meanLoss(Trainer trainer, NDManager manager, float[][] x, int[] y, int d) {
    int[] all = new int[x.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    double sum = 0;
    for (int start = 0; start < x.length; start += EVAL_CHUNK) {
      int end = Math.min(x.length, start + EVAL_CHUNK);
      try (NDManager chunk = manager.newSubManager()) {
        NDArray features = chunk.create(rows(x, all, start, end, d), new Shape(end - start, d));
        NDList logits = trainer.evaluate(new NDList(features));
        NDArray loss = trainer.getLoss().evaluate(new NDList(chunk.create(labels(y, all, start, end))), logits);
        // The loss is a batch mean: weight it by the chunk size.
        sum += loss.getFloat() * (end - start);
      }
    }
    return sum / x.length;
  }

  private static MlpWeights snapshot(Linear hidden, Linear output, int d, int h) {
    return new MlpWeights(d, h, values(hidden, "weight"), values(hidden, "bias"), values(output, "weight"),
        values(output, "bias"));
  }

  private static float[] values(Linear layer, String parameter) {
    Parameter p = layer.getParameters().get(parameter);
    return p.getArray().toFloatArray();
  }

  private static float[] rows(float[][] x, int[] order, int start, int end, int d) {
    float[] flat = new float[(end - start) * d];
    for (int r = start; r < end; r++) {
      float[] row = x[order[r]];
      if (row.length != d) {
        throw new IllegalArgumentException("feature rows differ in length: " + row.length + " vs " + d);
      }
      System.arraycopy(row, 0, flat, (r - start) * d, d);
    }
    return flat;
  }

  private static float[] labels(int[] y, int[] order, int start, int end) {
    float[] out = new float[end - start];
    for (int r = start; r < end; r++) {
      out[r - start] = y[order[r]];
    }
    return out;
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
