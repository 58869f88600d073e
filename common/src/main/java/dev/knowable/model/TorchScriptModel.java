package dev.knowable.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.translate.NoopTranslator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A TorchScript export run by DJL's PyTorch engine.
 *
 * <p>Per batch: the ids and mask are built in a sub-{@link NDManager} that is closed when
 * the batch is done, so native memory does not grow. Contract v1: logits are cut to
 * vocab_limit, cast to fp32 and reduced to entropy and top-k on the device. Contract v2:
 * the graph itself returns entropy, top-k and log-probs, and only the requested hidden
 * layers; no [B, T, V] tensor exists outside it. Either way the unpadded positions alone
 * are copied back.
 */
public final class TorchScriptModel extends ContractModel {
  private final ModelContract contract;
  private final ZooModel<NDList, NDList> model;
  private final Device device;

  private TorchScriptModel(ModelContract contract, ZooModel<NDList, NDList> model, Device device) {
    this.contract = contract;
    this.model = model;
    this.device = device;
  }

  /** Loads {@code contract.dir()/model.pt} onto {@code device} and checks it on a 2x3 probe batch. */
  public static TorchScriptModel load(ModelContract contract, Device device) {
    Criteria<NDList, NDList> criteria = Criteria.builder()
        .setTypes(NDList.class, NDList.class)
        .optModelPath(contract.dir())
        .optModelName("model")
        .optEngine("PyTorch")
        .optDevice(device)
        .optOption("mapLocation", "true")
        .optTranslator(new NoopTranslator())
        .build();
    ZooModel<NDList, NDList> zoo;
    try {
      zoo = criteria.loadModel();
    } catch (IOException | ModelNotFoundException | MalformedModelException | RuntimeException e) {
      throw new ModelException("Cannot load TorchScript " + contract.dir().resolve(ModelContract.TORCHSCRIPT)
          + " on " + device + ": " + e.getMessage(), e);
    }
    TorchScriptModel m = new TorchScriptModel(contract, zoo, device);
    try {
      m.score(List.of(new int[] {0, 1, 2}, new int[] {3}), new ScoreRequest(contract.vocabLimit(), 1, List.of()));
    } catch (RuntimeException e) {
      zoo.close();
      throw e instanceof ModelException ? e : new ModelException("Model " + contract.dir()
          + " fails a contract check forward pass: " + e.getMessage(), e);
    }
    return m;
  }

  @Override
  public ModelContract contract() {
    return contract;
  }

  public Device device() {
    return device;
  }

  @Override
  public List<SequenceScores> score(List<int[]> sequences, ScoreRequest request) {
    if (contract.version() == 2) {
      return scoreV2(sequences, request);
    }
    int b = sequences.size();
    int t = longest(sequences);
    int n = 0;
    boolean[] real = new boolean[b * t];
    for (int i = 0; i < b; i++) {
      int len = sequences.get(i).length;
      n += len;
      for (int j = 0; j < len; j++) {
        real[i * t + j] = true;
      }
    }
    int k = request.topK();
    int d = contract.hiddenSize();
    // Torch's grad mode is per thread: every task thread turns it off for itself.
    JniUtils.setGradMode(false);
    try (NDManager batch = model.getNDManager().newSubManager(device)) {
      NDList out = forward(batch, sequences, t);
      NDArray keep = batch.create(real, new Shape((long) b * t, 1));
      NDArray logits = realRows(out.get(0).get(":, :, :" + request.vocabLimit()).toType(DataType.FLOAT32, false)
          .reshape(new Shape((long) b * t, request.vocabLimit())), keep);
      NDArray logp = logits.logSoftmax(1);
      NDArray entropy = entropy(logp);
      NDList top = logp.topK(k, 1, true, true);
      float[] h = entropy.toFloatArray();
      float[] topVals = top.get(0).toFloatArray();
      long[] topIdx = top.get(1).toType(DataType.INT64, false).toLongArray();
      float[][][] layers = new float[request.layers().size()][][];
      NDArray hidden = out.get(1);
      for (int li = 0; li < request.layers().size(); li++) {
        float[] flat = realRows(hidden.get(request.layers().get(li)).toType(DataType.FLOAT32, false)
            .reshape(new Shape((long) b * t, d)), keep).toFloatArray();
        layers[li] = splitRows(flat, sequences, d);
      }
      List<SequenceScores> result = new ArrayList<>(b);
      int offset = 0;
      for (int i = 0; i < b; i++) {
        int len = sequences.get(i).length;
        float[] e = new float[len];
        System.arraycopy(h, offset, e, 0, len);
        int[] ti = new int[len * k];
        float[] tv = new float[len * k];
        for (int j = 0; j < len * k; j++) {
          ti[j] = (int) topIdx[offset * k + j];
          tv[j] = topVals[offset * k + j];
        }
        float[][] hs = new float[layers.length][];
        for (int li = 0; li < layers.length; li++) {
          hs[li] = layers[li][i];
        }
        result.add(new SequenceScores(len, k, e, ti, tv, hs, null));
        offset += len;
      }
      if (offset != n) {
        throw new IllegalStateException("Read back " + offset + " positions, expected " + n);
      }
      return result;
    }
  }

