package dev.knowable.iclt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** IcltScores against values worked out by hand (arithmetic in the comments). */
class IcltScoresTest {
  static final double TOL = 1e-12;
  static final double LN2 = Math.log(2); // 0.6931471805599453

  @Test
  void modelThatCopiesTheHintHasMiEqualToHy() {
    // p = (0.3, 0.3) -> P(x) = (0.5, 0.5).
    // q rows (0.9, 0) and (0, 0.8) normalise to (1, 0) and (0, 1): H(Y|X) = 0.
    // P(y) = (0.5, 0.5): H(Y) = ln 2 = 0.693147..., MI = ln 2, ratio 1.
    // hint repeat = 0.5 * 0.9 + 0.5 * 0.8 = 0.85.
    IcltScores s = IcltScores.of(new double[] {0.3, 0.3}, new double[][] {{0.9, 0}, {0, 0.8}},
        new double[] {1.2, 0.7});
    assertThat(s.hY()).isCloseTo(LN2, within(TOL));
    assertThat(s.hYGivenX()).isCloseTo(0, within(TOL));
    assertThat(s.mi()).isCloseTo(LN2, within(TOL));
    assertThat(s.miRatio()).isCloseTo(1, within(TOL));
    assertThat(s.minEntropy()).isCloseTo(0.7, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.85, within(TOL));
  }

  @Test
  void modelThatIgnoresTheHintHasZeroMi() {
    // p = (0.6, 0.2) -> P(x) = (0.75, 0.25).
    // q rows (0.3, 0.1) and (0.6, 0.2) both normalise to (0.75, 0.25), so Y does not depend on X:
    // P(y) = (0.75, 0.25), H(Y) = H(Y|X) = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351446188083, MI = 0.
    // hint repeat = 0.75 * 0.3 + 0.25 * 0.2 = 0.275.
    IcltScores s = IcltScores.of(new double[] {0.6, 0.2}, new double[][] {{0.3, 0.1}, {0.6, 0.2}},
        new double[] {2.0, 3.0});
    double h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    assertThat(h).isCloseTo(0.5623351446188083, within(TOL));
    assertThat(s.hY()).isCloseTo(h, within(TOL));
    assertThat(s.hYGivenX()).isCloseTo(h, within(TOL));
    assertThat(s.mi()).isCloseTo(0, within(TOL));
    assertThat(s.miRatio()).isCloseTo(0, within(TOL));
    assertThat(s.minEntropy()).isCloseTo(2.0, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.275, within(TOL));
  }

  @Test
  void zeroProbabilityCandidateContributesNothing() {
    // p = (0.5, 0.5, 0) -> P(x) = (0.5, 0.5, 0).
    // q0 = (0.2, 0.2, 0) -> (0.5, 0.5, 0), H = ln 2; q1 = (0, 0.5, 0) -> (0, 1, 0), H = 0;
    // q2 = (0, 0, 0.9) has weight 0 and would change every number if it counted.
    // P(y) = 0.5 (0.5, 0.5, 0) + 0.5 (0, 1, 0) = (0.25, 0.75, 0): H(Y) = 0.5623351446188083.
    // H(Y|X) = 0.5 ln 2 = 0.34657359027997264; MI = 0.21576155433883565; ratio = 0.3836885465963443.
    // hint repeat = 0.5 * 0.2 + 0.5 * 0.5 + 0 * 0.9 = 0.35.
    // min entropy ranges over every hint, the zero-probability one included: min(1.0, 0.9, 0.4) = 0.4.
    IcltScores s = IcltScores.of(new double[] {0.5, 0.5, 0},
        new double[][] {{0.2, 0.2, 0}, {0, 0.5, 0}, {0, 0, 0.9}}, new double[] {1.0, 0.9, 0.4});
    double hy = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
    assertThat(s.hY()).isCloseTo(hy, within(TOL));
    assertThat(s.hYGivenX()).isCloseTo(0.5 * LN2, within(TOL));
    assertThat(s.mi()).isCloseTo(hy - 0.5 * LN2, within(TOL)).isCloseTo(0.21576155433883565, within(TOL));
    assertThat(s.miRatio()).isCloseTo(0.3836885465963443, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.35, within(TOL));
    assertThat(s.minEntropy()).isCloseTo(0.4, within(TOL));
  }

  @Test
  void rowWithNoMassOnTheCandidatesIsUniform() {
    // p = (0.5, 0.5). q0 = (0, 0) has no mass on the support: read as (0.5, 0.5), H = ln 2.
    // q1 = (0, 0.4) -> (0, 1), H = 0. P(y) = (0.25, 0.75): same numbers as the case above.
    // hint repeat = 0.5 * 0 + 0.5 * 0.4 = 0.2 (unnormalised q_j(c_j)).
    IcltScores s = IcltScores.of(new double[] {0.5, 0.5}, new double[][] {{0, 0}, {0, 0.4}},
        new double[] {5.0, 1.0});
    assertThat(s.hYGivenX()).isCloseTo(0.5 * LN2, within(TOL));
    assertThat(s.mi()).isCloseTo(0.21576155433883565, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.2, within(TOL));
  }

