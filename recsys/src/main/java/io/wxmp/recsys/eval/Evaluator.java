package io.wxmp.recsys.eval;

import io.wxmp.recsys.Mmr;
import java.util.Arrays;
import java.util.List;

/**
 * Full-ranking evaluation of one model on held-out users: every item except the user's folded-in ones is ranked.
 * Metrics, in {@link #METRICS} order: Recall@20, Recall@50, NDCG@100, NDCG@10, P@10, coverage@10 (distinct items in
 * all top-10s / items), tail@10 (share of top-10 slots outside the 20 % most popular training items), ILD@10 (mean
 * pairwise 1 − cosine of the listed items' vectors, with the iALS item vectors as the common similarity).
 */
public final class Evaluator {
  public static final List<String> METRICS =
      List.of("R@20", "R@50", "NDCG@100", "NDCG@10", "P@10", "cov@10", "tail@10", "ILD@10");
  static final int LIST = 100;

  /** Turns a user's fold-in items into a ranked list of at least 100 items (fewer only when the catalogue is). */
  @FunctionalInterface
  public interface Ranker {
    int[] rank(int[] fold);
  }

  private final int items;
  private final boolean[] tail;
  private final float[] ildVectors;
  private final int dim;

  /**
   * @param popularity training counts per item (defines the tail: outside the 20 % most popular)
   * @param ildVectors item vectors for ILD (items × dim)
   */
  public Evaluator(int items, float[] popularity, float[] ildVectors, int dim) {
    this.items = items;
    this.tail = tailMask(popularity);
    this.ildVectors = ildVectors;
    this.dim = dim;
  }

  public boolean[] tail() {
    return tail;
  }

  /** True for items outside the ⌈20 %⌉ most popular (ties by lower id count as more popular). */
  public static boolean[] tailMask(float[] popularity) {
    int n = popularity.length;
    int[] order = topByScore(popularity, n, new boolean[n]);
    boolean[] t = new boolean[n];
    int head = (int) Math.ceil(n * 0.2);
    for (int k = head; k < n; k++) {
      t[order[k]] = true;
    }
    return t;
  }

  public double[] evaluate(List<Split.HeldOut> users, Ranker ranker) {
    double[] sum = new double[METRICS.size()];
    boolean[] covered = new boolean[items];
    for (Split.HeldOut h : users) {
      int[] list = ranker.rank(h.fold());
      boolean[] target = new boolean[items];
      for (int i : h.target()) {
        target[i] = true;
      }
      boolean[] hits = new boolean[list.length];
      for (int p = 0; p < list.length; p++) {
        hits[p] = target[list[p]];
      }
      int t = h.target().length;
      sum[0] += Metrics.recall(hits, t, 20);
      sum[1] += Metrics.recall(hits, t, 50);
      sum[2] += Metrics.ndcg(hits, t, 100);
      sum[3] += Metrics.ndcg(hits, t, 10);
      sum[4] += Metrics.precision(hits, 10);
      int tails = 0;
      for (int p = 0; p < Math.min(10, list.length); p++) {
        covered[list[p]] = true;
        tails += tail[list[p]] ? 1 : 0;
      }
      sum[6] += tails / 10.0;
      sum[7] += Metrics.ild(list, 10, ildVectors, dim);
    }
    double[] mean = new double[sum.length];
    for (int m = 0; m < sum.length; m++) {
      mean[m] = users.isEmpty() ? 0 : sum[m] / users.size();
    }
    int c = 0;
    for (boolean b : covered) {
      c += b ? 1 : 0;
    }
    mean[5] = (double) c / items;
    return mean;
  }

  /** Plain ranking by score, fold-in items excluded. */
  public static Ranker byScore(Scorer s) {
    return fold -> topByScore(s.scores(fold), LIST, mask(fold, -1));
  }

  /** MMR re-rank (λ) of the top-100 by score into the first 10 places; the rest follow in score order. */
  public static Ranker mmr(Scorer s, float[] itemVectors, int dim, double lambda) {
    return mmr(s, itemVectors, dim, lambda, LIST);
  }

  /**
   * MMR re-rank (λ) of the top-{@code window} by score into the first 10 places; the rest of the top-100 follow in
   * score order.
   */
  public static Ranker mmr(Scorer s, float[] itemVectors, int dim, double lambda, int window) {
    return mmr(s, itemVectors, dim, lambda, window, Mmr.Options.CLASSIC);
  }

  /** As {@link #mmr(Scorer, float[], int, double, int)} with MMR's relevance scaling and similarity from o. */
  public static Ranker mmr(Scorer s, float[] itemVectors, int dim, double lambda, int window, Mmr.Options o) {
    return fold -> {
      float[] scores = s.scores(fold);
      int[] all = topByScore(scores, LIST, mask(fold, scores.length));
      int[] cand = Arrays.copyOf(all, Math.min(window, all.length));
      float[] rel = new float[cand.length];
      float[][] vec = new float[cand.length][];
      for (int k = 0; k < cand.length; k++) {
        rel[k] = scores[cand[k]];
        vec[k] = Arrays.copyOfRange(itemVectors, cand[k] * dim, (cand[k] + 1) * dim);
      }
      int[] picked = Mmr.select(rel, vec, lambda, 10, o);
      java.util.Set<Integer> used = new java.util.HashSet<>();
      int[] out = new int[all.length];
      int p = 0;
      for (int k : picked) {
        used.add(cand[k]);
        out[p++] = cand[k];
      }
      for (int item : all) {
        if (!used.contains(item)) {
          out[p++] = item;
        }
      }
      return out;
    };
  }

  /** One slot (0-based position) filled by the best-scoring tail item; the other places keep the plain order. */
  public static Ranker tailSlot(Scorer s, boolean[] tail, int position) {
    return fold -> {
      float[] scores = s.scores(fold);
      boolean[] ex = mask(fold, scores.length);
      int[] main = topByScore(scores, LIST, ex);
      int best = -1;
      for (int i = 0; i < scores.length; i++) {
        if (tail[i] && !ex[i] && (best < 0 || scores[i] > scores[best])) {
          best = i;
        }
      }
      if (best < 0) {
        return main;
      }
      int[] out = new int[main.length];
      int p = 0;
      for (int k = 0; k < main.length && p < out.length; k++) {
        if (p == position) {
          out[p++] = best;
        }
        if (main[k] != best && p < out.length) {
          out[p++] = main[k];
        }
      }
      return out;
    };
  }

  private static boolean[] mask(int[] fold, int n) {
    int size = n;
    if (size < 0) {
      size = 0;
      for (int i : fold) {
        size = Math.max(size, i + 1);
      }
    }
    boolean[] ex = new boolean[size];
    for (int i : fold) {
      ex[i] = true;
    }
    return ex;
  }

  /** The k best indices by score (descending, ties to the lower index), skipping excluded ones (ex may be short). */
  static int[] topByScore(float[] scores, int k, boolean[] ex) {
    int n = scores.length;
    long[] keys = new long[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (i < ex.length && ex[i]) {
        continue;
      }
      // Order-preserving int image of the float, negated so an ascending sort gives descending scores.
      int bits = Float.floatToIntBits(scores[i] == 0 ? 0f : scores[i]);
      int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff;
      keys[m++] = ((long) -(long) ordered << 32) + i;
    }
    Arrays.sort(keys, 0, m);
    int[] out = new int[Math.min(k, m)];
    for (int p = 0; p < out.length; p++) {
      out[p] = (int) (keys[p] & 0xffffffffL);
    }
    return out;
  }
}
