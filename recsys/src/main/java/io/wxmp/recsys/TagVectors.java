package io.wxmp.recsys;

/**
 * Vectors for cold items from their tags: a tag's vector is the mean of the trained vectors of the items that carry it,
 * and a new item's vector is the mean of its tags' vectors. Items whose vector is zero (no training data) are left out
 * of the means.
 */
public final class TagVectors {
  private TagVectors() {
  }

  /**
   * @param itemTags per item its tag ids (0..tags-1; null or empty for none)
   * @return tags × dim, row-major; a tag no trained item carries gets the zero vector
   */
  public static float[] derive(IalsParams p, int items, float[] itemVectors, int[][] itemTags, int tags) {
    int d = p.dim();
    if (itemVectors.length != (long) items * d) {
      throw new IllegalArgumentException("itemVectors has length " + itemVectors.length + ", expected "
          + items + " × " + d);
    }
    if (itemTags.length != items) {
      throw new IllegalArgumentException("itemTags has " + itemTags.length + " rows, expected " + items);
    }
    double[] sum = new double[tags * d];
    int[] count = new int[tags];
    for (int i = 0; i < items; i++) {
      int[] ts = itemTags[i];
      if (ts == null || ts.length == 0 || isZero(itemVectors, i * d, d)) {
        continue;
      }
      for (int t : ts) {
        checkTag(t, tags);
        count[t]++;
        for (int x = 0; x < d; x++) {
          sum[t * d + x] += itemVectors[i * d + x];
        }
      }
    }
    float[] out = new float[tags * d];
    for (int t = 0; t < tags; t++) {
      if (count[t] > 0) {
        for (int x = 0; x < d; x++) {
          out[t * d + x] = (float) (sum[t * d + x] / count[t]);
        }
      }
    }
    return out;
  }

  /** The mean of the given tags' vectors (zero for no tags); unknown tag ids are an error. */
  public static float[] forItem(float[] tagVectors, int dim, int[] tags) {
    if (tagVectors.length % dim != 0) {
      throw new IllegalArgumentException("tagVectors length " + tagVectors.length + " is not a multiple of " + dim);
    }
    int n = tagVectors.length / dim;
    float[] out = new float[dim];
    if (tags == null || tags.length == 0) {
      return out;
    }
    double[] sum = new double[dim];
    for (int t : tags) {
      checkTag(t, n);
      for (int x = 0; x < dim; x++) {
        sum[x] += tagVectors[t * dim + x];
      }
    }
    for (int x = 0; x < dim; x++) {
      out[x] = (float) (sum[x] / tags.length);
    }
    return out;
  }

  private static void checkTag(int t, int tags) {
    if (t < 0 || t >= tags) {
      throw new IllegalArgumentException("tag " + t + " out of range 0.." + (tags - 1));
    }
  }

  private static boolean isZero(float[] v, int off, int d) {
    for (int x = 0; x < d; x++) {
      if (v[off + x] != 0) {
        return false;
      }
    }
    return true;
  }
}
