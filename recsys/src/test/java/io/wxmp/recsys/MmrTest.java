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
  void classicOptionsAreTheDefault() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(4);
    for (int t = 0; t < 200; t++) {
      int n = 1 + r.nextInt(30);
      float[] rel = new float[n];
      float[][] v = new float[n][5];
      for (int i = 0; i < n; i++) {
        rel[i] = r.nextInt(4) == 0 ? 0.5f : (float) r.nextDouble();
        for (int x = 0; x < 5; x++) {
          v[i][x] = (float) r.nextDouble() - 0.3f;
        }
      }
      double lambda = r.nextDouble();
      assertThat(Mmr.select(rel, v, lambda, 10, Mmr.Options.CLASSIC)).containsExactly(Mmr.select(rel, v, lambda, 10));
      assertThat(Mmr.select(rel, v, lambda, 10, Mmr.Options.parse("minmax")))
          .containsExactly(Mmr.select(rel, v, lambda, 10));
    }
  }

  @Test
  void rankScalingDependsOnlyOnTheOrder() {
    float[] rel = {5f, 4.9f, 1f, 0.5f, 0.4f};
    float[] squashed = {0.05f, 0.04f, 0.03f, 0.02f, 0.01f};
    float[][] v = {{1, 0}, {0.98f, 0.2f}, {0, 1}, {0.7f, 0.7f}, {0.1f, 1}};
    Mmr.Options rank = Mmr.Options.parse("rank");
    for (double lambda : new double[] {0.3, 0.5, 0.7, 0.9}) {
      assertThat(Mmr.select(rel, v, lambda, 5, rank)).containsExactly(Mmr.select(squashed, v, lambda, 5, rank));
    }
    assertThat(Mmr.scale(rel, 0.4, 5, rank)).containsExactly(1, 0.8, 0.6, 0.4, 0.2);
    // min-max sees the gap after the first two: the near-duplicate stays second at λ 0.7
    assertThat(Mmr.select(rel, v, 0.7, 2)).containsExactly(0, 1);
    // rank-based relevance makes the gap one step, and the dissimilar third overtakes the near-duplicate
    assertThat(Mmr.select(rel, v, 0.7, 2, rank)).containsExactly(0, 2);
  }

  @Test
  void softmaxScalingKeepsTheBestAtOneAndIsMonotone() {
    float[] rel = {3f, 1f, 2f, 0f};
    double[] s = Mmr.scale(rel, 0, 3, Mmr.Options.parse("softmax:0.5"));
    assertThat(s[0]).isEqualTo(1.0);
    assertThat(s[2]).isLessThan(1).isGreaterThan(s[1]);
    assertThat(s[1]).isGreaterThan(s[3]).isGreaterThan(0);
    // a lower temperature sharpens: the second best falls further behind
    assertThat(Mmr.scale(rel, 0, 3, Mmr.Options.parse("softmax:0.25"))[2]).isLessThan(s[2]);
    assertThat(Mmr.scale(new float[] {2, 2}, 2, 2, Mmr.Options.parse("softmax:1"))).containsExactly(1, 1);
  }

  @Test
  void meanSimilarityWeighsEveryPickedItem() {
    // After 0 and 1 (orthogonal), candidate 2 is a duplicate of 0 but orthogonal to 1, candidate 3 is half-alike to
    // both: by the largest cosine 3 is less similar (0.71 < 1), by the mean 2 is (0.5 < 0.71).
    float[] rel = {1f, 0.99f, 0.5f, 0.5f};
    float[][] v = {{1, 0, 0}, {0, 1, 0}, {1, 0, 0.001f}, {0.7071f, 0.7071f, 0}};
    Mmr.Options mean = Mmr.Options.parse("minmax/mean");
    assertThat(Mmr.select(rel, v, 0.5, 3)).containsExactly(0, 1, 3);
    assertThat(Mmr.select(rel, v, 0.5, 3, mean)).containsExactly(0, 1, 2);
  }

  @Test
  void optionsParseAndPrint() {
    for (String s : new String[] {"minmax", "rank", "softmax:0.5", "minmax/mean", "rank/mean", "softmax:2.0/mean"}) {
      assertThat(Mmr.Options.parse(s).toString()).isEqualTo(s);
    }
    assertThat(Mmr.Options.parse("rank/mean").meanSimilarity()).isTrue();
    assertThatThrownBy(() -> Mmr.Options.parse("zscore")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Mmr.Options.parse("softmax:0")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Mmr.Options(null, 1, false)).isInstanceOf(IllegalArgumentException.class);
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

  /**
   * The definition, every candidate against every pick: argmax λ·rel − (1 − λ)·max cos, ties to the lower index. With
   * floatCos the cosine is Mmr's (its float dot product times the two inverse lengths); else the double-precision
   * cos = a·b / (|a|·|b|).
   */
  private static int[] naive(float[] relevance, float[][] vectors, double lambda, int k, boolean floatCos) {
    return naive(relevance, cosines(vectors, floatCos), lambda, k);
  }

  private static int[] naive(float[] relevance, double[][] cos, double lambda, int k) {
    int n = relevance.length;
    int m = Math.min(k, n);
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (float r : relevance) {
      min = Math.min(min, r);
      max = Math.max(max, r);
    }
    double range = max - min;
    boolean[] used = new boolean[n];
    int[] out = new int[m];
    for (int pick = 0; pick < m; pick++) {
      int best = -1;
      double bestValue = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < n; i++) {
        if (used[i]) {
          continue;
        }
        double value = naiveValue(relevance, cos, lambda, out, pick, i, min, range);
        if (value > bestValue) {
          bestValue = value;
          best = i;
        }
      }
      used[best] = true;
      out[pick] = best;
    }
    return out;
  }

  /** Candidate i's value after the first {@code pick} entries of picks. */
  private static double naiveValue(float[] relevance, double[][] cos, double lambda, int[] picks, int pick, int i,
      double min, double range) {
    double rel = range > 0 && Double.isFinite(range) ? (relevance[i] - min) / range : 1;
    double maxSim = Double.NEGATIVE_INFINITY;
    for (int p = 0; p < pick; p++) {
      maxSim = Math.max(maxSim, cos[i][picks[p]]);
    }
    return pick == 0 ? rel : lambda * rel - (1 - lambda) * maxSim;
  }

  /** Every pair's cosine, as {@link #naive(float[], float[][], double, int, boolean)} defines it. */
  private static double[][] cosines(float[][] vectors, boolean floatCos) {
    int n = vectors.length;
    double[][] c = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        c[i][j] = !floatCos ? cos(vectors[i], vectors[j])
            : Mmr.dot(vectors[i], vectors[j]) * (Mmr.inverseLength(vectors[i]) * Mmr.inverseLength(vectors[j]));
      }
    }
    return c;
  }

  private static double cos(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int x = 0; x < a.length; x++) {
      dot += (double) a[x] * b[x];
      na += (double) a[x] * a[x];
      nb += (double) b[x] * b[x];
    }
    return Math.sqrt(na) > 0 && Math.sqrt(nb) > 0 ? dot / (Math.sqrt(na) * Math.sqrt(nb)) : 0;
  }

  @Test
  void picksWhatTheDefinitionPicksWithTiesZeroAndRepeatedVectors() {
    java.util.Random rnd = new java.util.Random(42);
    int differ = 0; // from the double-precision definition's picks
    for (int c = 0; c < 3_000; c++) {
      int n = 1 + rnd.nextInt(120);
      int d = 1 + rnd.nextInt(70);
      float[] rel = new float[n];
      float[][] v = new float[n][];
      for (int i = 0; i < n; i++) {
        rel[i] = rnd.nextInt(4) == 0 ? 0.5f : rnd.nextInt(20) / 10f; // many ties
        int kind = rnd.nextInt(10);
        if (kind == 0) {
          v[i] = new float[d]; // zero: similar to nothing
        } else if (kind == 1 && i > 0) {
          v[i] = v[rnd.nextInt(i)].clone(); // a repeated vector
        } else {
          v[i] = new float[d];
          for (int x = 0; x < d; x++) {
            v[i][x] = (float) rnd.nextGaussian();
          }
        }
      }
      double lambda = new double[] {0, 0.3, 0.5, 0.7, 1}[rnd.nextInt(5)];
      int k = rnd.nextInt(n + 2);
      int[] picks = Mmr.select(rel, v, lambda, k);
      // exactly the definition in Mmr's arithmetic (float cosines of unit vectors)
      assertThat(picks).as("case %d", c).isEqualTo(naive(rel, v, lambda, k, true));
      double[][] exact = cosines(v, false);
      // and in double precision, each pick within rounding of the best value (a near-tie may go the other way)
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (float r : rel) {
        min = Math.min(min, r);
        max = Math.max(max, r);
      }
      boolean[] used = new boolean[n];
      for (int p = 0; p < picks.length; p++) {
        double best = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
          if (!used[i]) {
            best = Math.max(best, naiveValue(rel, exact, lambda, picks, p, i, min, max - min));
          }
        }
        assertThat(naiveValue(rel, exact, lambda, picks, p, picks[p], min, max - min))
            .as("case %d, pick %d", c, p).isGreaterThanOrEqualTo(best - 1e-6);
        used[picks[p]] = true;
      }
      if (!java.util.Arrays.equals(picks, naive(rel, exact, lambda, k))) {
        differ++;
      }
    }
    // Float rounding flips near-ties only (here ~5 % of the cases, in which rel ties and repeated or zero vectors make
    // exact ties common; each within 1e-6 above): most runs are the double definition's picks bit for bit.
    assertThat(differ).as("cases whose picks differ from the double-precision definition").isLessThan(300);
  }

  @Test
  void lazyPicksAreTheEagerOnesOneAtATime() {
    java.util.Random rnd = new java.util.Random(7);
    String[] options = {"minmax", "rank", "softmax:0.5", "minmax/mean", "rank/mean"};
    for (int c = 0; c < 2_000; c++) {
      int n = 1 + rnd.nextInt(120);
      int d = 1 + rnd.nextInt(40);
      float[] rel = new float[n];
      float[][] v = new float[n][];
      for (int i = 0; i < n; i++) {
        rel[i] = rnd.nextInt(3) == 0 ? 0.5f : rnd.nextInt(10) / 10f; // many ties
        int kind = rnd.nextInt(8);
        if (kind == 0) {
          v[i] = new float[d];
        } else if (kind <= 2 && i > 0) {
          v[i] = v[rnd.nextInt(i)].clone(); // repeated vectors: tied similarities
        } else {
          v[i] = new float[d];
          for (int x = 0; x < d; x++) {
            v[i][x] = rnd.nextInt(3) - 1; // few distinct values: tied values
          }
        }
      }
      double lambda = new double[] {0, 0.3, 0.5, 0.7, 1}[rnd.nextInt(5)];
      Mmr.Options o = Mmr.Options.parse(options[rnd.nextInt(options.length)]);
      int[] eager = Mmr.select(rel, v, lambda, n, o);
      Mmr.Picks picks = Mmr.picks(rel, v, lambda, o);
      assertThat(picks.size()).isEqualTo(n);
      int m = rnd.nextInt(n + 1);
      int[] lazy = new int[m];
      for (int i = 0; i < m; i++) {
        assertThat(picks.hasNext()).isTrue();
        lazy[i] = picks.next();
      }
      assertThat(picks.picked()).isEqualTo(m);
      // the first m lazy picks are an m-pick run and the head of the full run
      assertThat(lazy).as("case %d, %s, lambda %s, m %d", c, o, lambda, m)
          .isEqualTo(Mmr.select(rel, v, lambda, m, o)).isEqualTo(java.util.Arrays.copyOf(eager, m));
      while (picks.hasNext()) {
        picks.next();
      }
      assertThatThrownBy(picks::next).isInstanceOf(java.util.NoSuchElementException.class);
    }
  }
}