  @Test
  void oneCandidateHasNoInformationAndRatioZero() {
    // k = 1: P(x) = (1), P(y|x) = (1): H(Y) = H(Y|X) = 0, MI = 0, MI / H(Y) defined as 0.
    // hint repeat = 1 * 0.6.
    IcltScores s = IcltScores.of(new double[] {0.7}, new double[][] {{0.6}}, new double[] {1.5});
    assertThat(s.hY()).isEqualTo(0);
    assertThat(s.mi()).isEqualTo(0);
    assertThat(s.miRatio()).isEqualTo(0);
    assertThat(s.minEntropy()).isCloseTo(1.5, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.6, within(TOL));
  }

  @Test
  void asymmetricThreeCandidates() {
    // p = (0.25, 0.15, 0.1) -> P(x) = (0.5, 0.3, 0.2).
    // q0 = (0.6, 0.2, 0.2)   sum 1   -> (0.6, 0.2, 0.2), H0 = -(0.6 ln 0.6 + 2 * 0.2 ln 0.2) = 0.9502705392332347
    // q1 = (0.1, 0.4, 0)     sum 0.5 -> (0.2, 0.8, 0),   H1 = -(0.2 ln 0.2 + 0.8 ln 0.8)     = 0.5004024235381879
    // q2 = (0.25, 0.25, 0.5) sum 1   -> same,            H2 = 1.5 ln 2                       = 1.0397207708399179
    // P(y0) = 0.5*0.6 + 0.3*0.2 + 0.2*0.25 = 0.30 + 0.06 + 0.05 = 0.41
    // P(y1) = 0.5*0.2 + 0.3*0.8 + 0.2*0.25 = 0.10 + 0.24 + 0.05 = 0.39
    // P(y2) = 0.5*0.2 + 0.3*0.0 + 0.2*0.5  = 0.10 + 0.00 + 0.10 = 0.20
    // H(Y) = -(0.41 ln 0.41 + 0.39 ln 0.39 + 0.2 ln 0.2) = 1.054670141937965
    // H(Y|X) = 0.5 H0 + 0.3 H1 + 0.2 H2 = 0.8332001508460574
    // MI = 0.22146999109190757, ratio = 0.20998981793962107
    // hint repeat = 0.5*0.6 + 0.3*0.4 + 0.2*0.5 = 0.30 + 0.12 + 0.10 = 0.52
    IcltScores s = IcltScores.of(new double[] {0.25, 0.15, 0.1},
        new double[][] {{0.6, 0.2, 0.2}, {0.1, 0.4, 0}, {0.25, 0.25, 0.5}}, new double[] {3.0, 2.5, 2.75});
    double hy = -(0.41 * Math.log(0.41) + 0.39 * Math.log(0.39) + 0.2 * Math.log(0.2));
    double h0 = -(0.6 * Math.log(0.6) + 2 * 0.2 * Math.log(0.2));
    double h1 = -(0.2 * Math.log(0.2) + 0.8 * Math.log(0.8));
    double h2 = 1.5 * LN2;
    double hyx = 0.5 * h0 + 0.3 * h1 + 0.2 * h2;
    assertThat(s.hY()).isCloseTo(hy, within(TOL)).isCloseTo(1.054670141937965, within(TOL));
    assertThat(s.hYGivenX()).isCloseTo(hyx, within(TOL)).isCloseTo(0.8332001508460574, within(TOL));
    assertThat(s.mi()).isCloseTo(0.22146999109190757, within(TOL));
    assertThat(s.miRatio()).isCloseTo(0.20998981793962107, within(TOL));
    assertThat(s.minEntropy()).isCloseTo(2.5, within(TOL));
    assertThat(s.hintRepeat()).isCloseTo(0.52, within(TOL));
  }

  @Test
  void badInputsAreRejected() {
    assertThatThrownBy(() -> IcltScores.of(new double[0], new double[0][], new double[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k >= 1");
    assertThatThrownBy(() -> IcltScores.of(new double[] {0, 0}, new double[][] {{1, 0}, {0, 1}}, new double[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("are 0");
    assertThatThrownBy(() -> IcltScores.of(new double[] {1, Double.NaN}, new double[][] {{1, 0}, {0, 1}},
        new double[2])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("finite");
    assertThatThrownBy(() -> IcltScores.of(new double[] {1, 1}, new double[][] {{1, 0}, {0}}, new double[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("q row 1");
  }
}
