package dev.knowable.probe;

import java.io.Serializable;

/**
 * The fitted MLP probe, Linear(d, h) -> ReLU -> Linear(h, 2) (dropout is off at inference),
 * with weights laid out as PyTorch/DJL store them: {@code w1[j * d + i]} is the weight
 * from input i to hidden unit j, {@code w2[c * h + j]} from hidden unit j to class c.
 * Scoring runs in plain Java so evaluation needs no native engine.
 */
public record MlpWeights(int inputDim, int hiddenDim, float[] w1, float[] b1, float[] w2, float[] b2)
    implements Serializable {

  public MlpWeights {
    if (w1.length != hiddenDim * inputDim || b1.length != hiddenDim || w2.length != 2 * hiddenDim
        || b2.length != 2) {
      throw new IllegalArgumentException("MLP weight shapes do not match d=" + inputDim + ", h=" + hiddenDim);
    }
  }

  /** P(class 1 | x) = softmax(logits)[1]. */
  public double probabilityOfClass1(float[] x) {
    if (x.length != inputDim) {
      throw new IllegalArgumentException("feature vector has length " + x.length + ", the probe expects " + inputDim);
    }
    double logit0 = b2[0];
    double logit1 = b2[1];
    for (int j = 0; j < hiddenDim; j++) {
      double a = b1[j];
      int row = j * inputDim;
      for (int i = 0; i < inputDim; i++) {
        a += w1[row + i] * x[i];
      }
      if (a > 0) {
        logit0 += w2[j] * a;
        logit1 += w2[hiddenDim + j] * a;
      }
    }
    return 1.0 / (1.0 + Math.exp(logit0 - logit1));
  }
}
