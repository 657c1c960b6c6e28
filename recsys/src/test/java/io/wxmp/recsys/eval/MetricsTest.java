package io.wxmp.recsys.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  void recallDividesByTheSmallerOfKAndTheTarget() {
    boolean[] hits = {true, false, true, false};
    assertThat(Metrics.recall(hits, 2, 20)).isEqualTo(1.0);
    assertThat(Metrics.recall(hits, 50, 20)).isEqualTo(2 / 20.0);
    assertThat(Metrics.recall(hits, 3, 2)).isEqualTo(0.5);
  }

  @Test
  void ndcgWithBinaryGains() {
    boolean[] hits = {false, true, true};
    double dcg = 1 / (Math.log(3) / Math.log(2)) + 1 / 2.0;
    double idcg = 1 + 1 / (Math.log(3) / Math.log(2));
    assertThat(Metrics.ndcg(hits, 2, 10)).isCloseTo(dcg / idcg, within(1e-12));
    assertThat(Metrics.ndcg(new boolean[] {true, true}, 2, 10)).isEqualTo(1.0);
    assertThat(Metrics.ndcg(hits, 0, 10)).isEqualTo(0.0);
    assertThat(Metrics.precision(hits, 10)).isEqualTo(0.2);
  }

  @Test
  void ildIsMeanPairwiseCosineDistance() {
    float[] v = {1, 0, 0, 1, 1, 1};
    double d = Metrics.ild(new int[] {0, 1, 2}, 10, v, 2);
    double c = 1 / Math.sqrt(2);
    assertThat(d).isCloseTo(((1 - 0) + (1 - c) + (1 - c)) / 3, within(1e-9));
  }

  @Test
  void topByScoreOrdersDescendingWithTiesToTheLowerIndex() {
    float[] s = {0.5f, -1f, 2f, 0.5f, -3f, 0f};
    assertThat(Evaluator.topByScore(s, 6, new boolean[0])).containsExactly(2, 0, 3, 5, 1, 4);
    assertThat(Evaluator.topByScore(s, 2, new boolean[] {false, false, true})).containsExactly(0, 3);
  }

  @Test
  void tailIsOutsideTheTwentyPercentMostPopular() {
    float[] pop = {5, 1, 9, 0, 3, 2, 8, 7, 6, 4};
    boolean[] t = Evaluator.tailMask(pop);
    assertThat(t).containsExactly(true, true, false, true, true, true, false, true, true, true);
  }
}
