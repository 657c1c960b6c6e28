package io.wxmp.recsys.eval;

import io.wxmp.recsys.Ials;
import io.wxmp.recsys.IalsModel;
import io.wxmp.recsys.IalsParams;
import io.wxmp.recsys.Interactions;
import io.wxmp.recsys.SyntheticData;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The synthetic benchmark's protocol: train on clicks and purchases before {@code trainDays}; evaluate warm users on
 * the items they click in the test window (items with training data they had not clicked before), ranking all items
 * with training data minus the user's own. The oracle ranks by the true utility at the middle of the test window.
 */
public final class SyntheticEval {
  private SyntheticEval() {
  }

  /** NDCG@10 (and Recall@20) per model, over {@code users} evaluated users. */
  public record Result(int users, int items, long trainPositives, double oracle, double popularity, double ials,
      double oracleRecall20, double popularityRecall20, double ialsRecall20, double trainSeconds) {

    public double popularityShare() {
      return popularity / oracle;
    }

    public double ialsShare() {
      return ials / oracle;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT,
          "%d users, %d warm items, %d train positives | NDCG@10 oracle %.4f, popularity %.4f (%.0f %%), iALS %.4f "
              + "(%.0f %%) | R@20 oracle %.4f, popularity %.4f, iALS %.4f | training %.2f s",
          users, items, trainPositives, oracle, popularity, 100 * popularityShare(), ials, 100 * ialsShare(),
          oracleRecall20, popularityRecall20, ialsRecall20, trainSeconds);
    }
  }

  /** Strengths: click 1, purchase 5 (the feed's default event weights). */
  public static Result evaluate(SyntheticData d, IalsParams p) {
    double split = d.spec().trainDays();
    Interactions train = d.interactions(Double.NEGATIVE_INFINITY, split, 1, 5);
    Interactions test = d.interactions(split, Double.POSITIVE_INFINITY, 1, 5);
    long t0 = System.nanoTime();
    IalsModel model = Ials.train(train, p);
    double seconds = (System.nanoTime() - t0) / 1e9;
    float[] pop = Popularity.counts(train);
    boolean[] warm = new boolean[d.items()];
    int warmItems = 0;
    for (int i = 0; i < d.items(); i++) {
      warm[i] = pop[i] > 0;
      warmItems += warm[i] ? 1 : 0;
    }
    double mid = (split + d.spec().days()) / 2;
    double[] ndcg = new double[3];
    double[] recall = new double[3];
    int users = 0;
    for (int u = 0; u < d.users(); u++) {
      int[] history = train.itemsOf(u);
      if (history.length == 0) {
        continue;
      }
      boolean[] exclude = new boolean[d.items()];
      for (int i = 0; i < d.items(); i++) {
        exclude[i] = !warm[i];
      }
      for (int i : history) {
        exclude[i] = true;
      }
      List<Integer> target = new ArrayList<>();
      for (int i : test.itemsOf(u)) {
        if (!exclude[i]) {
          target.add(i);
        }
      }
      if (target.isEmpty()) {
        continue;
      }
      users++;
      boolean[] isTarget = new boolean[d.items()];
      target.forEach(i -> isTarget[i] = true);
      float[] taste = d.userTruth(u, mid);
      float[] oracle = new float[d.items()];
      for (int i = 0; i < d.items(); i++) {
        oracle[i] = (float) d.utility(taste, i);
      }
      float[][] scores = {oracle, pop, model.scores(model.userVector(u))};
      for (int m = 0; m < 3; m++) {
        int[] top = Evaluator.topByScore(scores[m], 20, exclude);
        boolean[] hits = new boolean[top.length];
        for (int p2 = 0; p2 < top.length; p2++) {
          hits[p2] = isTarget[top[p2]];
        }
        ndcg[m] += Metrics.ndcg(hits, target.size(), 10);
        recall[m] += Metrics.recall(hits, target.size(), 20);
      }
    }
    return new Result(users, warmItems, train.nnz(), ndcg[0] / users, ndcg[1] / users, ndcg[2] / users,
        recall[0] / users, recall[1] / users, recall[2] / users, seconds);
  }
}