  @Override
  List<LastPosition> scoreLastV1(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds) {
    int b = sequences.size();
    int t = longest(sequences);
    // Row of each sequence's last real token in the flattened [B*T] positions (right padding).
    long[] lastRow = new long[b];
    int probes = 0;
    for (int i = 0; i < b; i++) {
      lastRow[i] = (long) i * t + sequences.get(i).length - 1;
      probes += probeIds[i].length;
    }
    // Probe ids as flat indices into the [B, vocabLimit] log-probs, so one take() reads them all.
    long[] probeFlat = new long[probes];
    int pi = 0;
    for (int i = 0; i < b; i++) {
      for (int id : probeIds[i]) {
        probeFlat[pi++] = (long) i * vocabLimit + id;
      }
    }
    JniUtils.setGradMode(false);
    try (NDManager batch = model.getNDManager().newSubManager(device)) {
      NDList out = forward(batch, sequences, t);
      NDArray last = out.get(0).reshape(new Shape((long) b * t, contract.vocabSize())).get(batch.create(lastRow));
      NDArray logp = last.get(":, :" + vocabLimit).toType(DataType.FLOAT32, false).logSoftmax(1);
      float[] h = entropy(logp).toFloatArray();
      NDList top = logp.topK(topK, 1, true, true);
      float[] topVals = top.get(0).toFloatArray();
      long[] topIdx = top.get(1).toType(DataType.INT64, false).toLongArray();
      float[] probeVals = probes == 0 ? new float[0] : logp.reshape(-1).take(batch.create(probeFlat)).toFloatArray();
      List<LastPosition> result = new ArrayList<>(b);
      pi = 0;
      for (int i = 0; i < b; i++) {
        int[] ids = new int[topK];
        float[] vals = new float[topK];
        for (int j = 0; j < topK; j++) {
          ids[j] = (int) topIdx[i * topK + j];
          vals[j] = topVals[i * topK + j];
        }
        float[] pv = new float[probeIds[i].length];
        System.arraycopy(probeVals, pi, pv, 0, pv.length);
        pi += pv.length;
        result.add(new LastPosition(h[i], ids, vals, pv));
      }
      return result;
    }
  }

