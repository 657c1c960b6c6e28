package io.wxmp.recsys.eval;

import io.wxmp.recsys.Interactions;

/** The popularity baseline: every user gets items by their number of training users. */
public final class Popularity implements Scorer {
  private final float[] counts;

  public Popularity(Interactions train) {
    counts = counts(train);
  }

  public static float[] counts(Interactions train) {
    float[] c = new float[train.items()];
    for (int u = 0; u < train.users(); u++) {
      for (int i : train.itemsOf(u)) {
        c[i]++;
      }
    }
    return c;
  }

  @Override
  public float[] scores(int[] fold) {
    return counts.clone();
  }
}
