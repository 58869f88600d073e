package dev.knowable.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ONNX export ({@code model.onnx}) run by ONNX Runtime on the CPU.
 *
 * <p>Outputs are bound to direct buffers allocated here (ORT "pinned outputs"), so ORT writes
 * logits and hidden states straight into memory the JVM reads without a copy; entropy,
 * top-k and log-probs are then reduced in Java, in double precision, over the first
 * vocab_limit logits of the unpadded positions only. A contract v2 export computes
 * entropy, top-k and log-probs in its graph: only those and the requested hidden states
 * come back, no logits.
 */
public final class OnnxModel extends ContractModel {
  public static final String ONNX = "model.onnx";
  private static final String IDS = "input_ids";
  private static final String MASK = "attention_mask";
  private static final String LOGITS = "logits";
  private static final String HIDDEN = "hidden_states";
  private static final String LAYERS = "layers";
  private static final String PROBES = "probe_ids";
  private static final List<String> V2_OUTPUTS =
      List.of("entropy", "topk_ids", "topk_logprobs", "next_logprob", "probe_logprobs", HIDDEN);

  private final ModelContract contract;
  private final OrtEnvironment env;
  private final OrtSession session;

  private OnnxModel(ModelContract contract, OrtEnvironment env, OrtSession session) {
    this.contract = contract;
    this.env = env;
    this.session = session;
  }

  /**
   * Loads {@code contract.dir()/model.onnx} and checks it on a 2x3 probe batch.
   *
   * @param threads intra-op threads (the task's cpus); inter-op is 1, one task thread per call
   */
  public static OnnxModel load(ModelContract contract, int threads) {
    Path file = contract.dir().resolve(ONNX);
    if (!Files.isRegularFile(file)) {
      throw new ModelException("Model directory " + contract.dir() + " has no " + ONNX + ", which engine "
          + "'onnxruntime' needs (export it with tools/knowable_lm/export.py, or set the engine to 'pytorch')");
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(Math.max(1, threads));
      opts.setInterOpNumThreads(1);
      opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = env.createSession(file.toString(), opts);
    } catch (OrtException e) {
      throw new ModelException("Cannot load ONNX model " + file + ": " + e.getMessage(), e);
    }
    OnnxModel m = new OnnxModel(contract, env, session);
    try {
      m.checkSignature();
      m.score(List.of(new int[] {0, 1, 2}, new int[] {3}), new ScoreRequest(contract.vocabLimit(), 1, List.of()));
    } catch (RuntimeException e) {
      m.close();
      throw e instanceof ModelException ? e : new ModelException("Model " + file
          + " fails a contract check forward pass: " + e.getMessage(), e);
    }
    return m;
  }

  private void checkSignature() {
    String where = "Model " + contract.dir().resolve(ONNX);
    if (contract.version() == 2) {
      checkSignatureV2(where);
      return;
    }
    try {
      Map<String, NodeInfo> in = session.getInputInfo();
      Map<String, NodeInfo> out = session.getOutputInfo();
      if (!in.keySet().equals(java.util.Set.of(IDS, MASK)) || !out.keySet().equals(java.util.Set.of(LOGITS, HIDDEN))) {
        throw new ModelException(where + " has inputs " + in.keySet() + " and outputs " + out.keySet()
            + "; the contract is (input_ids, attention_mask) -> (logits, hidden_states) - see docs/MODEL_CONTRACT.md");
      }
      for (String o : List.of(LOGITS, HIDDEN)) {
        OnnxJavaType type = ((TensorInfo) out.get(o).getInfo()).type;
        if (type != OnnxJavaType.FLOAT) {
          // Pinned outputs are fp32 buffers; fp16/bf16 exports are for GPUs and the pytorch engine.
          throw new ModelException(where + " returns " + o + " as " + type + "; engine 'onnxruntime' runs fp32 "
              + "exports only (use engine 'pytorch' for fp16/bf16)");
        }
      }
    } catch (OrtException e) {
      throw new ModelException(where + ": cannot read its signature: " + e.getMessage(), e);
    }
  }

