package io.wxmp.recsys;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Planted clusters for tests: each user engages with items of one cluster, plus a little noise. */
final class Planted {
  final int clusters;
  final int itemsPerCluster;
  final int users;
  final int[] userCluster;
  final Interactions data;

  Planted(int clusters, int itemsPerCluster, int users, int perUser, int noisePerUser, long seed) {
    this.clusters = clusters;
    this.itemsPerCluster = itemsPerCluster;
    this.users = users;
    this.userCluster = new int[users];
    SplittableRandom r = new SplittableRandom(seed);
    List<int[]> entries = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      int c = u % clusters;
      userCluster[u] = c;
      for (int k = 0; k < perUser; k++) {
        // Zipf-ish popularity inside the cluster: low offsets are popular.
        int off = (int) Math.floor(itemsPerCluster * Math.pow(r.nextDouble(), 2));
        entries.add(new int[] {u, c * itemsPerCluster + off, 1 + r.nextInt(3)});
      }
      for (int k = 0; k < noisePerUser; k++) {
        entries.add(new int[] {u, r.nextInt(items()), 1});
      }
    }
    int[] us = new int[entries.size()];
    int[] is = new int[entries.size()];
    float[] ss = new float[entries.size()];
    for (int e = 0; e < us.length; e++) {
      us[e] = entries.get(e)[0];
      is[e] = entries.get(e)[1];
      ss[e] = entries.get(e)[2];
    }
    data = Interactions.of(users, items(), us, is, ss);
  }

  int items() {
    return clusters * itemsPerCluster;
  }

  int clusterOf(int item) {
    return item / itemsPerCluster;
  }

  /** Top-k item ids by score, excluding the given items; ties by lower id. */
  static int[] topK(float[] scores, int k, int[] exclude) {
    boolean[] ex = new boolean[scores.length];
    for (int i : exclude) {
      ex[i] = true;
    }
    int[] out = new int[k];
    boolean[] taken = new boolean[scores.length];
    for (int p = 0; p < k; p++) {
      int best = -1;
      for (int i = 0; i < scores.length; i++) {
        if (!ex[i] && !taken[i] && (best < 0 || scores[i] > scores[best])) {
          best = i;
        }
      }
      taken[best] = true;
      out[p] = best;
    }
    return out;
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int k = 0; k < a.length; k++) {
      dot += (double) a[k] * b[k];
      na += (double) a[k] * a[k];
      nb += (double) b[k] * b[k];
    }
    return dot / Math.sqrt(na * nb);
  }
}
