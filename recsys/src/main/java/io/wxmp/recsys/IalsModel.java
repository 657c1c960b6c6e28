package io.wxmp.recsys;

import java.util.Arrays;

/**
 * A trained factorisation: score(u, i) = userVector(u) · itemVector(i). Vectors are row-major; a row with no data is
 * the zero vector. The arrays are shared, not copied: treat them as read-only.
 */
public record IalsModel(IalsParams params, int users, int items, float[] userVectors, float[] itemVectors) {

  public IalsModel {
    if (userVectors.length != (long) users * params.dim() || itemVectors.length != (long) items * params.dim()) {
      throw new IllegalArgumentException("vector arrays do not match users/items × dim " + params.dim());
    }
  }

  public int dim() {
    return params.dim();
  }

  /** A copy of the user's vector. */
  public float[] userVector(int u) {
    if (u < 0 || u >= users) {
      throw new IndexOutOfBoundsException("user " + u + " out of range 0.." + (users - 1));
    }
    return Arrays.copyOfRange(userVectors, u * params.dim(), (u + 1) * params.dim());
  }

  /** A copy of the item's vector. */
  public float[] itemVector(int i) {
    if (i < 0 || i >= items) {
      throw new IndexOutOfBoundsException("item " + i + " out of range 0.." + (items - 1));
    }
    return Arrays.copyOfRange(itemVectors, i * params.dim(), (i + 1) * params.dim());
  }

  /** Dot product of a (folded-in) user vector with every item: items scores. */
  public float[] scores(float[] userVector) {
    return Linalg.scores(userVector, itemVectors, items, params.dim());
  }

  /** A fold-in solver against this model's item vectors. */
  public FoldIn foldIn() {
    return new FoldIn(params, items, itemVectors);
  }
}