  /** Contract v2: the graph's own entropy, top-k, next-token log-probs and selected layers. */
  private List<SequenceScores> scoreV2(List<int[]> sequences, ScoreRequest request) {
    contract.requireScorable(request.vocabLimit(), request.topK(), "Score request");
    int b = sequences.size();
    if (b == 0) {
      return List.of();
    }
    int t = longest(sequences);
    boolean[] real = realPositions(sequences, t);
    int k = request.topK();
    int d = contract.hiddenSize();
    int nLayers = request.layers().size();
    long[] layerIdx = new long[Math.max(1, nLayers)];
    layerIdx[0] = contract.numLayers(); // with no layer requested: one, not read back
    for (int li = 0; li < nLayers; li++) {
      layerIdx[li] = layerIndex(request.layers().get(li));
    }
    JniUtils.setGradMode(false);
    try (NDManager batch = model.getNDManager().newSubManager(device)) {
      NDList out = forwardV2(batch, sequences, t, layerIdx, new long[b], 1);
      long bt = (long) b * t;
      NDArray keep = batch.create(real, new Shape(bt, 1));
      float[] h = realRows(out.get(0).reshape(bt, 1), keep).toFloatArray();
      NDArray ids = out.get(1).get(":, :, :" + k).reshape(bt, k);
      long[] topIdx = realRows(ids, keep).toType(DataType.INT64, false).toLongArray();
      float[] topVals = realRows(out.get(2).get(":, :, :" + k).reshape(bt, k), keep).toFloatArray();
      float[] next = realRows(out.get(3).reshape(bt, 1), keep).toFloatArray();
      float[][][] layers = new float[nLayers][][];
      for (int li = 0; li < nLayers; li++) {
        float[] flat = realRows(out.get(5).get(li).toType(DataType.FLOAT32, false).reshape(bt, d), keep)
            .toFloatArray();
        layers[li] = splitRows(flat, sequences, d);
      }
      List<SequenceScores> result = new ArrayList<>(b);
      int offset = 0;
      for (int i = 0; i < b; i++) {
        int len = sequences.get(i).length;
        float[] e = java.util.Arrays.copyOfRange(h, offset, offset + len);
        float[] nl = java.util.Arrays.copyOfRange(next, offset, offset + len);
        float[] tv = java.util.Arrays.copyOfRange(topVals, offset * k, (offset + len) * k);
        int[] ti = new int[len * k];
        for (int j = 0; j < len * k; j++) {
          ti[j] = (int) topIdx[offset * k + j];
        }
        float[][] hs = new float[nLayers][];
        for (int li = 0; li < nLayers; li++) {
          hs[li] = layers[li][i];
        }
        result.add(new SequenceScores(len, k, e, ti, tv, hs, nl));
        offset += len;
      }
      return result;
    }
  }

  /** Contract v2: the last position's entropy, top-k and probe log-probs, read from the graph's outputs. */
  @Override
  List<LastPosition> scoreLastV2(List<int[]> sequences, int vocabLimit, int topK, int[][] probeIds) {
    contract.requireScorable(vocabLimit, topK, "scoreLast");
    int b = sequences.size();
    int t = longest(sequences);
    int p = LanguageModel.probeWidth(probeIds);
    long[] probes = LanguageModel.probeRectangle(probeIds, p);
    long[] lastRow = new long[b];
    for (int i = 0; i < b; i++) {
      lastRow[i] = (long) i * t + sequences.get(i).length - 1;
    }
    JniUtils.setGradMode(false);
    try (NDManager batch = model.getNDManager().newSubManager(device)) {
      NDList out = forwardV2(batch, sequences, t, new long[] {contract.numLayers()}, probes, p);
      long bt = (long) b * t;
      NDArray rows = batch.create(lastRow);
      float[] h = out.get(0).reshape(bt).get(rows).toFloatArray();
      long[] topIdx = out.get(1).reshape(bt, contract.topK()).get(rows).get(":, :" + topK)
          .toType(DataType.INT64, false).toLongArray();
      float[] topVals = out.get(2).reshape(bt, contract.topK()).get(rows).get(":, :" + topK).toFloatArray();
      float[] probeVals = out.get(4).reshape(bt, p).get(rows).toFloatArray();
      List<LastPosition> result = new ArrayList<>(b);
      for (int i = 0; i < b; i++) {
        int[] ids = new int[topK];
        for (int j = 0; j < topK; j++) {
          ids[j] = (int) topIdx[i * topK + j];
        }
        float[] vals = java.util.Arrays.copyOfRange(topVals, i * topK, (i + 1) * topK);
        float[] pv = java.util.Arrays.copyOfRange(probeVals, i * p, i * p + probeIds[i].length);
        result.add(new LastPosition(h[i], ids, vals, pv));
      }
      return result;
    }
  }

  /** A requested hidden-state index as 0..L (negative counts from the end, as in v1's indexing). */
  private long layerIndex(int layer) {
    int total = contract.numLayers() + 1;
    int abs = layer < 0 ? layer + total : layer;
    if (abs < 0 || abs >= total) {
      throw new IllegalArgumentException("Hidden layer " + layer + " outside 0.." + (total - 1));
    }
    return abs;
  }

