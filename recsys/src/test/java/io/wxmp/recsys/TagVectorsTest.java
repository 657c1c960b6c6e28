package io.wxmp.recsys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TagVectorsTest {

  @Test
  void aColdItemWithATagRanksForUsersWhoLikeThatTag() {
    // 5 clusters of 40 items; item tags: its cluster's tag (0..4) plus one random noise tag (5..9). One extra item
    // (id 200) has no interactions at all, only the tag of cluster 2.
    Planted base = new Planted(5, 40, 300, 15, 2, 3);
    int items = base.items() + 1;
    int cold = base.items();
    int[] us = new int[(int) base.data.nnz()];
    int[] is = new int[us.length];
    float[] ss = new float[us.length];
    int e = 0;
    for (int u = 0; u < base.users; u++) {
      int[] its = base.data.itemsOf(u);
      float[] sts = base.data.strengthsOf(u);
      for (int k = 0; k < its.length; k++, e++) {
        us[e] = u;
        is[e] = its[k];
        ss[e] = sts[k];
      }
    }
    Interactions data = Interactions.of(base.users, items, us, is, ss);
    IalsParams p = new IalsParams(16, 8, 0.1, 0.01, 1.0, 5, 2);
    IalsModel m = Ials.train(data, p);
    assertThat(m.itemVector(cold)).containsOnly(0f);

    SplittableRandom r = new SplittableRandom(1);
    int[][] tags = new int[items][];
    for (int i = 0; i < base.items(); i++) {
      tags[i] = new int[] {base.clusterOf(i), 5 + r.nextInt(5)};
    }
    tags[cold] = new int[] {2};
    float[] tagVectors = TagVectors.derive(p, items, m.itemVectors(), tags, 10);
    float[] v = TagVectors.forItem(tagVectors, p.dim(), tags[cold]);
    float[] withCold = Arrays.copyOf(m.itemVectors(), m.itemVectors().length);
    System.arraycopy(v, 0, withCold, cold * p.dim(), p.dim());

    int[] likers = new int[2];
    int[] inTop50 = new int[2];
    for (int u = 0; u < base.users; u++) {
      float[] scores = Linalg.scores(m.userVector(u), withCold, items, p.dim());
      int rank = 0;
      for (int i = 0; i < items; i++) {
        if (scores[i] > scores[cold]) {
          rank++;
        }
      }
      int g = base.userCluster[u] == 2 ? 0 : 1;
      likers[g]++;
      inTop50[g] += rank < 50 ? 1 : 0;
    }
    // Users of cluster 2: the new item ranks among the top quarter of 201 items; for the others it does not.
    assertThat((double) inTop50[0] / likers[0]).isGreaterThanOrEqualTo(0.9);
    assertThat((double) inTop50[1] / likers[1]).isLessThanOrEqualTo(0.1);
  }

  @Test
  void tagVectorIsTheMeanOfTrainedItemsWithTheTag() {
    IalsParams p = IalsParams.defaults().withDim(2);
    float[] itemVectors = {1, 0, 0, 1, 3, 3, 0, 0};
    int[][] tags = {{0}, {0, 1}, {1}, {0}}; // item 3 is untrained (zero) and does not count
    float[] t = TagVectors.derive(p, 4, itemVectors, tags, 3);
    assertThat(t).containsExactly(0.5f, 0.5f, 1.5f, 2f, 0f, 0f);
    assertThat(TagVectors.forItem(t, 2, new int[] {0, 1})).containsExactly(1f, 1.25f);
    assertThat(TagVectors.forItem(t, 2, new int[0])).containsExactly(0f, 0f);
    assertThatThrownBy(() -> TagVectors.forItem(t, 2, new int[] {3})).isInstanceOf(IllegalArgumentException.class);
  }
}
