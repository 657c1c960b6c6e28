package io.wxmp.recsys;

import java.util.Arrays;

/**
 * What {@link Synthetic#generate} made: the catalogue (topic, tags, kind, price, publish day per item), the users (join
 * day, liked topics), the hidden truth (true vectors and popularity bias) and the logged events — impressions, clicks
 * and purchases of a simulated feed, grouped by user and in time order within a user. Days are doubles from 0.
 */
public record SyntheticData(SyntheticSpec spec, int[] itemTopic, int[][] itemTags, String[] itemKind,
    int[] itemPriceFen, double[] itemPublishedDay, double[] userJoinedDay, int[][] userTopics, float[] itemTruth,
    float[] itemBias, float[] userTruthStart, float[] userTruthEnd, int[] eventUser, int[] eventItem,
    byte[] eventType, double[] eventDay) {

  public static final byte IMPRESSION = 0;
  public static final byte CLICK = 1;
  public static final byte PURCHASE = 2;

  /** Scale of the affinity term in the click logit (see {@link #utility}). */
  static final double AFFINITY = 3.0;

  public int users() {
    return userJoinedDay.length;
  }

  public int items() {
    return itemTopic.length;
  }

  public int events() {
    return eventUser.length;
  }

  /** Published inside the test window: no training interactions exist for it. */
  public boolean coldItem(int i) {
    return itemPublishedDay[i] >= spec.trainDays();
  }

  /** Arrived inside the test window. */
  public boolean coldUser(int u) {
    return userJoinedDay[u] >= spec.trainDays();
  }

  /** The user's true taste at a day (interests drift linearly from the start vector to the end vector). */
  public float[] userTruth(int u, double day) {
    int k = spec.latentDim();
    double w = Math.max(0, Math.min(1, day / spec.days()));
    float[] v = new float[k];
    for (int x = 0; x < k; x++) {
      v[x] = (float) ((1 - w) * userTruthStart[u * k + x] + w * userTruthEnd[u * k + x]);
    }
    return v;
  }

  /** The click logit without position, fatigue and threshold: AFFINITY · u(day)ᵀv_i + b_i. The oracle ranks by it. */
  public double utility(float[] userTruth, int i) {
    int k = spec.latentDim();
    double dot = 0;
    for (int x = 0; x < k; x++) {
      dot += userTruth[x] * itemTruth[i * k + x];
    }
    return AFFINITY * dot + itemBias[i];
  }

  /**
   * Clicks and purchases with fromDay ≤ day &lt; toDay as summed strengths (impressions are not positives).
   */
  public Interactions interactions(double fromDay, double toDay, float clickStrength, float purchaseStrength) {
    int n = 0;
    int[] us = new int[events()];
    int[] is = new int[events()];
    float[] ss = new float[events()];
    for (int e = 0; e < events(); e++) {
      if (eventType[e] == IMPRESSION || eventDay[e] < fromDay || eventDay[e] >= toDay) {
        continue;
      }
      us[n] = eventUser[e];
      is[n] = eventItem[e];
      ss[n] = eventType[e] == CLICK ? clickStrength : purchaseStrength;
      n++;
    }
    return Interactions.of(users(), items(), Arrays.copyOf(us, n), Arrays.copyOf(is, n), Arrays.copyOf(ss, n));
  }
}
