package dev.knowable.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model per executor JVM, keyed by (model path, engine, device): every task
 * thread of the JVM shares it. Models are closed when the JVM exits.
 */
public final class ModelRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
  private static final Map<String, LanguageModel> MODELS = new ConcurrentHashMap<>();
  private static volatile boolean threadsSet;
  public static final String PYTORCH = "pytorch";
  public static final String ONNXRUNTIME = "onnxruntime";
  /** Engines this build ships, as knowable.models.<role>.engine names them. */
  public static final java.util.List<String> ENGINES = java.util.List.of(PYTORCH, ONNXRUNTIME);

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ModelRegistry::closeAll, "knowable-model-close"));
  }

  private ModelRegistry() {}

  /**
   * The shared model for a directory and device, loading it on first use.
   *
   * @param engine {@link #PYTORCH} (model.pt via DJL) or {@link #ONNXRUNTIME} (model.onnx, CPU)
   * @param threads intra-op threads: torch's, set once per JVM before its first load; ORT's, per session
   */
  public static LanguageModel get(Path dir, String engine, Device device, int threads) {
    String eng = engine.toLowerCase(java.util.Locale.ROOT);
    if (!ENGINES.contains(eng)) {
      throw new ModelException("Unknown model engine '" + engine + "'; expected one of " + ENGINES);
    }
    if (eng.equals(ONNXRUNTIME) && !ai.djl.Device.Type.CPU.equals(device.getDeviceType())) {
      // The default build bundles ORT's CPU natives only (docs/ENGINES.md: GPU clusters use pytorch).
      throw new ModelException("Engine 'onnxruntime' runs on the CPU in this build; " + device
          + " needs engine 'pytorch'");
    }
    if (eng.equals(PYTORCH) && !threadsSet) {
      synchronized (ModelRegistry.class) {
        if (!threadsSet) {
          // Oversubscribed OpenMP threads slowed libtorch 10-25x on a busy machine (STACK.md).
          // Interop threads can only be set before the engine starts: DJL reads this property.
          if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
          }
          ai.djl.engine.Engine.getEngine("PyTorch"); // loads the native library first
          JniUtils.setNumThreads(Math.max(1, threads));
          threadsSet = true;
        }
      }
    }
    String key = dir.toAbsolutePath().normalize() + "|" + eng + "|" + device;
    return MODELS.computeIfAbsent(key, k -> {
      long start = System.nanoTime();
      ModelContract contract = ModelContract.read(dir);
      LanguageModel m = eng.equals(ONNXRUNTIME) ? OnnxModel.load(contract, threads)
          : TorchScriptModel.load(contract, device);
      LOG.info("Loaded {} model {} ({} layers, d={}, vocab {}/{}) on {} in {} ms", eng, contract.name(),
          contract.numLayers(), contract.hiddenSize(), contract.vocabLimit(), contract.vocabSize(), device,
          (System.nanoTime() - start) / 1_000_000);
      return m;
    });
  }

  /** Closes and forgets every loaded model (tests; JVM exit). */
  public static void closeAll() {
    MODELS.values().forEach(m -> {
      try {
        m.close();
      } catch (RuntimeException e) {
        LOG.warn("Closing model failed: {}", e.getMessage());
      }
    });
    MODELS.clear();
  }
}
