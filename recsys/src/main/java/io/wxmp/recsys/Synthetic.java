package io.wxmp.recsys;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A synthetic feed with a known truth (RECSYS.md §2.4), for tests, CI, demo data and benchmarks. Items belong to
 * topics (true vector = topic centre + noise, Zipf(1) popularity bias, three tags: two of the topic's and one random,
 * kind and price by topic); users like 1–3 topics with Dirichlet weights and drift slowly towards another topic. In each
 * session a logging policy shows a page — mostly popular items and items of the user's stale topics, a tenth uniform —
 * and the user clicks with probability σ(3·uᵀv + b − τ) × fatigue^(impressions of the item in the last 7 days) ×
 * 1/log2(1 + position); a click on a paid item becomes a purchase with a probability falling with the price. Unshown
 * items are never clicked (exposure bias). Cold items are published and cold users arrive inside the test window.
 * Deterministic for a seed.
 */
public final class Synthetic {
  private Synthetic() {
  }

  static final String[] KINDS = {"article", "video", "course"};

  public static SyntheticData generate(SyntheticSpec s, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int k = s.latentDim();
    int n = s.items();
    int m = s.users();
    // Topics.
    float[] centres = new float[s.topics() * k];
    for (int t = 0; t < s.topics(); t++) {
      unitGaussian(r, centres, t * k, k, null, 0, 0);
    }
    // Items.
    int[] topic = new int[n];
    int[][] tags = new int[n][];
    String[] kind = new String[n];
    int[] price = new int[n];
    double[] published = new double[n];
    float[] truth = new float[n * k];
    float[] bias = new float[n];
    int[] rank = permutation(n, r);
    int coldItems = (int) Math.round(n * s.coldItemShare());
    for (int i = 0; i < n; i++) {
      int t = r.nextInt(s.topics());
      topic[i] = t;
      unitGaussian(r, truth, i * k, k, centres, t * k, s.itemNoise());
      bias[i] = (float) (s.popularityScale() * Math.log((double) n / (rank[i] + 1)));
      int a = r.nextInt(s.tagsPerTopic());
      int b = (a + 1 + r.nextInt(s.tagsPerTopic() - 1)) % s.tagsPerTopic();
      int noise = r.nextInt(s.tags());
      tags[i] = distinct(t * s.tagsPerTopic() + a, t * s.tagsPerTopic() + b, noise);
      kind[i] = KINDS[t % KINDS.length];
      price[i] = switch (t % KINDS.length) {
        case 0 -> 0;
        case 1 -> 100 * (1 + r.nextInt(9));
        default -> 1000 * (5 + r.nextInt(16));
      };
      // The last coldItems ids are published inside the test window; the rest over the 90 days before the end of
      // training (most already exist when the simulation starts).
      published[i] = i >= n - coldItems
          ? s.trainDays() + r.nextDouble() * (s.days() - s.trainDays())
          : s.trainDays() * (r.nextDouble() * 2 - 1) - 1;
    }
    // Users.
    int coldUsers = (int) Math.round(m * s.coldUserShare());
    double[] joined = new double[m];
    int[][] likes = new int[m][];
    double[][] likeWeights = new double[m][];
    float[] start = new float[m * k];
    float[] end = new float[m * k];
    for (int u = 0; u < m; u++) {
      int nt = 1 + r.nextInt(3);
      int[] ts = new int[nt];
      double[] w = new double[nt];
      double sum = 0;
      for (int j = 0; j < nt; j++) {
        ts[j] = r.nextInt(s.topics());
        w[j] = -Math.log(1 - r.nextDouble()); // Dirichlet(1) via normalised exponentials
        sum += w[j];
      }
      float[] v = new float[k];
      for (int j = 0; j < nt; j++) {
        w[j] /= sum;
        for (int x = 0; x < k; x++) {
          v[x] += (float) (w[j] * centres[ts[j] * k + x]);
        }
      }
      normalise(v);
      System.arraycopy(v, 0, start, u * k, k);
      int drift = r.nextInt(s.topics());
      for (int x = 0; x < k; x++) {
        v[x] = (float) (0.85 * v[x] + 0.15 * centres[drift * k + x]);
      }
      normalise(v);
      System.arraycopy(v, 0, end, u * k, k);
      likes[u] = ts;
      likeWeights[u] = w;
      joined[u] = u >= m - coldUsers
          ? s.trainDays() + r.nextDouble() * (s.days() - s.trainDays())
          : r.nextDouble() * s.trainDays() * 0.5;
    }
    // Sampling tables: item ∝ exp(bias), overall and per topic.
    double[] weight = new double[n];
    for (int i = 0; i < n; i++) {
      weight[i] = Math.exp(bias[i]);
    }
    Sampler all = new Sampler(weight, null);
    Sampler[] byTopic = new Sampler[s.topics()];
    for (int t = 0; t < s.topics(); t++) {
      int tt = t;
      byTopic[t] = new Sampler(weight, i -> topic[i] == tt);
    }
    // Sessions.
    Events ev = new Events();
    SyntheticData partial = new SyntheticData(s, topic, tags, kind, price, published, joined, likes, truth, bias,
        start, end, new int[0], new int[0], new byte[0], new double[0]);
    Map<Integer, List<Double>> shown = new HashMap<>();
    int[] page = new int[s.pageSize()];
    for (int u = 0; u < m; u++) {
      int sessions = Math.max(1, (int) Math.round(s.sessionsMedian() * Math.exp(0.8 * Ials.gaussian(r))));
      double[] times = new double[sessions];
      for (int j = 0; j < sessions; j++) {
        times[j] = joined[u] + r.nextDouble() * (s.days() - joined[u]);
      }
      Arrays.sort(times);
      shown.clear();
      for (double day : times) {
        float[] taste = partial.userTruth(u, day);
        int filled = 0;
        int attempts = 0;
        while (filled < page.length && attempts++ < page.length * 50) {
          double p = r.nextDouble();
          int i;
          if (p < 0.1) {
            i = r.nextInt(n);
          } else if (p < 0.1 + 0.9 * s.personalShare()) {
            i = byTopic[pick(likes[u], likeWeights[u], r)].sample(r);
          } else {
            i = all.sample(r);
          }
          if (i < 0 || published[i] > day || contains(page, filled, i)) {
            continue;
          }
          page[filled++] = i;
        }
        for (int pos = 0; pos < filled; pos++) {
          int i = page[pos];
          List<Double> past = shown.computeIfAbsent(i, x -> new ArrayList<>());
          int recent = 0;
          for (double d : past) {
            recent += day - d <= 7 ? 1 : 0;
          }
          past.add(day);
          ev.add(u, i, SyntheticData.IMPRESSION, day);
          double logit = partial.utility(taste, i) - s.threshold();
          double click = sigmoid(logit) * Math.pow(s.fatigue(), recent) / log2(2 + pos);
          if (r.nextDouble() < click) {
            ev.add(u, i, SyntheticData.CLICK, day);
            if (price[i] > 0 && r.nextDouble() < 0.3 * Math.exp(-price[i] / 10000.0)) {
              ev.add(u, i, SyntheticData.PURCHASE, day);
            }
          }
        }
      }
    }
    return new SyntheticData(s, topic, tags, kind, price, published, joined, likes, truth, bias, start, end,
        Arrays.copyOf(ev.user, ev.n), Arrays.copyOf(ev.item, ev.n), Arrays.copyOf(ev.type, ev.n),
        Arrays.copyOf(ev.day, ev.n));
  }

