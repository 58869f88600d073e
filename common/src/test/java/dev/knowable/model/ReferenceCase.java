package dev.knowable.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One case of a model's reference.json, produced by the Python module (tools/knowable_lm). */
public record ReferenceCase(String text, int[] inputIds, float[] entropy, int[] top1Id, float[] top1Prob,
    int[][] topkIds, float[][] topkLogprobs, Map<Integer, float[][]> hidden) {

  public static List<ReferenceCase> read(Path modelDir) {
    try {
      JsonNode root = new ObjectMapper().readTree(modelDir.resolve("reference.json").toFile());
      List<ReferenceCase> out = new ArrayList<>();
      for (JsonNode c : root.get("cases")) {
        Map<Integer, float[][]> hidden = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = c.get("hidden_states").fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          hidden.put(Integer.parseInt(e.getKey()), floats2(e.getValue()));
        }
        out.add(new ReferenceCase(c.get("text").asText(), ints(c.get("input_ids")), floats(c.get("entropy")),
            ints(c.get("top1_id")), floats(c.get("top1_prob")), ints2(c.get("topk_ids")),
            floats2(c.get("topk_logprobs")), hidden));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int[] ints(JsonNode n) {
    int[] a = new int[n.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = n.get(i).asInt();
    }
    return a;
  }

  private static float[] floats(JsonNode n) {
    float[] a = new float[n.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) n.get(i).asDouble();
    }
    return a;
  }

  private static int[][] ints2(JsonNode n) {
    int[][] a = new int[n.size()][];
    for (int i = 0; i < a.length; i++) {
      a[i] = ints(n.get(i));
    }
    return a;
  }

  private static float[][] floats2(JsonNode n) {
    float[][] a = new float[n.size()][];
    for (int i = 0; i < a.length; i++) {
      a[i] = floats(n.get(i));
    }
    return a;
  }
}
