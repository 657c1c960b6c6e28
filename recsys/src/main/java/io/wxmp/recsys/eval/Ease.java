package io.wxmp.recsys.eval;

import io.wxmp.recsys.Interactions;

/**
 * EASE (Steck 2019), the closed form B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ on the binary matrix X, scores
 * s = x·B. When there are fewer training users than items, P is applied through Woodbury,
 * P = (I − Xᵀ(XXᵀ + λI)⁻¹X)/λ, so only a min(users, items)-sized dense inverse is ever formed.
 */
public final class Ease implements Scorer {
  /** Largest dense inverse this class forms (about 128 MB of doubles). */
  public static final int MAX_DENSE = 4096;

  private final int items;
  private final double lambda;
  private final double[] diagP;
  // item space: p (items × items); user space: kInv (users × users) and X by user / by item
  private final double[] p;
  private final double[] kInv;
  private final Interactions x;
  private final int users;

  public Ease(Interactions train, double lambda) {
    this.items = train.items();
    this.users = train.users();
    this.lambda = lambda;
    this.x = train;
    if (Math.min(items, users) > MAX_DENSE) {
      throw new IllegalArgumentException("EASE needs a dense inverse of " + Math.min(items, users)
          + "²; the limit is " + MAX_DENSE);
    }
    this.diagP = new double[items];
    if (items <= users) {
      double[] g = new double[items * items];
      for (int u = 0; u < users; u++) {
        int[] is = train.itemsOf(u);
        for (int a : is) {
          for (int b : is) {
            g[a * items + b] += 1;
          }
        }
      }
      for (int i = 0; i < items; i++) {
        g[i * items + i] += lambda;
      }
      p = Dense.inverseSpd(g, items);
      kInv = null;
      for (int i = 0; i < items; i++) {
        diagP[i] = p[i * items + i];
      }
    } else {
      double[] k = new double[users * users];
      Interactions byItem = train.transpose();
      for (int i = 0; i < items; i++) {
        int[] us = byItem.itemsOf(i);
        for (int a : us) {
          for (int b : us) {
            k[a * users + b] += 1;
          }
        }
      }
      for (int u = 0; u < users; u++) {
        k[u * users + u] += lambda;
      }
      kInv = Dense.inverseSpd(k, users);
      p = null;
      for (int i = 0; i < items; i++) {
        int[] us = byItem.itemsOf(i);
        double q = 0;
        for (int a : us) {
          for (int b : us) {
            q += kInv[a * users + b];
          }
        }
        diagP[i] = (1 - q) / lambda;
      }
    }
  }

  @Override
  public float[] scores(int[] fold) {
    double[] px = new double[items]; // P·x
    if (p != null) {
      for (int i : fold) {
        for (int j = 0; j < items; j++) {
          px[j] += p[i * items + j];
        }
      }
    } else {
      double[] xu = new double[users]; // X·x
      for (int u = 0; u < users; u++) {
        int[] is = x.itemsOf(u);
        int a = 0;
        int b = 0;
        int c = 0;
        while (a < is.length && b < fold.length) { // both sorted
          if (is[a] == fold[b]) {
            c++;
            a++;
            b++;
          } else if (is[a] < fold[b]) {
            a++;
          } else {
            b++;
          }
        }
        xu[u] = c;
      }
      double[] y = new double[users]; // K⁻¹·X·x
      for (int u = 0; u < users; u++) {
        if (xu[u] != 0) {
          for (int v = 0; v < users; v++) {
            y[v] += kInv[u * users + v] * xu[u];
          }
        }
      }
      for (int u = 0; u < users; u++) {
        if (y[u] != 0) {
          for (int i : x.itemsOf(u)) {
            px[i] -= y[u];
          }
        }
      }
      for (int i : fold) {
        px[i] += 1;
      }
      for (int j = 0; j < items; j++) {
        px[j] /= lambda;
      }
    }
    boolean[] in = new boolean[items];
    for (int i : fold) {
      in[i] = true;
    }
    float[] s = new float[items];
    for (int j = 0; j < items; j++) {
      // (x·B)_j = x_j − (P x)_j / P_jj, and B_jj = 0 removes the item's own term.
      s[j] = (float) ((in[j] ? 1 : 0) - px[j] / diagP[j]);
    }
    return s;
  }
}