  private static final class Events {
    int n;
    int[] user = new int[1024];
    int[] item = new int[1024];
    byte[] type = new byte[1024];
    double[] day = new double[1024];

    void add(int u, int i, byte t, double d) {
      if (n == user.length) {
        user = Arrays.copyOf(user, n * 2);
        item = Arrays.copyOf(item, n * 2);
        type = Arrays.copyOf(type, n * 2);
        day = Arrays.copyOf(day, n * 2);
      }
      user[n] = u;
      item[n] = i;
      type[n] = t;
      day[n] = d;
      n++;
    }
  }

  /** Draws an index with probability ∝ weight among the indices a filter keeps (inverse CDF, binary search). */
  private static final class Sampler {
    final int[] ids;
    final double[] cdf;

    Sampler(double[] weight, java.util.function.IntPredicate keep) {
      int[] tmp = new int[weight.length];
      double[] c = new double[weight.length];
      int n = 0;
      double acc = 0;
      for (int i = 0; i < weight.length; i++) {
        if (keep == null || keep.test(i)) {
          acc += weight[i];
          tmp[n] = i;
          c[n] = acc;
          n++;
        }
      }
      ids = Arrays.copyOf(tmp, n);
      cdf = Arrays.copyOf(c, n);
    }

    int sample(SplittableRandom r) {
      if (ids.length == 0) {
        return -1;
      }
      double x = r.nextDouble() * cdf[cdf.length - 1];
      int pos = Arrays.binarySearch(cdf, x);
      if (pos < 0) {
        pos = -pos - 1;
      }
      return ids[Math.min(pos, ids.length - 1)];
    }
  }

  private static int pick(int[] ts, double[] w, SplittableRandom r) {
    double x = r.nextDouble();
    for (int j = 0; j < ts.length; j++) {
      x -= w[j];
      if (x < 0) {
        return ts[j];
      }
    }
    return ts[ts.length - 1];
  }

  private static boolean contains(int[] a, int n, int v) {
    for (int j = 0; j < n; j++) {
      if (a[j] == v) {
        return true;
      }
    }
    return false;
  }

  private static int[] distinct(int a, int b, int c) {
    return c == a || c == b ? new int[] {a, b} : new int[] {a, b, c};
  }

  private static int[] permutation(int n, SplittableRandom r) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** out[off..off+k) = normalise(centre + noise · g/√k) (or a random unit vector without a centre). */
  private static void unitGaussian(SplittableRandom r, float[] out, int off, int k, float[] centre, int cOff,
      double noise) {
    double sd = centre == null ? 1 : noise / Math.sqrt(k);
    for (int x = 0; x < k; x++) {
      out[off + x] = (float) ((centre == null ? 0 : centre[cOff + x]) + sd * Ials.gaussian(r));
    }
    float[] v = Arrays.copyOfRange(out, off, off + k);
    normalise(v);
    System.arraycopy(v, 0, out, off, k);
  }

  private static void normalise(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    double inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (int x = 0; x < v.length; x++) {
      v[x] = (float) (v[x] * inv);
    }
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
