package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Plain-Java reference ranking and the helpers the scorer tests share. */
final class Reference {
  private Reference() {}

  /** Scalar float FMA in dimension order over each stored vector, then a full sort. */
  static List<ScoredId> topK(VectorCollection c, long[] ids, float[] query, int k, long[] exclude) {
    Set<Long> ex = new HashSet<>();
    if (exclude != null) {
      for (long e : exclude) {
        ex.add(e);
      }
    }
    List<ScoredId> all = new ArrayList<>();
    for (long id : ids) {
      if (ex.contains(id) || !c.contains(id)) {
        continue;
      }
      float[] v = c.get(id);
      float acc = 0f;
      for (int d = 0; d < v.length; d++) {
        acc = Math.fma(v[d], query[d], acc);
      }
      all.add(new ScoredId(id, acc));
    }
    all.sort(ScoredId.RANKING);
    return new ArrayList<>(all.subList(0, Math.min(k, all.size())));
  }

  static float[] unitVector(Random rnd, int dim) {
    float[] v = new float[dim];
    double n = 0;
    for (int d = 0; d < dim; d++) {
      v[d] = (float) rnd.nextGaussian();
      n += v[d] * v[d];
    }
    float inv = (float) (1 / Math.sqrt(n));
    for (int d = 0; d < dim; d++) {
      v[d] *= inv;
    }
    return v;
  }

  /**
   * Same ids in the same order, except that two positions may hold different ids when their scores differ by less
   * than tolerance (near-ties can legitimately swap between implementations).
   */
  static void assertSameRanking(List<ScoredId> actual, List<ScoredId> expected, float tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      ScoredId a = actual.get(i);
      ScoredId e = expected.get(i);
      assertThat(a.score()).as("score at %d", i).isCloseTo(e.score(), org.assertj.core.data.Offset.offset(tolerance));
      if (a.id() != e.id()) {
        assertThat(Math.abs(a.score() - e.score())).as("id differs at %d: %s vs %s", i, a, e).isLessThan(tolerance);
      }
    }
    long distinct = actual.stream().mapToLong(ScoredId::id).distinct().count();
    assertThat(distinct).isEqualTo(actual.size());
  }

  static long[] randomExclude(Random rnd, long[] ids, int n) {
    long[] ex = new long[n];
    for (int i = 0; i < n; i++) {
      ex[i] = ids.length == 0 ? rnd.nextLong() : ids[rnd.nextInt(ids.length)];
    }
    return ex;
  }

  /** A collection of n random unit vectors with sparse random ids; every 7th row duplicates an earlier one (ties). */
  static long[] fill(VectorCollection c, Random rnd, int n) {
    long[] ids = new long[n];
    float[][] vs = new float[n][];
    Set<Long> used = new HashSet<>();
    for (int i = 0; i < n; i++) {
      long id;
      do {
        id = rnd.nextInt(10 * n + 10);
      } while (!used.add(id));
      ids[i] = id;
      vs[i] = i > 0 && i % 7 == 0 ? vs[rnd.nextInt(i)] : unitVector(rnd, c.dim());
    }
    c.load(ids, vs);
    return ids;
  }

  static long[] shuffled(long[] ids, Random rnd) {
    long[] s = ids.clone();
    for (int i = s.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      long t = s[i];
      s[i] = s[j];
      s[j] = t;
    }
    return Arrays.copyOf(s, s.length);
  }
}
