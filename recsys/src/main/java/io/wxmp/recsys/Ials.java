package io.wxmp.recsys;

import java.util.SplittableRandom;

/**
 * iALS training (Hu, Koren, Volinsky 2008, in the formulation of Rendle et al. 2022; see {@link IalsParams}):
 * alternating exact least squares, the Gramian α₀·FᵀF computed once per half-epoch, one Cholesky solve per row,
 * rows spread over {@code threads} workers. Deterministic: the same data and seed give bit-identical vectors whatever
 * the thread count or scheduling.
 */
public final class Ials {
  private Ials() {
  }

  /** Rows per parallel task. */
  private static final int CHUNK = 64;

  public static IalsModel train(Interactions data, IalsParams p) {
    return train(data, p, 0);
  }

  /**
   * Trains with each row solved by {@code cgSteps} conjugate-gradient iterations warm-started from its previous vector
   * instead of exactly ({@code cgSteps} 0 = exact Cholesky, as {@link #train(Interactions, IalsParams)}). Per row
   * O(cgSteps·(d² + n·d)) instead of O(n·d² + d³): what makes d ≥ 256 affordable. Deterministic in the same way.
   */
  public static IalsModel train(Interactions data, IalsParams p, int cgSteps) {
    if (cgSteps < 0) {
      throw new IllegalArgumentException("cgSteps must be >= 0, got " + cgSteps);
    }
    int d = p.dim();
    int users = data.users();
    int items = data.items();
    float[] w = new float[users * d];
    float[] h = new float[items * d];
    // Rendle 2022: N(0, σ*²/d) with σ* = 0.1.
    SplittableRandom rnd = new SplittableRandom(p.seed());
    double sd = 0.1 / Math.sqrt(d);
    for (int k = 0; k < w.length; k++) {
      w[k] = (float) (gaussian(rnd) * sd);
    }
    for (int k = 0; k < h.length; k++) {
      h[k] = (float) (gaussian(rnd) * sd);
    }
    Interactions byItem = data.transpose();
    try (Parallel pool = new Parallel(p.threads(), d)) {
      for (int epoch = 0; epoch < p.epochs(); epoch++) {
        step(byItem, w, users, h, p, cgSteps, pool); // items against users
        step(data, h, items, w, p, cgSteps, pool);   // users against the new items: user vectors = fold-in of the final items
      }
    }
    return new IalsModel(p, users, items, w, h);
  }

  /** Solves every row of rows (a CSR over fixed's rows) into out. */
  private static void step(Interactions rows, float[] fixed, int fixedRows, float[] out, IalsParams p, int cgSteps,
      Parallel pool) {
    int d = p.dim();
    double[] gram = Linalg.gramian(fixed, fixedRows, d, p.unobservedWeight(), pool);
    double unobservedN = p.unobservedWeight() * fixedRows;
    int n = rows.users();
    int[] cols = rows.cols();
    float[] vals = rows.values();
    int tasks = (n + CHUNK - 1) / CHUNK;
    pool.forEach(tasks, (t, s) -> {
      int end = Math.min(n, (t + 1) * CHUNK);
      for (int r = t * CHUNK; r < end; r++) {
        if (cgSteps == 0) {
          Linalg.solveRow(gram, fixed, d, cols, vals, rows.rowStart(r), rows.rowStart(r + 1), unobservedN,
              p.regularization(), p.confidenceScale(), s, out, r * d);
        } else {
          Linalg.solveRowCg(gram, fixed, d, cols, vals, rows.rowStart(r), rows.rowStart(r + 1), unobservedN,
              p.regularization(), p.confidenceScale(), cgSteps, s, out, r * d);
        }
      }
    });
  }

  /** Box-Muller on SplittableRandom: fully specified, unlike Random.nextGaussian across JDKs. */
  static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
