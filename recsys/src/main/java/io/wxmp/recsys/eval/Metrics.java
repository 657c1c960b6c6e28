package io.wxmp.recsys.eval;

/**
 * Ranking metrics of one ranked list against a target set, binary gains (RECSYS.md §5.1): Recall@k divides by
 * min(k, |T|) (Liang 2018), NDCG@k normalises by the ideal DCG of min(k, |T|) hits, P@k divides by k.
 */
public final class Metrics {
  private Metrics() {
  }

  /** hits[p] is true when the item at rank p (0-based) is in the target. */
  public static double recall(boolean[] hits, int targetSize, int k) {
    if (targetSize == 0) {
      return 0;
    }
    int h = 0;
    for (int p = 0; p < Math.min(k, hits.length); p++) {
      h += hits[p] ? 1 : 0;
    }
    return (double) h / Math.min(k, targetSize);
  }

  public static double ndcg(boolean[] hits, int targetSize, int k) {
    if (targetSize == 0) {
      return 0;
    }
    double dcg = 0;
    for (int p = 0; p < Math.min(k, hits.length); p++) {
      if (hits[p]) {
        dcg += 1 / log2(p + 2);
      }
    }
    double idcg = 0;
    for (int p = 0; p < Math.min(k, targetSize); p++) {
      idcg += 1 / log2(p + 2);
    }
    return dcg / idcg;
  }

  public static double precision(boolean[] hits, int k) {
    int h = 0;
    for (int p = 0; p < Math.min(k, hits.length); p++) {
      h += hits[p] ? 1 : 0;
    }
    return (double) h / k;
  }

  /** Intra-list diversity: mean over pairs of 1 − cos(v_a, v_b) of the listed items' vectors (row-major, dim d). */
  public static double ild(int[] list, int k, float[] vectors, int d) {
    int n = Math.min(k, list.length);
    if (n < 2) {
      return 0;
    }
    double sum = 0;
    int pairs = 0;
    for (int a = 0; a < n; a++) {
      for (int b = a + 1; b < n; b++) {
        sum += 1 - cosine(vectors, list[a] * d, list[b] * d, d);
        pairs++;
      }
    }
    return sum / pairs;
  }

  static double cosine(float[] v, int a, int b, int d) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int x = 0; x < d; x++) {
      dot += (double) v[a + x] * v[b + x];
      na += (double) v[a + x] * v[a + x];
      nb += (double) v[b + x] * v[b + x];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