  private void checkSignatureV2(String where) {
    try {
      Map<String, NodeInfo> in = session.getInputInfo();
      Map<String, NodeInfo> out = session.getOutputInfo();
      if (!in.keySet().equals(java.util.Set.of(IDS, MASK, LAYERS, PROBES))
          || !out.keySet().equals(java.util.Set.copyOf(V2_OUTPUTS))) {
        throw new ModelException(where + " has inputs " + in.keySet() + " and outputs " + out.keySet()
            + "; contract v2 is (input_ids, attention_mask, layers, probe_ids) -> " + V2_OUTPUTS
            + " - see docs/MODEL_CONTRACT.md");
      }
      for (String o : V2_OUTPUTS) {
        OnnxJavaType type = ((TensorInfo) out.get(o).getInfo()).type;
        OnnxJavaType want = o.equals("topk_ids") ? OnnxJavaType.INT64 : OnnxJavaType.FLOAT;
        if (type != want) {
          throw new ModelException(where + " returns " + o + " as " + type + ", expected " + want
              + "; engine 'onnxruntime' runs fp32 exports only (use engine 'pytorch' for fp16/bf16)");
        }
      }
    } catch (OrtException e) {
      throw new ModelException(where + ": cannot read its signature: " + e.getMessage(), e);
    }
  }

  @Override
  public ModelContract contract() {
    return contract;
  }

  /** Contract v2 outputs of one batch, copied out of ORT's tensors ([B*T] row-major). */
  private record OutputsV2(float[] entropy, long[] topkIds, float[] topkLogprobs, float[] next, float[] probes,
      float[] hidden, int b, int t) {}