  private static boolean[] realPositions(List<int[]> sequences, int t) {
    boolean[] real = new boolean[sequences.size() * t];
    for (int i = 0; i < sequences.size(); i++) {
      for (int j = 0; j < sequences.get(i).length; j++) {
        real[i * t + j] = true;
      }
    }
    return real;
  }

  /**
   * Entropy in nats along the last axis of log-probabilities. A -inf log-prob (a masked
   * logit) has p = 0 and counts 0 * log 0 = 0; computed naively it would be 0 * -inf = NaN.
   */
  static NDArray entropy(NDArray logp) {
    NDArray p = logp.exp();
    NDArray plogp = NDArrays.where(p.eq(0), p.zerosLike(), p.mul(logp));
    return plogp.sum(new int[] {logp.getShape().dimension() - 1}).neg();
  }

  /** Length of the longest sequence, after checking each fits the model. */
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

  /** Forward pass of a right-padded [B, T] batch (mask 1 on real tokens), outputs checked. */
  private NDList forward(NDManager batch, List<int[]> sequences, int t) {
    int b = sequences.size();
    NDList in = inputs(batch, sequences, t);
    NDList out = model.getBlock().forward(new ParameterStore(batch, false), in, false);
    checkOutputs(out, b, t);
    return out;
  }

  /** Contract v2 forward pass: ids, mask, layer indices [n] and probe ids [B, p]; outputs checked. */
  private NDList forwardV2(NDManager batch, List<int[]> sequences, int t, long[] layers, long[] probes, int p) {
    int b = sequences.size();
    NDList in = inputs(batch, sequences, t);
    in.add(batch.create(layers));
    in.add(batch.create(probes, new Shape(b, p)));
    NDList out = model.getBlock().forward(new ParameterStore(batch, false), in, false);
    checkOutputsV2(out, b, t, layers.length, p);
    return out;
  }

  /** input_ids and attention_mask of a right-padded batch, ids checked against the vocabulary. */
  private NDList inputs(NDManager batch, List<int[]> sequences, int t) {
    int b = sequences.size();
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    for (int i = 0; i < b; i++) {
      int[] s = sequences.get(i);
      for (int j = 0; j < s.length; j++) {
        // An id without an embedding row would fail (on a GPU: poison the device) in native code.
        if (s[j] < 0 || s[j] >= contract.vocabSize()) {
          throw new IllegalArgumentException("Token id " + s[j] + " at position " + j + " of sequence " + i
              + " is outside the vocabulary 0.." + (contract.vocabSize() - 1) + " of model " + contract.name());
        }
        ids[i * t + j] = s[j];
        mask[i * t + j] = 1;
      }
    }
    return new NDList(batch.create(ids, new Shape(b, t)), batch.create(mask, new Shape(b, t)));
  }

  /** Rows of a [B*T, C] array at unpadded positions ({@code keep} is [B*T, 1] boolean). */
  private static NDArray realRows(NDArray rows, NDArray keep) {
    long cols = rows.getShape().get(1);
    return rows.booleanMask(keep.repeat(1, cols)).reshape(new Shape(-1, cols));
  }

  private static float[][] splitRows(float[] flat, List<int[]> sequences, int d) {
    float[][] out = new float[sequences.size()][];
    int offset = 0;
    for (int i = 0; i < sequences.size(); i++) {
      int len = sequences.get(i).length * d;
      out[i] = new float[len];
      System.arraycopy(flat, offset, out[i], 0, len);
      offset += len;
    }
    return out;
  }

  private void checkOutputs(NDList out, int b, int t) {
    String where = "Model " + contract.dir().resolve(ModelContract.TORCHSCRIPT);
    if (out.size() != 2) {
      throw new ModelException(where + " returned " + out.size() + " output(s); the contract is a pair "
          + "(logits[B,T,V], hidden_states[L+1,B,T,d]) - see docs/MODEL_CONTRACT.md");
    }
    Shape logits = out.get(0).getShape();
    Shape want = new Shape(b, t, contract.vocabSize());
    if (!logits.equals(want)) {
      throw new ModelException(where + " returned logits of shape " + logits + ", expected " + want
          + " (vocab_size from knowable.json)");
    }
    Shape hidden = out.get(1).getShape();
    Shape wantH = new Shape(contract.numLayers() + 1, b, t, contract.hiddenSize());
    if (!hidden.equals(wantH)) {
      throw new ModelException(where + " returned hidden_states of shape " + hidden + ", expected " + wantH
          + " ([num_layers+1, B, T, hidden_size] from knowable.json)");
    }
  }

