package dev.knowable.label;

import java.io.Serializable;

/**
 * The labels of docs/METHOD.md section 4 for one in-band position, from H_S (small-model
 * entropy) and H_L (large-model entropy), both in nats. Comparisons run in fp32:
 * <pre>
 * class 0 (epistemic) = H_L &lt; epistemicMaxLargeEntropy            (strict; paper 0.2)
 * class 1 (aleatoric) = |H_L - H_S| &lt;= aleatoricMaxGap             (inclusive; paper 0.1)
 * otherwise           = dropped (the gap)
 * no-gap variant      = 1 if H_L &gt;= noGapThreshold else 0          (paper 0.5)
 * </pre>
 * If a band reaches so low that both class rules hold, class 0 wins (with the paper's
 * thresholds this needs H_S &lt; 0.3, below every useful band).
 */
public final class GapLabeler implements Serializable {
  private static final long serialVersionUID = 1L;
  /** The large model is confident: the small model's uncertainty is epistemic. */
  public static final int EPISTEMIC = 0;
  /** The large model is about as unsure: the uncertainty is aleatoric. Positive class of AUC. */
  public static final int ALEATORIC = 1;
  /** Falls in the gap between the classes. */
  public static final int DROPPED = -1;

  private final float epistemicMaxLargeEntropy;
  private final float aleatoricMaxGap;
  private final float noGapThreshold;
  /** The two gap thresholds as configured (double), for reports; labels compare the fp32 copies. */
  private final double configuredEpistemicMax;
  private final double configuredAleatoricGap;

  public GapLabeler(double epistemicMaxLargeEntropy, double aleatoricMaxGap, double noGapThreshold) {
    this.configuredEpistemicMax = epistemicMaxLargeEntropy;
    this.configuredAleatoricGap = aleatoricMaxGap;
    this.epistemicMaxLargeEntropy = (float) epistemicMaxLargeEntropy;
    this.aleatoricMaxGap = (float) aleatoricMaxGap;
    this.noGapThreshold = (float) noGapThreshold;
  }

  /** knowable.label.epistemic-max-large-entropy as configured. */
  public double epistemicMaxLargeEntropy() {
    return configuredEpistemicMax;
  }

  /** knowable.label.aleatoric-max-gap as configured. */
  public double aleatoricMaxGap() {
    return configuredAleatoricGap;
  }

  /** {@link #EPISTEMIC}, {@link #ALEATORIC} or {@link #DROPPED}. */
  public int gapLabel(float smallEntropy, float largeEntropy) {
    if (largeEntropy < epistemicMaxLargeEntropy) {
      return EPISTEMIC;
    }
    if (Math.abs(largeEntropy - smallEntropy) <= aleatoricMaxGap) {
      return ALEATORIC;
    }
    return DROPPED;
  }

  /** 1 when the large model is unsure (H_L &gt;= threshold), else 0. */
  public int noGapLabel(float largeEntropy) {
    return largeEntropy >= noGapThreshold ? ALEATORIC : EPISTEMIC;
  }

  /** The label of the given kind. */
  public int label(LabelKind kind, float smallEntropy, float largeEntropy) {
    return switch (kind) {
      case GAP -> gapLabel(smallEntropy, largeEntropy);
      case NO_GAP -> noGapLabel(largeEntropy);
      case CONSTRUCTION -> throw new IllegalArgumentException("construction labels come from the text, not from "
          + "entropies (label.source = synthetic-qa)");
    };
  }
}
