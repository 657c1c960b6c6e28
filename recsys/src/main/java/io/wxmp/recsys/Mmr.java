package io.wxmp.recsys;

/**
 * Maximal marginal relevance (Carbonell and Goldstein 1998) over cosine similarity of item vectors: greedily picks
 * argmax λ·rel(i) − (1 − λ)·max_{s picked} cos(i, s). Relevance is min-max scaled to [0, 1] over the candidates first,
 * so λ means the same whatever the score scale; λ = 1 is the plain ranking by relevance. Ties go to the lower index.
 */
public final class Mmr {
  private Mmr() {
  }

  /**
   * @param relevance per candidate its score (higher is better)
   * @param vectors   per candidate its item vector (same length for all; a zero vector is similar to nothing)
   * @param lambda    0..1
   * @param k         how many to pick (fewer when there are fewer candidates)
   * @return indices into the inputs, in picking order
   */
  public static int[] select(float[] relevance, float[][] vectors, double lambda, int k) {
    int n = relevance.length;
    if (vectors.length != n) {
      throw new IllegalArgumentException("relevance has " + n + " entries, vectors " + vectors.length);
    }
    if (!(lambda >= 0 && lambda <= 1)) {
      throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
    }
    if (k < 0) {
      throw new IllegalArgumentException("k must be >= 0, got " + k);
    }
    int m = Math.min(k, n);
    int[] out = new int[m];
    if (m == 0) {
      return out;
    }
    int d = vectors[0].length;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double[] norm = new double[n];
    for (int i = 0; i < n; i++) {
      if (vectors[i].length != d) {
        throw new IllegalArgumentException("vector " + i + " has length " + vectors[i].length + ", expected " + d);
      }
      if (Float.isNaN(relevance[i])) {
        throw new IllegalArgumentException("relevance " + i + " is NaN");
      }
      min = Math.min(min, relevance[i]);
      max = Math.max(max, relevance[i]);
      double s = 0;
      for (float v : vectors[i]) {
        s += (double) v * v;
      }
      norm[i] = Math.sqrt(s);
    }
    double range = max - min;
    double[] rel = new double[n];
    for (int i = 0; i < n; i++) {
      rel[i] = range > 0 && Double.isFinite(range) ? (relevance[i] - min) / range : 1;
    }
    double[] maxSim = new double[n];
    java.util.Arrays.fill(maxSim, Double.NEGATIVE_INFINITY);
    // The candidates not picked yet, in index order (so the first best wins a tie, as with a scan of all n).
    int[] rest = new int[n];
    for (int i = 0; i < n; i++) {
      rest[i] = i;
    }
    int left = n;
    for (int pick = 0; pick < m; pick++) {
      int at = -1;
      double bestValue = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < left; j++) {
        int i = rest[j];
        double value = pick == 0 ? rel[i] : lambda * rel[i] - (1 - lambda) * maxSim[i];
        if (value > bestValue) {
          bestValue = value;
          at = j;
        }
      }
      int best = rest[at];
      System.arraycopy(rest, at + 1, rest, at, left - at - 1);
      left--;
      out[pick] = best;
      float[] b = vectors[best];
      double nb = norm[best];
      // Four dot products at a time: four independent sums (each in the same order as one at a time, so the same
      // values), which the CPU overlaps instead of waiting on one chain of additions.
      int j = 0;
      for (; j + 4 <= left; j += 4) {
        int i0 = rest[j];
        int i1 = rest[j + 1];
        int i2 = rest[j + 2];
        int i3 = rest[j + 3];
        float[] a0 = vectors[i0];
        float[] a1 = vectors[i1];
        float[] a2 = vectors[i2];
        float[] a3 = vectors[i3];
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int x = 0; x < d; x++) {
          double bx = b[x];
          s0 += (double) a0[x] * bx;
          s1 += (double) a1[x] * bx;
          s2 += (double) a2[x] * bx;
          s3 += (double) a3[x] * bx;
        }
        similar(maxSim, norm, i0, nb, s0);
        similar(maxSim, norm, i1, nb, s1);
        similar(maxSim, norm, i2, nb, s2);
        similar(maxSim, norm, i3, nb, s3);
      }
      for (; j < left; j++) {
        int i = rest[j];
        float[] a = vectors[i];
        double dot = 0;
        for (int x = 0; x < d; x++) {
          dot += (double) a[x] * b[x];
        }
        similar(maxSim, norm, i, nb, dot);
      }
    }
    return out;
  }

  /** Raises maxSim[i] to the cosine of i with the item just picked (norm nb, dot product dot); 0 for a zero vector. */
  private static void similar(double[] maxSim, double[] norm, int i, double nb, double dot) {
    double sim = norm[i] > 0 && nb > 0 ? dot / (norm[i] * nb) : 0;
    if (sim > maxSim[i]) {
      maxSim[i] = sim;
    }
  }
}