  private void checkOutputsV2(NDList out, int b, int t, int n, int p) {
    String where = "Model " + contract.dir().resolve(ModelContract.TORCHSCRIPT) + " (contract v2)";
    if (out.size() != 6) {
      throw new ModelException(where + " returned " + out.size() + " output(s); contract v2 returns 6 (entropy, "
          + "topk_ids, topk_logprobs, next_logprob, probe_logprobs, hidden_states) - see docs/MODEL_CONTRACT.md");
    }
    int k = contract.topK();
    Shape[] want = {new Shape(b, t), new Shape(b, t, k), new Shape(b, t, k), new Shape(b, t), new Shape(b, t, p),
        new Shape(n, b, t, contract.hiddenSize())};
    String[] names = {"entropy", "topk_ids", "topk_logprobs", "next_logprob", "probe_logprobs", "hidden_states"};
    for (int i = 0; i < 6; i++) {
      if (!out.get(i).getShape().equals(want[i])) {
        throw new ModelException(where + " returned " + names[i] + " of shape " + out.get(i).getShape()
            + ", expected " + want[i] + " (top_k and hidden_size from knowable.json)");
      }
    }
  }

  /**
   * The model's LM head, cut to the first {@code vocabLimit} rows: logits = weight h + bias
   * over the final hidden state h (layer L, after the final norm).
   *
   * @param weight vocabLimit x d, row-major (row v = the output vector of id v), fp32
   * @param bias vocabLimit values, or null when the head has none
   * @param name the TorchScript parameter the weights came from
   */
  public record OutputWeights(int vocab, int dim, float[] weight, float[] bias, String name) {}

  /** Parameter names (last two segments) an LM head may have: GPT-NeoX, then most others. */
  static final List<String> HEAD_NAMES = List.of("embed_out", "lm_head");

  /**
   * Reads the LM head from the TorchScript module's named parameters: the first of
   * {@link #HEAD_NAMES} whose {@code <name>.weight} (any prefix, e.g. {@code model.}) exists,
   * and its {@code <name>.bias} if present; cut to the first {@code vocabLimit} ids.
   */
  public OutputWeights outputWeights(int vocabLimit) {
    contract.requireScorable(vocabLimit, 1, "Output weights");
    ai.djl.nn.ParameterList params = model.getBlock().getDirectParameters();
    List<String> names = params.keys();
    for (String head : HEAD_NAMES) {
      String weightName = find(names, head + ".weight");
      if (weightName == null) {
        continue;
      }
      String biasName = find(names, head + ".bias");
      JniUtils.setGradMode(false);
      NDArray w = params.get(weightName).getArray();
      Shape shape = w.getShape();
      if (shape.dimension() != 2 || shape.get(1) != contract.hiddenSize() || shape.get(0) < vocabLimit) {
        throw new ModelException("Model " + contract.dir() + ": parameter " + weightName + " has shape " + shape
            + ", expected [>= " + vocabLimit + ", " + contract.hiddenSize() + "]");
      }
      float[] weight = w.get(":" + vocabLimit + ", :").toType(DataType.FLOAT32, false).toFloatArray();
      float[] bias = biasName == null ? null
          : params.get(biasName).getArray().get(":" + vocabLimit).toType(DataType.FLOAT32, false).toFloatArray();
      return new OutputWeights(vocabLimit, contract.hiddenSize(), weight, bias, weightName);
    }
    throw new ModelException("Model " + contract.dir() + " has no LM head parameter named " + HEAD_NAMES.stream()
        .map(h -> h + ".weight").toList() + " among its " + names.size() + " parameters " + names);
  }

  private static String find(List<String> names, String suffix) {
    for (String n : names) {
      if (n.equals(suffix) || n.endsWith("." + suffix)) {
        return n;
      }
    }
    return null;
  }

  @Override
  public void close() {
    model.close();
  }
}
