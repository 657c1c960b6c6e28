package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CpuScorerTest {
  private static CpuScorer scorer;

  @BeforeAll
  static void start() {
    scorer = new CpuScorer(2);
  }

  @AfterAll
  static void stop() {
    scorer.close();
  }

  @ParameterizedTest(name = "n={0} dim={1} k={2} batch={3} fp16={4}")
  @CsvSource({
      "0, 64, 10, 1, false",
      "1, 32, 10, 2, false",
      "63, 32, 5, 5, false",
      "64, 64, 64, 4, false",
      "1000, 64, 50, 1, false",
      "1000, 100, 1000, 3, false",
      "5000, 128, 50, 9, false",
      "5000, 512, 17, 4, false",
      "40000, 64, 50, 6, false",
      "40000, 64, 1000, 2, false",
      "3000, 64, 50, 5, true",
      "30000, 96, 200, 4, true",
      "20000, 64, 50, 17, false",
      "5000, 40, 100, 12, true",
  })
  void matchesTheReference(int n, int dim, int k, int batch, boolean fp16) {
    Random rnd = new Random(n * 31L + dim * 7L + k + batch);
    VectorCollection c = new VectorCollection("items", dim, fp16);
    long[] ids = Reference.fill(c, rnd, n);
    float[][] queries = new float[batch][];
    long[][] excludes = new long[batch][];
    for (int b = 0; b < batch; b++) {
      // Some queries equal a stored vector, so the best scores tie across the duplicated rows.
      queries[b] = b % 2 == 1 && n > 0 ? c.get(ids[rnd.nextInt(n)]) : Reference.unitVector(rnd, dim);
      excludes[b] = b % 3 == 0 ? null : Reference.randomExclude(rnd, ids, 1 + rnd.nextInt(40));
    }
    List<List<ScoredId>> got = scorer.topK(c, queries, k, excludes);
    assertThat(got).hasSize(batch);
    for (int b = 0; b < batch; b++) {
      List<ScoredId> expected = Reference.topK(c, ids, queries[b], k, excludes[b]);
      Reference.assertSameRanking(got.get(b), expected, 1e-5f);
      if (excludes[b] != null) {
        assertThat(got.get(b)).extracting(ScoredId::id).doesNotContain(box(excludes[b]));
      }
    }
  }

  @ParameterizedTest(name = "batch={0} fp16={1}")
  @CsvSource({"1, false", "3, false", "4, false", "9, false", "13, false", "1, true", "6, true", "12, true"})
  void manyEqualScoresAroundTheKthKeepTheSmallestIds(int batch, boolean fp16) {
    // Only five distinct vectors over 20,000 rows: whole strips tie with the k-th score, so skipping a strip whose
    // scores are all below the threshold must still let equal scores with smaller ids in (on either thread).
    Random rnd = new Random(11);
    int n = 20000;
    int dim = 48;
    float[][] distinct = new float[5][];
    for (int i = 0; i < distinct.length; i++) {
      distinct[i] = Reference.unitVector(rnd, dim);
    }
    long[] ids = new long[n];
    float[][] vectors = new float[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = n - i + (long) rnd.nextInt(3) * 1_000_000L; // ids fall with the row, so later rows win ties
      vectors[i] = distinct[rnd.nextInt(distinct.length)];
    }
    VectorCollection c = new VectorCollection("items", dim, fp16);
    c.load(ids, vectors);
    float[][] queries = new float[batch][];
    long[][] excludes = new long[batch][];
    for (int b = 0; b < batch; b++) {
      queries[b] = b % 2 == 0 ? distinct[b % distinct.length] : Reference.unitVector(rnd, dim);
      excludes[b] = b % 3 == 2 ? Reference.randomExclude(rnd, ids, 100) : null;
    }
    List<List<ScoredId>> got = scorer.topK(c, queries, 300, excludes);
    for (int b = 0; b < batch; b++) {
      List<ScoredId> expected = Reference.topK(c, ids, queries[b], 300, excludes[b]);
      assertThat(got.get(b)).as("query %d", b).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void reusedBuffersAndWorkersGiveTheReferenceForCallsOfChangingShape() {
    // Heaps, thresholds and score buffers are reused from call to call and rows are claimed in chunks by the caller
    // and the worker: vary batch, k, collection and excludes between calls, including after close (caller alone).
    Random rnd = new Random(21);
    VectorCollection big = new VectorCollection("items", 64, false);
    long[] bigIds = Reference.fill(big, rnd, 30000);
    VectorCollection small = new VectorCollection("ads", 40, true);
    long[] smallIds = Reference.fill(small, rnd, 2500);
    CpuScorer s = new CpuScorer(2);
    try {
      int[][] shapes = {{1, 50}, {7, 1000}, {2, 3}, {16, 200}, {1, 1000}, {5, 1}, {33, 20}, {1, 10}};
      for (int round = 0; round < 2; round++) {
        if (round == 1) {
          s.close();
        }
        for (int[] shape : shapes) {
          boolean useBig = (shape[0] + shape[1]) % 2 == 0 || shape[0] == 1;
          VectorCollection c = useBig ? big : small;
          long[] ids = useBig ? bigIds : smallIds;
          float[][] queries = new float[shape[0]][];
          long[][] excludes = new long[shape[0]][];
          for (int b = 0; b < shape[0]; b++) {
            queries[b] = Reference.unitVector(rnd, c.dim());
            excludes[b] = b % 2 == 0 ? Reference.randomExclude(rnd, ids, 30) : null;
          }
          List<List<ScoredId>> got = s.topK(c, queries, shape[1], excludes);
          for (int b = 0; b < shape[0]; b++) {
            assertThat(got.get(b)).containsExactlyElementsOf(Reference.topK(c, ids, queries[b], shape[1], excludes[b]));
          }
        }
      }
    } finally {
      s.close();
    }
  }

  @Test
  void equalScoresAreOrderedBySmallerId() {
    VectorCollection c = new VectorCollection("items", 32, false);
    float[] v = Reference.unitVector(new Random(1), 32);
    for (long id : new long[] {50, 7, 900, 3, 12}) {
      c.upsert(id, v);
    }
    List<ScoredId> top = scorer.topK(c, new float[][] {v}, 3, new long[][] {{7}}).get(0);
    assertThat(top).extracting(ScoredId::id).containsExactly(3L, 12L, 50L);
  }

  @Test
  void fewerThanKRowsReturnsWhatExists() {
    VectorCollection c = new VectorCollection("ads", 32, false);
    Random rnd = new Random(2);
    c.upsert(1, Reference.unitVector(rnd, 32));
    c.upsert(2, Reference.unitVector(rnd, 32));
    List<ScoredId> top = scorer.topK(c, new float[][] {Reference.unitVector(rnd, 32)}, 1000, null).get(0);
    assertThat(top).extracting(ScoredId::id).containsExactlyInAnyOrder(1L, 2L);
  }

  @Test
  void fp16RankingStaysWithinTheStatedToleranceOfFp32() {
    // fp16 keeps 11 significant bits: each stored component is within 2^-11 relative of fp32, so for unit vectors
    // a score moves by at most ~5e-4. Stated tolerance: every fp16 score within 1e-3 of the fp32 score of the same
    // id, and every id whose fp32 score beats the fp32 k-th score by more than 2e-3 is in the fp16 top-k.
    Random rnd = new Random(3);
    int n = 20000;
    int dim = 64;
    int k = 50;
    VectorCollection f32 = new VectorCollection("items", dim, false);
    VectorCollection f16 = new VectorCollection("items", dim, true);
    long[] ids = Reference.fill(f32, rnd, n);
    float[][] vectors = new float[n][];
    for (int i = 0; i < n; i++) {
      vectors[i] = f32.get(ids[i]);
    }
    f16.load(ids, vectors);
    float[][] queries = new float[8][];
    for (int b = 0; b < queries.length; b++) {
      queries[b] = Reference.unitVector(rnd, dim);
    }
    List<List<ScoredId>> exact = scorer.topK(f32, queries, k, null);
    List<List<ScoredId>> half = scorer.topK(f16, queries, k, null);
    for (int b = 0; b < queries.length; b++) {
      float kth = exact.get(b).get(k - 1).score();
      List<Long> halfIds = half.get(b).stream().map(ScoredId::id).toList();
      for (ScoredId s : half.get(b)) {
        float[] v = f32.get(s.id());
        float fp32Score = 0f;
        for (int d = 0; d < dim; d++) {
          fp32Score = Math.fma(v[d], queries[b][d], fp32Score);
        }
        assertThat(Math.abs(s.score() - fp32Score)).isLessThan(1e-3f);
      }
      for (ScoredId s : exact.get(b)) {
        if (s.score() > kth + 2e-3f) {
          assertThat(halfIds).contains(s.id());
        }
      }
    }
  }

  @Test
  void upsertAndRemoveAreVisibleToTheNextQuery() {
    Random rnd = new Random(4);
    VectorCollection c = new VectorCollection("items", 64, false);
    long[] ids = Reference.fill(c, rnd, 3000);
    float[] q = Reference.unitVector(rnd, 64);
    long best = scorer.topK(c, new float[][] {q}, 1, null).get(0).get(0).id();

    assertThat(c.remove(best)).isTrue();
    assertThat(scorer.topK(c, new float[][] {q}, 10, null).get(0)).extracting(ScoredId::id).doesNotContain(best);

    c.upsert(123_456_789L, q); // the query itself: score 1, the new best
    assertThat(scorer.topK(c, new float[][] {q}, 1, null).get(0).get(0).id()).isEqualTo(123_456_789L);

    float[] away = q.clone();
    for (int d = 0; d < away.length; d++) {
      away[d] = -away[d];
    }
    c.upsert(123_456_789L, away); // replaced in place: now the worst
    assertThat(scorer.topK(c, new float[][] {q}, 10, null).get(0)).extracting(ScoredId::id)
        .doesNotContain(123_456_789L);
    assertThat(c.size()).isEqualTo(3000);

    // Many removals and re-inserts (swap-remove moves rows) still match the reference.
    for (int i = 0; i < 1000; i++) {
      c.remove(ids[i]);
    }
    for (int i = 0; i < 500; i++) {
      c.upsert(ids[i], Reference.unitVector(rnd, 64));
    }
    long[] live = java.util.stream.LongStream.concat(java.util.Arrays.stream(ids), java.util.stream.LongStream.of(123_456_789L))
        .filter(c::contains).toArray();
    assertThat(live).hasSize(c.size());
    Reference.assertSameRanking(scorer.topK(c, new float[][] {q}, 100, null).get(0),
        Reference.topK(c, live, q, 100, null), 1e-5f);
  }

  @Test
  void rejectsBadArguments() {
    VectorCollection c = new VectorCollection("items", 32, false);
    assertThatThrownBy(() -> scorer.topK(c, new float[][] {new float[32]}, 1001, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k must be");
    assertThatThrownBy(() -> scorer.topK(c, new float[][] {new float[31]}, 5, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dim 32");
    assertThatThrownBy(() -> c.upsert(1, new float[33])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void streamSumReadsEveryRow() {
    VectorCollection c = new VectorCollection("items", 32, false);
    float[] ones = new float[32];
    java.util.Arrays.fill(ones, 1f);
    for (int i = 0; i < 5000; i++) {
      c.upsert(i, ones);
    }
    assertThat(scorer.streamSum(c)).isEqualTo(5000.0 * 32);
  }

  private static Long[] box(long[] a) {
    return java.util.Arrays.stream(a).boxed().toArray(Long[]::new);
  }
}
