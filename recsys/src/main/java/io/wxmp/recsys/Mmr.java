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
    boolean[] taken = new boolean[n];
    for (int pick = 0; pick < m; pick++) {
      int best = -1;
      double bestValue = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < n; i++) {
        if (taken[i]) {
          continue;
        }
        double value = pick == 0 ? rel[i] : lambda * rel[i] - (1 - lambda) * maxSim[i];
        if (value > bestValue) {
          bestValue = value;
          best = i;
        }
      }
      taken[best] = true;
      out[pick] = best;
      float[] b = vectors[best];
      for (int i = 0; i < n; i++) {
        if (taken[i]) {
          continue;
        }
        double sim = 0;
        if (norm[i] > 0 && norm[best] > 0) {
          double dot = 0;
          float[] a = vectors[i];
          for (int x = 0; x < d; x++) {
            dot += (double) a[x] * b[x];
          }
          sim = dot / (norm[i] * norm[best]);
        }
        if (sim > maxSim[i]) {
          maxSim[i] = sim;
        }
      }
    }
    return out;
  }
}
