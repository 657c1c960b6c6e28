package io.wxmp.handlers.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wxmp.gpu.ScoredId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CandidateCacheTest {
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final float[] vector = {0.25f, -1f, 3f};

  /** n candidates, ids 1..n, best first. */
  private static List<ScoredId> ranked(int n) {
    List<ScoredId> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(new ScoredId(i, 1000f - i));
    }
    return out;
  }

  private double misses(String reason) {
    return metrics.counter("wxmp.feed.candidate.cache.misses", "reason", reason).count();
  }

  @Test
  void aLargerExclusionFiltersTheCachedRankingAndASmallerOneRanksAgain() {
    CandidateCache cache = new CandidateCache(10, metrics);
    assertThat(cache.get("u", "v1", 3, vector, 300, Set.of(8_000L))).isNull();
    assertThat(misses("none")).isEqualTo(1);
    cache.put("u", "v1", 3, vector, 300, new long[] {7_000L, 8_000L}, ranked(300));
    assertThat(cache.get("u", "v1", 3, vector, 300, Set.of(8_000L, 7_000L))).isEqualTo(ranked(300));
    Set<Long> more = new HashSet<>(Set.of(8_000L, 7_000L, 2L, 5L, 9_999L));
    List<ScoredId> got = cache.get("u", "v1", 3, vector, 300, more);
    assertThat(got).hasSize(298).doesNotContain(new ScoredId(2, 998f), new ScoredId(5, 995f));
    assertThat(got.get(0).id()).isEqualTo(1);
    assertThat(got.get(1).id()).isEqualTo(3);
    assertThat(metrics.counter("wxmp.feed.candidate.cache.hits").count()).isEqualTo(2);
    assertThat(cache.get("u", "v1", 3, vector, 300, Set.of(8_000L))).as("7,000 no longer excluded").isNull();
    assertThat(misses("excluded")).isEqualTo(1);
  }

  @Test
  void anotherVectorVersionOrCatalogueRanksAgain() {
    CandidateCache cache = new CandidateCache(10, metrics);
    cache.put("u", "v1", 3, vector, 300, new long[0], ranked(300));
    float[] moved = vector.clone();
    moved[1] = Math.nextUp(moved[1]);
    assertThat(cache.get("u", "v1", 3, moved, 300, Set.of())).isNull();
    assertThat(misses("vector")).isEqualTo(1);
    assertThat(cache.get("u", "v2", 3, vector, 300, Set.of())).isNull();
    assertThat(cache.get("u", "v1", 4, vector, 300, Set.of())).isNull();
    assertThat(misses("model")).isEqualTo(2);
    assertThat(cache.get("u", "v1", 3, vector.clone(), 300, Set.of())).as("the same floats").hasSize(300);
    assertThat(cache.get("w", "v1", 3, vector, 300, Set.of())).as("another user").isNull();
    cache.forget("u");
    assertThat(cache.get("u", "v1", 3, vector, 300, Set.of())).isNull();
  }

  @Test
  void aFullTopKWithTooFewLeftRanksAgainButAnExhaustedOneIsWhole() {
    CandidateCache cache = new CandidateCache(10, metrics);
    cache.put("u", "v1", 3, vector, 300, new long[0], ranked(300));
    Set<Long> served = new HashSet<>();
    for (long id = 1; id <= 300 - CandidateCache.NEEDED; id++) {
      served.add(id);
    }
    assertThat(cache.get("u", "v1", 3, vector, 300, served)).hasSize(CandidateCache.NEEDED);
    served.add(1_000L + 300); // not a candidate: nothing more removed
    assertThat(cache.get("u", "v1", 3, vector, 300, served)).hasSize(CandidateCache.NEEDED);
    served.add(300L);
    assertThat(cache.get("u", "v1", 3, vector, 300, served)).isNull();
    assertThat(misses("short")).isEqualTo(1);
    // fewer than K came back: every candidate there was, so what is left is a fresh ranking's whole answer
    cache.put("u", "v1", 3, vector, 300, new long[0], ranked(120));
    Set<Long> most = new HashSet<>();
    for (long id = 1; id <= 115; id++) {
      most.add(id);
    }
    assertThat(cache.get("u", "v1", 3, vector, 300, most)).extracting(ScoredId::id)
        .containsExactly(116L, 117L, 118L, 119L, 120L);
  }

  @Test
  void sizeZeroCachesNothing() {
    CandidateCache cache = new CandidateCache(0, metrics);
    cache.put("u", "v1", 3, vector, 300, new long[0], ranked(300));
    assertThat(cache.get("u", "v1", 3, vector, 300, Set.of())).isNull();
    assertThat(misses("none")).isEqualTo(1);
  }
}
