package io.wxmp.recsys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IalsTest {
  private static final Planted DATA = new Planted(5, 40, 300, 15, 2, 7);
  private static final IalsParams PARAMS = new IalsParams(16, 10, 0.1, 0.01, 1.0, 11, 2);
  private static final IalsModel MODEL = Ials.train(DATA.data, PARAMS);

  @Test
  void usersOfOneClusterGetMostlyThatCluster() {
    double sum = 0;
    int worst = 10;
    for (int u = 0; u < DATA.users; u++) {
      int[] top = Planted.topK(MODEL.scores(MODEL.userVector(u)), 10, DATA.data.itemsOf(u));
      int same = 0;
      for (int i : top) {
        same += DATA.clusterOf(i) == DATA.userCluster[u] ? 1 : 0;
      }
      sum += same;
      worst = Math.min(worst, same);
    }
    assertThat(sum / DATA.users).isGreaterThanOrEqualTo(9.0);
    assertThat(worst).isGreaterThanOrEqualTo(6);
  }

  @Test
  void foldInReproducesTrainedUserVectors() {
    FoldIn f = MODEL.foldIn();
    double min = 1;
    for (int u = 0; u < DATA.users; u++) {
      float[] v = f.solve(DATA.data.itemsOf(u), DATA.data.strengthsOf(u));
      min = Math.min(min, Planted.cosine(v, MODEL.userVector(u)));
    }
    assertThat(min).isGreaterThanOrEqualTo(0.999);
  }

  @Test
  void aFreshUserWhoClicksThreeItemsOfAClusterLeansToIt() {
    FoldIn f = MODEL.foldIn();
    int c = 3;
    int[] clicks = {c * 40 + 1, c * 40 + 5, c * 40 + 9};
    float[] v = f.solve(clicks, new float[] {1, 1, 1});
    int[] top = Planted.topK(MODEL.scores(v), 10, clicks);
    long same = Arrays.stream(top).filter(i -> DATA.clusterOf(i) == c).count();
    assertThat(same).isGreaterThanOrEqualTo(8);
  }

  @Test
  void foldInSumsDuplicatesAndHandlesEmptyHistory() {
    FoldIn f = MODEL.foldIn();
    float[] merged = f.solve(new int[] {3, 7}, new float[] {3, 1});
    float[] split = f.solve(new int[] {7, 3, 3}, new float[] {1, 1, 2});
    assertThat(split).containsExactly(merged);
    assertThat(f.solve(new int[0], new float[0])).containsOnly(0f);
    assertThatThrownBy(() -> f.solve(new int[] {DATA.items()}, new float[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sameSeedGivesBitIdenticalVectorsWhateverTheThreads() {
    IalsParams p = PARAMS.withEpochs(4);
    IalsModel a = Ials.train(DATA.data, p);
    IalsModel b = Ials.train(DATA.data, p);
    IalsModel one = Ials.train(DATA.data, p.withThreads(1));
    IalsModel three = Ials.train(DATA.data, p.withThreads(3));
    assertThat(b.userVectors()).containsExactly(a.userVectors());
    assertThat(b.itemVectors()).containsExactly(a.itemVectors());
    assertThat(one.itemVectors()).containsExactly(a.itemVectors());
    assertThat(three.userVectors()).containsExactly(a.userVectors());
    IalsModel other = Ials.train(DATA.data, p.withSeed(12));
    assertThat(Arrays.equals(other.itemVectors(), a.itemVectors())).isFalse();
  }

  @Test
  void trainingLowersTheLoss() {
    double before = loss(Ials.train(DATA.data, PARAMS.withEpochs(1)));
    double after = loss(MODEL);
    assertThat(after).isLessThan(before);
  }

  @Test
  void aRowWithoutDataGetsTheZeroVector() {
    Interactions m = Interactions.of(3, 4, new int[] {0, 0, 2}, new int[] {0, 1, 1}, new float[] {1, 1, 1});
    IalsModel model = Ials.train(m, PARAMS.withDim(4));
    assertThat(model.userVector(1)).containsOnly(0f);
    assertThat(model.itemVector(3)).containsOnly(0f);
  }

  @Test
  void conjugateGradientTrainingReachesTheExactSolutionsLoss() {
    IalsModel cg = Ials.train(DATA.data, PARAMS, 3);
    double exact = loss(MODEL);
    assertThat(loss(cg)).isLessThan(exact * 1.01);
    assertThat(loss(cg)).isLessThan(loss(Ials.train(DATA.data, PARAMS.withEpochs(1))));
    // the same recommendations, cluster-wise
    double sum = 0;
    for (int u = 0; u < DATA.users; u++) {
      int[] top = Planted.topK(cg.scores(cg.userVector(u)), 10, DATA.data.itemsOf(u));
      for (int i : top) {
        sum += DATA.clusterOf(i) == DATA.userCluster[u] ? 1 : 0;
      }
    }
    assertThat(sum / DATA.users).isGreaterThanOrEqualTo(9.0);
    assertThat(Ials.train(DATA.data, PARAMS, 0).itemVectors()).containsExactly(MODEL.itemVectors());
    assertThatThrownBy(() -> Ials.train(DATA.data, PARAMS, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void conjugateGradientTrainingIsBitIdenticalWhateverTheThreads() {
    IalsParams p = PARAMS.withEpochs(4);
    IalsModel a = Ials.train(DATA.data, p, 3);
    IalsModel one = Ials.train(DATA.data, p.withThreads(1), 3);
    IalsModel three = Ials.train(DATA.data, p.withThreads(3), 3);
    assertThat(one.itemVectors()).containsExactly(a.itemVectors());
    assertThat(three.userVectors()).containsExactly(a.userVectors());
  }

  @Test
  void conjugateGradientRowStepConvergesToTheCholeskySolve() {
    int d = 12;
    float[] f = new float[30 * d];
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    for (int k = 0; k < f.length; k++) {
      f[k] = (float) (r.nextDouble() - 0.5);
    }
    double[] gram = Linalg.gramian(f, 30, d, 0.1, null);
    int[] cols = {2, 5, 7, 11, 19, 23, 29};
    float[] vals = {1, 2, 1, 3, 1, 1, 2};
    float[] exact = new float[d];
    Linalg.solveRow(gram, f, d, cols, vals, 0, cols.length, 3, 0.05, 1, new Linalg.Scratch(d), exact, 0);
    float[] cg = new float[d]; // from zero: d steps are exact in exact arithmetic
    Linalg.solveRowCg(gram, f, d, cols, vals, 0, cols.length, 3, 0.05, 1, 3 * d, new Linalg.Scratch(d), cg, 0);
    for (int x = 0; x < d; x++) {
      assertThat(cg[x]).isCloseTo(exact[x], org.assertj.core.data.Offset.offset(1e-5f));
    }
    float[] empty = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    Linalg.solveRowCg(gram, f, d, cols, vals, 0, 0, 3, 0.05, 1, 3, new Linalg.Scratch(d), empty, 0);
    assertThat(empty).containsOnly(0f);
  }

  @Test
  void paramsAreValidated() {
    assertThatThrownBy(() -> PARAMS.withDim(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PARAMS.withRegularization(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PARAMS.withThreads(0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(IalsParams.defaults().dim()).isEqualTo(64);
  }

  /** The iALS objective of {@link IalsParams}, computed directly. */
  private static double loss(IalsModel m) {
    IalsParams p = m.params();
    int d = p.dim();
    double a0 = p.unobservedWeight();
    double total = 0;
    double[] itemWeight = new double[m.items()];
    for (int u = 0; u < m.users(); u++) {
      float[] scores = m.scores(m.userVector(u));
      for (float s : scores) {
        total += a0 * s * s;
      }
      int[] is = DATA.data.itemsOf(u);
      float[] ss = DATA.data.strengthsOf(u);
      double w = 0;
      for (int k = 0; k < is.length; k++) {
        double c = 1 + p.confidenceScale() * ss[k];
        total += c * (scores[is[k]] - 1) * (scores[is[k]] - 1);
        w += c;
        itemWeight[is[k]] += c;
      }
      total += p.regularization() * (w + a0 * m.items()) * sq(m.userVector(u));
    }
    for (int i = 0; i < m.items(); i++) {
      total += p.regularization() * (itemWeight[i] + a0 * m.users()) * sq(m.itemVector(i));
    }
    return total;
  }

  private static double sq(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return s;
  }
}
