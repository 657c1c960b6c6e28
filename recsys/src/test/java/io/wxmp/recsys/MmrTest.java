package io.wxmp.recsys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MmrTest {

  @Test
  void lambdaOneIsThePlainRanking() {
    float[] rel = {0.1f, 0.9f, 0.5f, 0.7f};
    float[][] v = {{1, 0}, {1, 0}, {0, 1}, {1, 0.1f}};
    assertThat(Mmr.select(rel, v, 1.0, 4)).containsExactly(1, 3, 2, 0);
    assertThat(Mmr.select(rel, v, 1.0, 9)).hasSize(4);
    assertThat(Mmr.select(rel, v, 0.5, 0)).isEmpty();
  }

  @Test
  void aDissimilarItemOvertakesANearDuplicate() {
    float[] rel = {1.0f, 0.95f, 0.8f, 0f};
    float[][] v = {{1, 0}, {0.99f, 0.05f}, {0, 1}, {0.7f, 0.7f}};
    assertThat(Mmr.select(rel, v, 0.7, 3)).containsExactly(0, 2, 1);
  }

  @Test
  void lowersSameClusterRunsInATrainedModel() {
    Planted data = new Planted(5, 40, 300, 15, 2, 9);
    IalsModel m = Ials.train(data.data, new IalsParams(16, 8, 0.1, 0.01, 1.0, 3, 2));
    // A user with a strong taste for cluster 1 and a weaker one for clusters 3 and 4.
    int[] hist = {40, 41, 42, 43, 44, 45, 46, 47, 120, 121, 160, 161};
    float[] u = m.foldIn().solve(hist, new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    int[] cand = Planted.topK(m.scores(u), 100, hist);
    float[] rel = new float[cand.length];
    float[][] vec = new float[cand.length][];
    float[] scores = m.scores(u);
    for (int k = 0; k < cand.length; k++) {
      rel[k] = scores[cand[k]];
      vec[k] = m.itemVector(cand[k]);
    }
    int plain = sameClusterNeighbours(data, cand, Mmr.select(rel, vec, 1.0, 10));
    int mmr = sameClusterNeighbours(data, cand, Mmr.select(rel, vec, 0.5, 10));
    assertThat(plain).as("plain top-10").isGreaterThanOrEqualTo(4);
    assertThat(mmr).as("MMR top-10 (plain: %d)", plain).isLessThan(plain);
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> Mmr.select(new float[2], new float[1][2], 0.5, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Mmr.select(new float[1], new float[1][2], 1.5, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static int sameClusterNeighbours(Planted data, int[] cand, int[] picked) {
    int runs = 0;
    for (int k = 1; k < picked.length; k++) {
      if (data.clusterOf(cand[picked[k]]) == data.clusterOf(cand[picked[k - 1]])) {
        runs++;
      }
    }
    return runs;
  }
}