  private OutputsV2 forwardV2(List<int[]> sequences, int t, long[] layers, long[] probes, int p) {
    int b = sequences.size();
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    for (int i = 0; i < b; i++) {
      int[] s = sequences.get(i);
      for (int j = 0; j < s.length; j++) {
        ids[i * t + j] = s[j];
        mask[i * t + j] = 1;
      }
    }
    long[] shape = {b, t};
    try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor maskT = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor layersT = OnnxTensor.createTensor(env, LongBuffer.wrap(layers), new long[] {layers.length});
        OnnxTensor probesT = OnnxTensor.createTensor(env, LongBuffer.wrap(probes), new long[] {b, p});
        OrtSession.Result r = session.run(Map.of(IDS, idsT, MASK, maskT, LAYERS, layersT, PROBES, probesT))) {
      float[][] f = new float[V2_OUTPUTS.size()][];
      long[] topIds = null;
      long k = contract.topK();
      long[][] want = {{b, t}, {b, t, k}, {b, t, k}, {b, t}, {b, t, p}, {layers.length, b, t, contract.hiddenSize()}};
      for (int o = 0; o < V2_OUTPUTS.size(); o++) {
        OnnxTensor x = (OnnxTensor) r.get(V2_OUTPUTS.get(o)).orElseThrow();
        long[] got = x.getInfo().getShape();
        if (!java.util.Arrays.equals(got, want[o])) {
          throw new ModelException("Model " + contract.dir().resolve(ONNX) + " (contract v2) returned "
              + V2_OUTPUTS.get(o) + " of shape " + java.util.Arrays.toString(got) + ", expected "
              + java.util.Arrays.toString(want[o]) + " (top_k and hidden_size from knowable.json)");
        }
        if (o == 1) {
          LongBuffer lb = x.getLongBuffer();
          topIds = new long[lb.remaining()];
          lb.get(topIds);
        } else {
          FloatBuffer fb = x.getFloatBuffer();
          f[o] = new float[fb.remaining()];
          fb.get(f[o]);
        }
      }
      return new OutputsV2(f[0], topIds, f[2], f[3], f[4], f[5], b, t);
    } catch (OrtException e) {
      throw new ModelException("Model " + contract.dir().resolve(ONNX) + " failed on a [" + b + ", " + t
          + "] batch: " + e.getMessage(), e);
    }
  }

  private List<SequenceScores> scoreV2(List<int[]> sequences, ScoreRequest request) {
    contract.requireScorable(request.vocabLimit(), request.topK(), "Score request");
    int b = sequences.size();
    int t = longest(sequences);
    int k = request.topK();
    int kk = contract.topK();
    int d = contract.hiddenSize();
    int n = request.layers().size();
    int layersTotal = contract.numLayers() + 1;
    long[] layers = new long[Math.max(1, n)];
    layers[0] = contract.numLayers(); // with no layer requested: one, not read back
    for (int li = 0; li < n; li++) {
      int l = request.layers().get(li);
      int abs = l < 0 ? l + layersTotal : l;
      if (abs < 0 || abs >= layersTotal) {
        throw new IllegalArgumentException("Hidden layer " + l + " outside 0.." + (layersTotal - 1));
      }
      layers[li] = abs;
    }
    OutputsV2 o = forwardV2(sequences, t, layers, new long[b], 1);
    List<SequenceScores> result = new ArrayList<>(b);
    for (int i = 0; i < b; i++) {
      int len = sequences.get(i).length;
      int row = i * t;
      float[] e = java.util.Arrays.copyOfRange(o.entropy(), row, row + len);
      float[] nl = java.util.Arrays.copyOfRange(o.next(), row, row + len);
      int[] ti = new int[len * k];
      float[] tv = new float[len * k];
      for (int pos = 0; pos < len; pos++) {
        for (int j = 0; j < k; j++) {
          ti[pos * k + j] = (int) o.topkIds()[(row + pos) * kk + j];
          tv[pos * k + j] = o.topkLogprobs()[(row + pos) * kk + j];
        }
      }
      float[][] hs = new float[n][];
      for (int li = 0; li < n; li++) {
        int from = ((li * b + i) * t) * d;
        hs[li] = java.util.Arrays.copyOfRange(o.hidden(), from, from + len * d);
      }
      result.add(new SequenceScores(len, k, e, ti, tv, hs, nl));
    }
    return result;
  }

  @Override
  List<LastPosition> scoreLastV2(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds) {
    contract.requireScorable(vocabLimit, topK, "scoreLast");
    int b = sequences.size();
    int t = longest(sequences);
    int p = LanguageModel.probeWidth(probeIds);
    long[] probes = LanguageModel.probeRectangle(probeIds, p);
    OutputsV2 o = forwardV2(sequences, t, new long[] {contract.numLayers()}, probes, p);
    int kk = contract.topK();
    List<LastPosition> result = new ArrayList<>(b);
    for (int i = 0; i < b; i++) {
      int last = i * t + sequences.get(i).length - 1;
      int[] ids = new int[topK];
      float[] vals = new float[topK];
      for (int j = 0; j < topK; j++) {
        ids[j] = (int) o.topkIds()[last * kk + j];
        vals[j] = o.topkLogprobs()[last * kk + j];
      }
      float[] pv = java.util.Arrays.copyOfRange(o.probes(), last * p, last * p + probeIds[i].length);
      result.add(new LastPosition(o.entropy()[last], ids, vals, pv));
    }
    return result;
  }

  /** One forward pass: logits [B,T,V] and hidden states [L+1,B,T,d] in direct buffers. */
  private record Outputs(FloatBuffer logits, FloatBuffer hidden, int b, int t) {}

  private Outputs forward(List<int[]> sequences, int t) {
    int b = sequences.size();
    LongBuffer ids = direct(8L * b * t).asLongBuffer();
    LongBuffer mask = direct(8L * b * t).asLongBuffer();
    for (int i = 0; i < b; i++) {
      int[] s = sequences.get(i);
      for (int j = 0; j < t; j++) {
        ids.put(j < s.length ? s[j] : 0);
        mask.put(j < s.length ? 1 : 0);
      }
    }
    ids.rewind();
    mask.rewind();
    int v = contract.vocabSize();
    int d = contract.hiddenSize();
    FloatBuffer logits = direct(4L * b * t * v).asFloatBuffer();
    FloatBuffer hidden = direct(4L * (contract.numLayers() + 1) * b * t * d).asFloatBuffer();
    long[] shape = {b, t};
    try (OnnxTensor idsT = OnnxTensor.createTensor(env, ids, shape);
        OnnxTensor maskT = OnnxTensor.createTensor(env, mask, shape);
        OnnxTensor logitsT = OnnxTensor.createTensor(env, logits, new long[] {b, t, v});
        OnnxTensor hiddenT = OnnxTensor.createTensor(env, hidden, new long[] {contract.numLayers() + 1, b, t, d});
        OrtSession.Result r = session.run(Map.of(IDS, idsT, MASK, maskT), Map.of(LOGITS, logitsT, HIDDEN, hiddenT))) {
      // Outputs live in our buffers; closing the result and tensors leaves them intact.
    } catch (OrtException e) {
      throw new ModelException("Model " + contract.dir().resolve(ONNX) + " failed on a [" + b + ", " + t
          + "] batch (shapes must be logits[B,T,vocab_size], hidden_states[L+1,B,T,d]): " + e.getMessage(), e);
    }
    return new Outputs(logits, hidden, b, t);
  }

  private static ByteBuffer direct(long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Batch too large for one buffer: " + bytes + " bytes; lower the token budget");
    }
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
  }

  @Override
  public List<SequenceScores> score(List<int[]> sequences, ScoreRequest request) {
    if (contract.version() == 2 && !sequences.isEmpty()) {
      return scoreV2(sequences, request);
    }
    int vl = request.vocabLimit();
    if (vl < 1 || vl > contract.vocabSize()) {
      throw new IllegalArgumentException("vocabLimit " + vl + " outside 1.." + contract.vocabSize());
    }
    int k = request.topK();
    if (k > vl) {
      throw new IllegalArgumentException("topK " + k + " outside 1.." + vl + " (vocabLimit)");
    }
    int b = sequences.size();
    if (b == 0) {
      return List.of();
    }
    int t = longest(sequences);
    Outputs o = forward(sequences, t);
    int v = contract.vocabSize();
    int d = contract.hiddenSize();
    int layersTotal = contract.numLayers() + 1;
    float[] row = new float[vl];
    List<SequenceScores> result = new ArrayList<>(b);
    for (int i = 0; i < b; i++) {
      int len = sequences.get(i).length;
      float[] e = new float[len];
      int[] ti = new int[len * k];
      float[] tv = new float[len * k];
      for (int p = 0; p < len; p++) {
        o.logits.get((i * t + p) * v, row, 0, vl);
        e[p] = reduce(row, vl, k, ti, tv, p * k);
      }
      float[][] hs = new float[request.layers().size()][];
      for (int li = 0; li < hs.length; li++) {
        int layer = request.layers().get(li);
        if (layer < 0) {
          layer += layersTotal; // Python-style negative index, as the pytorch engine accepts
        }
        if (layer < 0 || layer >= layersTotal) {
          throw new IllegalArgumentException("Hidden layer " + request.layers().get(li) + " outside 0.." + (layersTotal - 1));
        }
        hs[li] = new float[len * d];
        o.hidden.get(((layer * b + i) * t) * d, hs[li], 0, len * d);
      }
      result.add(new SequenceScores(len, k, e, ti, tv, hs, null));
    }
    return result;
  }

  @Override
  List<LastPosition> scoreLastV1(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds) {
    int b = sequences.size();
    int t = longest(sequences);
    Outputs o = forward(sequences, t);
    int v = contract.vocabSize();
    float[] row = new float[vocabLimit];
    List<LastPosition> result = new ArrayList<>(b);
    for (int i = 0; i < b; i++) {
      o.logits.get((i * t + sequences.get(i).length - 1) * v, row, 0, vocabLimit);
      int[] ids = new int[topK];
      float[] vals = new float[topK];
      float h = reduce(row, vocabLimit, topK, ids, vals, 0);
      double logZ = logSumExp(row, vocabLimit);
      float[] pv = new float[probeIds[i].length];
      for (int j = 0; j < pv.length; j++) {
        pv[j] = (float) (row[probeIds[i][j]] - logZ);
      }
      result.add(new LastPosition(h, ids, vals, pv));
    }
    return result;
  }

  private static double logSumExp(float[] x, int n) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      max = Math.max(max, x[j]);
    }
    double sum = 0;
    for (int j = 0; j < n; j++) {
      sum += Math.exp(x[j] - max);
    }
    return max + Math.log(sum);
  }

  /**
   * Entropy (nats) of softmax(x[0..n)) and its top-k log-probs, most probable first (ties:
   * lower id first), written at {@code at}. Entropy = logZ - sum p*x, with p = 0 terms
   * (masked -inf logits) skipped so they count 0 * log 0 = 0.
   */
  static float reduce(float[] x, int n, int k, int[] topIds, float[] topVals, int at) {
    double logZ = logSumExp(x, n);
    double px = 0;
    for (int j = 0; j < n; j++) {
      double p = Math.exp(x[j] - logZ);
      if (p > 0) {
        px += p * x[j];
      }
    }
    // Insertion into a sorted k-slot window: k is small (<= 10 in practice), n a few thousand.
    int filled = 0;
    for (int j = 0; j < n; j++) {
      float xj = x[j];
      if (filled == k && !(xj > x[topIds[at + k - 1]])) {
        continue;
      }
      int pos = filled == k ? k - 1 : filled++;
      while (pos > 0 && xj > x[topIds[at + pos - 1]]) {
        topIds[at + pos] = topIds[at + pos - 1];
        pos--;
      }
      topIds[at + pos] = j;
    }
    for (int r = 0; r < k; r++) {
      topVals[at + r] = (float) (x[topIds[at + r]] - logZ);
    }
    return (float) (logZ - px);
  }

  private int longest(List<int[]> sequences) {
    int t = 0;
    for (int[] s : sequences) {
      if (s.length == 0 || s.length > contract.maxContext()) {
        throw new IllegalArgumentException("Sequence length " + s.length + " outside 1.." + contract.maxContext()
            + " (the model's max_context)");
      }
      t = Math.max(t, s.length);
    }
    return t;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new ModelException("Closing " + contract.dir().resolve(ONNX) + " failed: " + e.getMessage(), e);
    }
  }
}
