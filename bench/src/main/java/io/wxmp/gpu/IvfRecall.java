package io.wxmp.gpu;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How much of the exact top-k the ranking verticle's IVF pre-selection ({@link IvfIndex}) keeps: for given item and
 * query vectors, builds the index as the verticle does (same lists, same seed) and measures, per nprobe, the recall
 * of the exact top-k, the share of rows scanned and the time per query (one thread). Lives in the bench module, in the
 * gpu package, because the index is not public API.
 */
public final class IvfRecall {
  private final long[] ids;
  private final VectorCollection collection;
  private final IvfIndex index;
  private final CpuScorer scorer;
  private final double buildSeconds;

  public IvfRecall(long[] ids, float[][] items) {
    this.ids = ids.clone();
    int dim = items[0].length;
    collection = new VectorCollection("items", dim, false);
    collection.load(ids, items);
    scorer = new CpuScorer();
    long t = System.nanoTime();
    index = IvfIndex.build(Arrays.copyOf(collection.ids(), collection.size()), collection.rowMajor(), dim,
        0x5eed ^ collection.size(), scorer);
    buildSeconds = (System.nanoTime() - t) / 1e9;
  }

  public int lists() {
    return index.lists();
  }

  public double buildSeconds() {
    return buildSeconds;
  }

  /** The ids of the IVF top-k of query (never an id of exclude), best first. */
  public long[] topK(float[] query, int k, long[] exclude, int nprobe) {
    return index.topK(new float[][] {query}, k, new long[][] {exclude}, nprobe).get(0).stream()
        .mapToLong(ScoredId::id).toArray();
  }

  /** The ids of the exact top-k. */
  public long[] exactTopK(float[] query, int k, long[] exclude) {
    return scorer.topK(collection, new float[][] {query}, k, new long[][] {exclude}).get(0).stream()
        .mapToLong(ScoredId::id).toArray();
  }

  /** One markdown row per nprobe: recall of the exact top-k (mean, and the worst 1 % of queries), time per query. */
  public String table(float[][] queries, int k, int[] nprobes) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "IVF over %,d rows × %d: %d lists, built in %.2f s%n%n", ids.length,
        collection.dim(), index.lists(), buildSeconds));
    out.append("| nprobe | rows scanned (mean) | recall@").append(k).append(" mean | p1 | min | µs per query (IVF, one thread) "
        + "| µs per query (full scan, " + Runtime.getRuntime().availableProcessors() + " threads) |\n");
    out.append("|---:|---:|---:|---:|---:|---:|---:|\n");
    Set<Long>[] exact = exactSets(queries, k);
    long t = System.nanoTime();
    for (float[] q : queries) {
      scorer.topK(collection, new float[][] {q}, k, null);
    }
    double fullMicros = (System.nanoTime() - t) / 1e3 / queries.length;
    for (int nprobe : nprobes) {
      double[] recall = new double[queries.length];
      long scannedBefore = index.scannedRows;
      long start = System.nanoTime();
      List<List<ScoredId>> got = index.topK(queries, k, null, nprobe);
      double micros = (System.nanoTime() - start) / 1e3 / queries.length;
      for (int i = 0; i < queries.length; i++) {
        int hit = 0;
        for (ScoredId s : got.get(i)) {
          hit += exact[i].contains(s.id()) ? 1 : 0;
        }
        recall[i] = exact[i].isEmpty() ? 1 : (double) hit / exact[i].size();
      }
      double[] sorted = recall.clone();
      Arrays.sort(sorted);
      out.append(String.format(Locale.ROOT, "| %d | %.1f %% | %.4f | %.4f | %.4f | %.0f | %.0f |%n", nprobe,
          100.0 * (index.scannedRows - scannedBefore) / queries.length / ids.length, Arrays.stream(recall).average().orElse(0),
          sorted[sorted.length / 100], sorted[0], micros, fullMicros));
    }
    return out.toString();
  }

  @SuppressWarnings("unchecked")
  private Set<Long>[] exactSets(float[][] queries, int k) {
    Set<Long>[] out = new Set[queries.length];
    for (int i = 0; i < queries.length; i++) {
      out[i] = new HashSet<>();
      for (long id : exactTopK(queries[i], k, null)) {
        out[i].add(id);
      }
    }
    return out;
  }

  public void close() {
    scorer.close();
  }
}
