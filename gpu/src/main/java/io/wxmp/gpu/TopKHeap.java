package io.wxmp.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Bounded heap of the k best (score, id) in primitive arrays; the root is the worst kept entry. */
final class TopKHeap {
  int k;
  final float[] scores;
  final long[] ids;
  int size;
  private long[] exclude; // sorted, or empty

  TopKHeap(int k, long[] exclude) {
    this.k = k;
    this.scores = new float[k];
    this.ids = new long[k];
    this.exclude = exclude;
  }

  /** Empties the heap for reuse with k (at most the capacity it was made with) and another exclude list. */
  TopKHeap reset(int k, long[] exclude) {
    if (k > scores.length) {
      throw new IllegalArgumentException("k " + k + " exceeds the capacity " + scores.length);
    }
    this.k = k;
    this.exclude = exclude;
    this.size = 0;
    return this;
  }

  int capacity() {
    return scores.length;
  }

  static long[] sortedCopy(long[] exclude) {
    if (exclude == null || exclude.length == 0) {
      return new long[0];
    }
    long[] s = exclude.clone();
    Arrays.sort(s);
    return s;
  }

  /** Scores below this can never enter. */
  float threshold() {
    return size < k ? Float.NEGATIVE_INFINITY : scores[0];
  }

  void offer(float score, long id) {
    if (size == k && (score < scores[0] || (score == scores[0] && id > ids[0]))) {
      return;
    }
    if (exclude.length != 0 && Arrays.binarySearch(exclude, id) >= 0) {
      return;
    }
    if (size < k) {
      int i = size++;
      scores[i] = score;
      ids[i] = id;
      siftUp(i);
    } else {
      scores[0] = score;
      ids[0] = id;
      siftDown(0);
    }
  }

  void mergeFrom(TopKHeap other) {
    for (int i = 0; i < other.size; i++) {
      offer(other.scores[i], other.ids[i]);
    }
  }

  /**
   * The entries best first ({@link ScoredId#RANKING}: the heap's own order, ties by the smaller id), the heap left as
   * it was: copies of its arrays popped worst first into the answer's end (no comparator sort over boxed entries).
   */
  List<ScoredId> sorted() {
    int n = size;
    float[] s = Arrays.copyOf(scores, n);
    long[] d = Arrays.copyOf(ids, n);
    ScoredId[] out = new ScoredId[n];
    for (int last = n - 1; last >= 0; last--) {
      out[last] = new ScoredId(d[0], s[0]);
      s[0] = s[last];
      d[0] = d[last];
      siftDown(s, d, last, 0);
    }
    return new ArrayList<>(Arrays.asList(out));
  }

  private boolean worse(int a, int b) {
    return worse(scores, ids, a, b);
  }

  private static boolean worse(float[] s, long[] d, int a, int b) {
    return s[a] < s[b] || (s[a] == s[b] && d[a] > d[b]);
  }

  /** siftDown over the first n entries of s and d. */
  private static void siftDown(float[] s, long[] d, int n, int i) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= n) {
        return;
      }
      int w = l + 1 < n && worse(s, d, l + 1, l) ? l + 1 : l;
      if (!worse(s, d, w, i)) {
        return;
      }
      float t = s[i];
      s[i] = s[w];
      s[w] = t;
      long u = d[i];
      d[i] = d[w];
      d[w] = u;
      i = w;
    }
  }

  private void siftUp(int i) {
    while (i > 0) {
      int p = (i - 1) >>> 1;
      if (!worse(i, p)) {
        return;
      }
      swap(i, p);
      i = p;
    }
  }

  private void siftDown(int i) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= size) {
        return;
      }
      int w = l + 1 < size && worse(l + 1, l) ? l + 1 : l;
      if (!worse(w, i)) {
        return;
      }
      swap(i, w);
      i = w;
    }
  }

  private void swap(int a, int b) {
    float s = scores[a];
    scores[a] = scores[b];
    scores[b] = s;
    long t = ids[a];
    ids[a] = ids[b];
    ids[b] = t;
  }
}
