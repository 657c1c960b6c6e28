package io.wxmp.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Candidate pre-selection for the CPU scorer: an inverted file (IVF) over a snapshot of a collection. k-means splits
 * the rows in about √n lists; the rows are copied grouped by list (each list a contiguous, 16-row aligned range), so a
 * query scores its centroids, then only the rows of its {@code nprobe} best lists.
 *
 * <p>Ranking is by dot product, not distance, and trained item vectors differ widely in norm (popular items are
 * longer). So the lists are made for maximum inner product search (Bachrach et al., RecSys 2014): each row x becomes
 * x' = (x, √(M² − |x|²)) with M the largest norm, all of norm M, where the nearest x' to (q·M/|q|, 0) is the row of
 * the largest q·x. k-means runs on the x', and a query probes its lists nearest in that space: the largest
 * (M/|q|)·q·c − |c'|²/2 (c the first dim components of the list's centroid c').
 *
 * <p>The rows inside the probed lists are scored exactly (the same FMA order as {@link CpuScorer}, so a row scored here has the same score as in a full scan). A query's result is the exact top-k
 * over its own probe set: which other queries share its batch changes nothing.
 *
 * <p>Mutations after the snapshot are tracked ({@link #upserted}, {@link #removed}): a changed or new row is scored
 * from its current vector on every query (so it is always a candidate) and its copy in the lists is skipped; a removed
 * one is skipped. Built off the ranking thread; afterwards used and mutated from one thread at a time.
 */
final class IvfIndex {
  /** Collections smaller than this are scanned in full (a full scan of 20,000 × 64 costs about 0.2 ms). */
  static final int MIN_ROWS = 20_000;
  private static final int BLOCK = VectorCollection.BLOCK_ROWS;
  private static final int ITERATIONS = 8;
  private static final int SAMPLE_PER_LIST = 64;
  /** Strips buffered before their candidates are offered (keeps the kernel loop free of calls). */
  private static final int STRIP_BUFFER = 64;

  private final int dim;
  private final int lists;
  /** The centroids' first dim components in the blocked layout of {@link VectorCollection} (lists rounded to 16). */
  private final float[] centroids;
  /** Per list |c'|² / 2 of the augmented centroid. */
  private final float[] halfNorm2;
  /** The largest row norm M. */
  private final float maxNorm;
  private final int[] start;
  private final int[] count;
  /** The indexed rows grouped by list, blocked layout. */
  private final float[] rows;
  private final long[] ids;
  private final int indexedRows;

  // Changes since the snapshot.
  private final HashSet<Long> stale = new HashSet<>();
  private final HashMap<Long, float[]> changed = new HashMap<>();

  /** Rows scored from the lists so far (for the benchmarks' scan share). */
  long scannedRows;

  // Per-call scratch (calls are serialised).
  private final float[] centroidScores;
  private final long[] order;
  private final float[] stripScores = new float[STRIP_BUFFER * CpuScorer.L];
  private final int[] stripRows = new int[STRIP_BUFFER];

  private IvfIndex(int dim, int lists, float[] centroids, float[] halfNorm2, float maxNorm, int[] start, int[] count,
      float[] rows, long[] ids, int indexedRows) {
    this.dim = dim;
    this.lists = lists;
    this.centroids = centroids;
    this.halfNorm2 = halfNorm2;
    this.maxNorm = maxNorm;
    this.start = start;
    this.count = count;
    this.rows = rows;
    this.ids = ids;
    this.indexedRows = indexedRows;
    this.centroidScores = new float[roundUp(lists)];
    this.order = new long[lists];
  }

  /** Lists for n rows: about √n, at least 1. */
  static int listsFor(int n) {
    return Math.max(1, Math.min(4096, (int) Math.round(Math.sqrt(n))));
  }

  int lists() {
    return lists;
  }

  int indexedRows() {
    return indexedRows;
  }

  /** Rows changed, added or removed since the snapshot. */
  int changes() {
    return stale.size();
  }

  /**
   * Builds the index of {@code n = ids.length} rows ({@code data}: row-major, n × dim) with k-means (seeded sample,
   * {@value #ITERATIONS} Lloyd iterations, Euclidean assignment); scorer does the assignments.
   */
  static IvfIndex build(long[] ids, float[] rowsIn, int dim, long seed, CpuScorer scorer) {
    int n = ids.length;
    // the augmented rows x' = (x, √(M² − |x|²))
    double[] norm2 = new double[n];
    double max2 = 0;
    for (int i = 0; i < n; i++) {
      double s2 = 0;
      for (int d = 0; d < dim; d++) {
        s2 += (double) rowsIn[i * dim + d] * rowsIn[i * dim + d];
      }
      norm2[i] = s2;
      max2 = Math.max(max2, s2);
    }
    int adim = dim + 1;
    float[] data = new float[n * adim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(rowsIn, i * dim, data, i * adim, dim);
      data[i * adim + dim] = (float) Math.sqrt(Math.max(0, max2 - norm2[i]));
    }
    float[] original = rowsIn;
    int lists = Math.min(listsFor(n), Math.max(1, n));
    SplittableRandom rnd = new SplittableRandom(seed);
    int sampleSize = (int) Math.min(n, (long) lists * SAMPLE_PER_LIST);
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    for (int i = 0; i < sampleSize; i++) {
      int j = i + rnd.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] sample = Arrays.copyOf(perm, sampleSize);
    Arrays.sort(sample); // memory order for the assignment passes
    float[][] c = new float[lists][];
    for (int l = 0; l < lists; l++) {
      c[l] = Arrays.copyOfRange(data, perm[l] * adim, perm[l] * adim + adim);
    }
    int[] assign = new int[sampleSize];
    for (int it = 0; it < ITERATIONS; it++) {
      assign(scorer, c, data, adim, sample, assign);
      double[][] sum = new double[lists][adim];
      int[] size = new int[lists];
      for (int i = 0; i < sampleSize; i++) {
        int l = assign[i];
        size[l]++;
        int o = sample[i] * adim;
        for (int d = 0; d < adim; d++) {
          sum[l][d] += data[o + d];
        }
      }
      for (int l = 0; l < lists; l++) {
        if (size[l] == 0) {
          // an empty list restarts from a random sampled row
          int r = sample[rnd.nextInt(sampleSize)];
          c[l] = Arrays.copyOfRange(data, r * adim, r * adim + adim);
          continue;
        }
        for (int d = 0; d < adim; d++) {
          c[l][d] = (float) (sum[l][d] / size[l]);
        }
      }
    }
    int[] all = new int[n];
    for (int i = 0; i < n; i++) {
      all[i] = i;
    }
    int[] listOf = new int[n];
    assign(scorer, c, data, adim, all, listOf);

    int[] count = new int[lists];
    for (int i = 0; i < n; i++) {
      count[listOf[i]]++;
    }
    int[] start = new int[lists];
    int total = 0;
    for (int l = 0; l < lists; l++) {
      start[l] = total;
      total += roundUp(count[l]);
    }
    float[] rows = new float[Math.max(BLOCK, total) * dim];
    long[] gids = new long[Math.max(BLOCK, total)];
    int[] fill = start.clone();
    for (int i = 0; i < n; i++) {
      int r = fill[listOf[i]]++;
      gids[r] = ids[i];
      for (int d = 0; d < dim; d++) {
        rows[VectorCollection.index(r, d, dim)] = original[i * dim + d];
      }
    }
    float[] blockedCentroids = new float[roundUp(lists) * dim];
    float[] halfNorm2 = new float[lists];
    for (int l = 0; l < lists; l++) {
      double s2 = 0;
      for (int d = 0; d < adim; d++) {
        s2 += (double) c[l][d] * c[l][d];
        if (d < dim) {
          blockedCentroids[VectorCollection.index(l, d, dim)] = c[l][d];
        }
      }
      halfNorm2[l] = (float) (s2 / 2);
    }
    return new IvfIndex(dim, lists, blockedCentroids, halfNorm2, (float) Math.sqrt(max2), start, count, rows, gids, n);
  }

  /** out[i] = the list whose centroid is nearest (Euclidean) to row which[i]: argmax x·c − |c|²/2. */
  private static void assign(CpuScorer scorer, float[][] c, float[] data, int dim, int[] which, int[] out) {
    VectorCollection cc = new VectorCollection("centroids", dim + 1, false);
    long[] cids = new long[c.length];
    float[][] aug = new float[c.length][];
    for (int l = 0; l < c.length; l++) {
      cids[l] = l;
      aug[l] = Arrays.copyOf(c[l], dim + 1);
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        norm += (double) c[l][d] * c[l][d];
      }
      aug[l][dim] = (float) (-norm / 2);
    }
    cc.load(cids, aug);
    int batch = 512;
    float[][] q = new float[batch][dim + 1];
    for (int from = 0; from < which.length; from += batch) {
      int b = Math.min(batch, which.length - from);
      float[][] qs = b == batch ? q : Arrays.copyOf(q, b);
      for (int i = 0; i < b; i++) {
        System.arraycopy(data, which[from + i] * dim, qs[i], 0, dim);
        qs[i][dim] = 1f;
      }
      List<List<ScoredId>> best = scorer.topK(cc, qs, 1, null);
      for (int i = 0; i < b; i++) {
        out[from + i] = (int) best.get(i).get(0).id();
      }
    }
  }

  /** A row was inserted or replaced since the snapshot; vector is its stored value. */
  void upserted(long id, float[] vector) {
    stale.add(id);
    changed.put(id, vector.clone());
  }

  void removed(long id) {
    stale.add(id);
    changed.remove(id);
  }

  /**
   * Per query the exact top-k over its probe set: its {@code nprobe} best lists by centroid score (more, in that
   * order, until the lists hold k rows plus the excluded ones) and every row changed since the snapshot.
   */
  List<List<ScoredId>> topK(float[][] queries, int k, long[][] excludes, int nprobe) {
    List<List<ScoredId>> out = new ArrayList<>(queries.length);
    for (int b = 0; b < queries.length; b++) {
      long[] ex = TopKHeap.sortedCopy(excludes == null ? null : excludes[b]);
      out.add(topK(queries[b], k, ex, nprobe));
    }
    return out;
  }

  private List<ScoredId> topK(float[] q, int k, long[] sortedExclude, int nprobe) {
    scoreCentroids(q);
    double qn = 0;
    for (float x : q) {
      qn += (double) x * x;
    }
    float scale = qn > 0 ? (float) (maxNorm / Math.sqrt(qn)) : 0f;
    for (int l = 0; l < lists; l++) {
      // nearest in the augmented space first; an ascending sort read from the end (ties: the smaller list first)
      float key = scale * centroidScores[l] - halfNorm2[l];
      order[l] = ((long) sortable(key) << 32) | (lists - 1 - l);
    }
    Arrays.sort(order);
    TopKHeap heap = new TopKHeap(k, sortedExclude);
    long need = (long) k + sortedExclude.length;
    long probed = 0;
    for (int i = 0; i < lists && (i < nprobe || probed < need); i++) {
      int l = lists - 1 - (int) (order[lists - 1 - i] & 0xffffffffL);
      scanList(q, l, heap);
      probed += count[l];
    }
    scannedRows += probed;
    for (Map.Entry<Long, float[]> e : changed.entrySet()) {
      float[] v = e.getValue();
      float s = 0f;
      for (int d = 0; d < dim; d++) {
        s = Math.fma(v[d], q[d], s); // the kernels' order and rounding
      }
      heap.offer(s, e.getKey());
    }
    return heap.sorted();
  }

  /** Float bits mapped so that unsigned... signed int order equals float order (no NaN here). */
  private static int sortable(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits >= 0 ? bits : bits ^ 0x7fffffff;
  }

  private void scoreCentroids(float[] q) {
    int L = CpuScorer.L;
    for (int row = 0, end = roundUp(lists); row < end; row += L) {
      int p = strip(row);
      FloatVector a = FloatVector.zero(CpuScorer.F);
      for (int d = 0; d < dim; d++) {
        a = FloatVector.fromArray(CpuScorer.F, centroids, p + d * BLOCK).fma(FloatVector.broadcast(CpuScorer.F, q[d]), a);
      }
      a.intoArray(centroidScores, row);
    }
  }

  /** The rows of list l, strip by strip; strips with a score at the heap's threshold are offered after each run. */
  private void scanList(float[] q, int l, TopKHeap heap) {
    int L = CpuScorer.L;
    int from = start[l];
    int end = from + count[l];
    for (int run = from; run < end; run += STRIP_BUFFER * L) {
      int runEnd = Math.min(end, run + STRIP_BUFFER * L);
      FloatVector t = FloatVector.broadcast(CpuScorer.F, heap.threshold());
      int hits = 0;
      for (int row = run; row < runEnd; row += L) {
        int p = strip(row);
        FloatVector a = FloatVector.zero(CpuScorer.F);
        for (int d = 0; d < dim; d++) {
          a = FloatVector.fromArray(CpuScorer.F, rows, p + d * BLOCK).fma(FloatVector.broadcast(CpuScorer.F, q[d]), a);
        }
        if (a.compare(VectorOperators.GE, t).anyTrue()) {
          a.intoArray(stripScores, hits * L);
          stripRows[hits++] = row;
        }
      }
      for (int h = 0; h < hits; h++) {
        int row = stripRows[h];
        float th = heap.threshold();
        for (int i = 0, n = Math.min(L, end - row); i < n; i++) {
          float s = stripScores[h * L + i];
          if (s >= th) {
            long id = ids[row + i];
            if (stale.isEmpty() || !stale.contains(id)) {
              heap.offer(s, id);
              th = heap.threshold();
            }
          }
        }
      }
    }
  }

  private int strip(int row) {
    return (row >>> 4) * (BLOCK * dim) + (row & 15);
  }

  private static int roundUp(int rows) {
    return (rows + BLOCK - 1) / BLOCK * BLOCK;
  }
}
