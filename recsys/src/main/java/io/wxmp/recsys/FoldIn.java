package io.wxmp.recsys;

import java.util.Arrays;

/**
 * The online iALS user step: a user's vector from their (item, strength) history against fixed item vectors, exactly
 * as training solves it (same Gramian, regularisation and confidence). The Gramian is computed once here; {@link
 * #solve} is thread-safe and allocates only its own scratch.
 */
public final class FoldIn {
  private final IalsParams params;
  private final int items;
  private final float[] itemVectors;
  private final double[] gram;
  private final double unobservedN;

  public FoldIn(IalsParams p, int items, float[] itemVectors) {
    if (itemVectors.length != (long) items * p.dim()) {
      throw new IllegalArgumentException("itemVectors has length " + itemVectors.length + ", expected "
          + items + " × " + p.dim());
    }
    this.params = p;
    this.items = items;
    this.itemVectors = itemVectors;
    this.gram = Linalg.gramian(itemVectors, items, p.dim(), p.unobservedWeight(), null);
    this.unobservedN = p.unobservedWeight() * items;
  }

  public int dim() {
    return params.dim();
  }

  /**
   * The user's vector; duplicates in items are summed (as {@link Interactions#of} does), an empty history gives the
   * zero vector.
   *
   * @throws IllegalArgumentException on arrays of different lengths, an item out of range or a bad strength
   */
  public float[] solve(int[] items, float[] strengths) {
    if (items.length != strengths.length) {
      throw new IllegalArgumentException("items and strengths differ in length: " + items.length + " vs "
          + strengths.length);
    }
    int n = items.length;
    long[] keys = new long[n];
    for (int k = 0; k < n; k++) {
      int i = items[k];
      float s = strengths[k];
      if (i < 0 || i >= this.items) {
        throw new IllegalArgumentException("item " + i + " out of range 0.." + (this.items - 1));
      }
      if (!(s >= 0) || Float.isInfinite(s)) {
        throw new IllegalArgumentException("strength must be finite and >= 0, got " + s);
      }
      keys[k] = ((long) i << 32) | k;
    }
    Arrays.sort(keys);
    int[] cols = new int[n];
    float[] vals = new float[n];
    int m = 0;
    int prev = -1;
    for (int k = 0; k < n; k++) {
      int i = (int) (keys[k] >>> 32);
      float s = strengths[(int) keys[k]];
      if (i == prev) {
        vals[m - 1] += s;
      } else {
        cols[m] = i;
        vals[m] = s;
        m++;
        prev = i;
      }
    }
    int d = params.dim();
    float[] out = new float[d];
    Linalg.solveRow(gram, itemVectors, d, cols, vals, 0, m, unobservedN, params.regularization(),
        params.confidenceScale(), new Linalg.Scratch(d), out, 0);
    return out;
  }
}
