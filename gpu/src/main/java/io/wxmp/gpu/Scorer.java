package io.wxmp.gpu;

import java.util.List;

/**
 * Scores queries against a {@link VectorCollection} by dot product and returns, per query, the k best
 * {@code (id, score)}: higher score first, equal scores by the smaller id, excluded ids never returned, fewer than k
 * when fewer rows remain. Implementations are used from one thread at a time.
 */
public interface Scorer extends AutoCloseable {
  /** Largest supported k. */
  int MAX_K = 1000;

  /** "cpu" or "cuda". */
  String backend();

  /**
   * @param queries  batch × dim
   * @param k        1..{@link #MAX_K}
   * @param excludes per query the ids never to return (null, or null entries, for none)
   */
  List<List<ScoredId>> topK(VectorCollection collection, float[][] queries, int k, long[][] excludes);

  @Override
  void close();

  /** Shared argument checks. */
  static void checkArguments(VectorCollection collection, float[][] queries, int k, long[][] excludes) {
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("k must be in 1.." + MAX_K + ", got " + k);
    }
    if (queries.length == 0) {
      throw new IllegalArgumentException("empty batch");
    }
    for (float[] q : queries) {
      if (q == null || q.length != collection.dim()) {
        throw new IllegalArgumentException("collection " + collection.name() + " has dim " + collection.dim()
            + ", got a query of length " + (q == null ? "null" : q.length));
      }
    }
    if (excludes != null && excludes.length != queries.length) {
      throw new IllegalArgumentException("excludes has " + excludes.length + " entries for " + queries.length + " queries");
    }
  }
}
