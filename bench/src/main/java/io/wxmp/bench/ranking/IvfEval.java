package io.wxmp.bench.ranking;

import io.wxmp.gpu.IvfRecall;
import io.wxmp.recsys.FoldIn;
import io.wxmp.recsys.Ials;
import io.wxmp.recsys.IalsModel;
import io.wxmp.recsys.IalsParams;
import io.wxmp.recsys.eval.Evaluator;
import io.wxmp.recsys.eval.Popularity;
import io.wxmp.recsys.eval.Ratings;
import io.wxmp.recsys.eval.Scorer;
import io.wxmp.recsys.eval.Split;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What the ranking verticle's IVF pre-selection costs in quality, on the recsys evaluation protocol (RECSYS.md §5.1,
 * strong generalisation, ratings ≥ 4): per held-out user, the iALS fold-in vector is the query, the feed's candidates
 * are its IVF top-300 (fold-in items excluded, as a page excludes what the user has) instead of the exact top-300, and
 * the page is ranked from them by score, or by MMR λ 0.7 over the top 100 (the feed's re-rank). Prints NDCG@10 and
 * R@20 of each against the exact candidates, and the recall of the exact top-300.
 *
 * <p>{@code bench/ivf-eval.sh [CSV] [--seeds 5] [--nprobes 3,5,10,16,32] [--threads 2]}
 */
public final class IvfEval {
  private static final int CANDIDATES = 300;

  private IvfEval() {}

  public static void main(String[] args) throws Exception {
    String file = "bench/.data/movielens/ratings_small.csv";
    int seeds = 5;
    int threads = Runtime.getRuntime().availableProcessors();
    int[] nprobes = {3, 5, 10, 16, 32};
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seeds" -> seeds = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--nprobes" -> nprobes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        default -> file = args[i];
      }
    }
    Ratings ratings = Ratings.read(Path.of(file));
    int ndcg10 = Evaluator.METRICS.indexOf("NDCG@10");
    int r20 = Evaluator.METRICS.indexOf("R@20");
    Map<String, double[]> sums = new LinkedHashMap<>();
    Map<String, Double> recallSums = new LinkedHashMap<>();
    int lists = 0;
    int items = 0;
    System.out.printf("IvfEval: %s, strong split, ratings >= 4, %d seeds, iALS d 64 alpha0 0.3 lambda 0.003, "
        + "%d threads; JDK %s%n", file, seeds, threads, System.getProperty("java.version"));
    for (int seed = 0; seed < seeds; seed++) {
      Split split = Split.strong(ratings, 4, seed);
      IalsModel model = Ials.train(split.train(), new IalsParams(64, 16, 0.3, 0.003, 0, seed, threads));
      FoldIn foldIn = model.foldIn();
      int n = split.items();
      items = n;
      int dim = model.dim();
      long[] ids = new long[n];
      float[][] vectors = new float[n][];
      for (int i = 0; i < n; i++) {
        ids[i] = i;
        vectors[i] = Arrays.copyOfRange(model.itemVectors(), i * dim, (i + 1) * dim);
      }
      IvfRecall ivf = new IvfRecall(ids, vectors);
      lists = ivf.lists();
      Evaluator ev = new Evaluator(n, Popularity.counts(split.train()), model.itemVectors(), dim);
      List<Split.HeldOut> users = split.test();
      Scorer exact = fold -> model.scores(foldIn.solve(fold, ones(fold.length)));
      add(sums, "exact top-300: by score", ev.evaluate(users, Evaluator.byScore(exact)));
      add(sums, "exact top-300: MMR λ 0.7", ev.evaluate(users, Evaluator.mmr(exact, model.itemVectors(), dim, 0.7)));
      for (int nprobe : nprobes) {
        int np = nprobe;
        double[] recall = new double[1];
        Scorer restricted = fold -> {
          float[] v = foldIn.solve(fold, ones(fold.length));
          float[] all = model.scores(v);
          long[] exclude = Arrays.stream(fold).asLongStream().toArray();
          long[] picked = ivf.topK(v, CANDIDATES, exclude, np);
          Set<Long> exactSet = new HashSet<>();
          for (long id : ivf.exactTopK(v, CANDIDATES, exclude)) {
            exactSet.add(id);
          }
          float[] out = new float[all.length];
          Arrays.fill(out, Float.NEGATIVE_INFINITY);
          int hit = 0;
          for (long id : picked) {
            out[(int) id] = all[(int) id];
            hit += exactSet.contains(id) ? 1 : 0;
          }
          recall[0] += exactSet.isEmpty() ? 1 : (double) hit / exactSet.size();
          return out;
        };
        String name = "IVF nprobe " + nprobe;
        add(sums, name + ": by score", ev.evaluate(users, Evaluator.byScore(restricted)));
        recallSums.merge(name, recall[0] / users.size(), Double::sum);
        recall[0] = 0;
        add(sums, name + ": MMR λ 0.7", ev.evaluate(users, Evaluator.mmr(restricted, model.itemVectors(), dim, 0.7)));
      }
      ivf.close();
      System.out.printf("- seed %d: %,d items, %d lists, %d test users%n", seed, n, lists, users.size());
    }
    System.out.printf("%n%,d items, %d lists (≈ √n, as the verticle builds them); candidates: top-%d%n%n", items, lists,
        CANDIDATES);
    System.out.println("| candidates | page | NDCG@10 | vs exact | R@20 | recall of the exact top-300 |");
    System.out.println("|---|---|---:|---:|---:|---:|");
    for (Map.Entry<String, double[]> e : sums.entrySet()) {
      String[] parts = e.getKey().split(": ");
      String base = "exact top-300: " + parts[1];
      double nd = e.getValue()[ndcg10] / seeds;
      double baseNd = sums.get(base)[ndcg10] / seeds;
      Double rec = recallSums.get(parts[0]);
      System.out.printf(Locale.ROOT, "| %s | %s | %.4f | %+.2f %% | %.4f | %s |%n", parts[0], parts[1], nd,
          100 * (nd / baseNd - 1), e.getValue()[r20] / seeds, rec == null ? "1" : String.format(Locale.ROOT, "%.4f",
              rec / seeds));
    }
    System.exit(0);
  }

  private static void add(Map<String, double[]> sums, String key, double[] metrics) {
    sums.merge(key, metrics, (a, b) -> {
      double[] s = a.clone();
      for (int i = 0; i < s.length; i++) {
        s[i] += b[i];
      }
      return s;
    });
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    Arrays.fill(a, 1);
    return a;
  }
}
