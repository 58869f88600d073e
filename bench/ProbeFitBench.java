import ai.djl.Device;
import dev.knowable.probe.FeatureRows;
import dev.knowable.probe.HalfRows;
import dev.knowable.probe.LogisticProbeTrainer;
import dev.knowable.probe.MlpProbeTrainer;
import dev.knowable.probe.MlpSettings;
import dev.knowable.probe.ProbeTaskMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * One probe fit at paper scale on synthetic probe_examples: n train rows (and n / 10 val
 * rows) of d features held as the probe task holds them (fp16, HalfRows), a linear signal
 * in the first 16 features. Times filling the rows, one logistic fit (one penalty, a bounded
 * number of L-BFGS iterations) and one MLP fit (the paper's h = 2048, batch 64, Adam 1e-4,
 * a bounded number of epochs), and prints the heap the rows take (after GC), the estimate
 * the probe stage checks against (ProbeTaskMemory.needed, eval rows = val rows here) and
 * the process's peak RSS (VmHWM). One size per JVM, so the peak belongs to it.
 *
 *   java -Xmx10g -cp "common/target/classes:$(cat /tmp/common-cp.txt)" bench/ProbeFitBench.java \
 *     D N [linear-iterations] [mlp-epochs] [mlp-max-rows]
 *
 * mlp-max-rows: the MLP trains on the first this-many train rows only (0 = all), for sizes
 * whose full epoch takes too long on a CPU; its time per row is printed.
 */
public class ProbeFitBench {
  public static void main(String[] args) throws Exception {
    int d = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    int linearIters = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int mlpEpochs = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    int mlpRows = args.length > 4 ? Integer.parseInt(args[4]) : 0;
    int nVal = n / 10;
    long t0 = System.nanoTime();
    SplittableRandom random = new SplittableRandom(42);
    int[] y = new int[n];
    int[] vy = new int[nVal];
    HalfRows train = fill(d, n, y, random);
    HalfRows val = fill(d, nVal, vy, random);
    double fillS = (System.nanoTime() - t0) / 1e9;
    System.gc();
    Runtime rt = Runtime.getRuntime();
    long heap = rt.totalMemory() - rt.freeMemory();
    System.out.printf("d=%d n=%d val=%d: filled in %.1f s; heap after GC %s (rows alone %s); stage estimate "
        + "linear %s, mlp %s; max heap %s%n", d, n, nVal, fillS, ProbeTaskMemory.human(heap),
        ProbeTaskMemory.human(HalfRows.bytes(n + nVal, d)),
        ProbeTaskMemory.human(ProbeTaskMemory.needed(true, d, n + nVal, nVal, 0)),
        ProbeTaskMemory.human(ProbeTaskMemory.needed(true, d, n + nVal, nVal, 2048)),
        ProbeTaskMemory.human(rt.maxMemory()));
    if (linearIters > 0) {
      long t = System.nanoTime();
      LogisticProbeTrainer.Fit fit = LogisticProbeTrainer.trainDense(train, y, val, vy, new double[] {1e-3},
          linearIters, 1e-6);
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf("linear: %d L-BFGS iterations (cap %d, one penalty) in %.1f s = %.2f s per iteration; "
          + "val loss %.4f%n", fit.iterations(), linearIters, s, s / Math.max(1, fit.iterations()),
          fit.valLosses()[0]);
    }
    if (mlpEpochs > 0) {
      FeatureRows mlpTrain = train;
      int[] mlpY = y;
      if (mlpRows > 0 && mlpRows < n) {
        int[] first = new int[mlpRows];
        for (int i = 0; i < mlpRows; i++) {
          first[i] = i;
        }
        mlpTrain = train.reordered(first);
        mlpY = java.util.Arrays.copyOf(y, mlpRows);
      }
      MlpSettings settings = new MlpSettings(2048, 0.1, 1e-4, 64, mlpEpochs, mlpEpochs, 0.0);
      long t = System.nanoTime();
      MlpProbeTrainer.Fit fit = MlpProbeTrainer.train(mlpTrain, mlpY, val, vy, settings, 0, Device.cpu());
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf("mlp: h=2048, %d epoch(s) over %d train rows (+ val loss over %d rows each epoch) in %.1f s "
          + "= %.1f us per train row-epoch; best val loss %.4f%n", fit.epochsRun(), mlpTrain.rows(), nVal, s,
          s * 1e6 / ((double) mlpTrain.rows() * fit.epochsRun()), fit.bestValLoss());
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM")) {
        long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
        System.out.printf("peak RSS (VmHWM): %s%n", ProbeTaskMemory.human(kb * 1024));
      }
    }
  }

  /** Gaussian features, label from a noisy linear score of the first 16, values kept in fp16. */
  private static HalfRows fill(int d, int n, int[] y, SplittableRandom random) {
    HalfRows rows = new HalfRows(d, n);
    float[] x = new float[d];
    for (int i = 0; i < n; i++) {
      double score = 0;
      for (int j = 0; j < d; j++) {
        x[j] = (float) gaussian(random);
        if (j < 16) {
          score += x[j];
        }
      }
      y[i] = score / 4 + gaussian(random) > 0 ? 1 : 0;
      rows.add(x);
    }
    return rows;
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller, one of the pair.
    return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
  }
}
