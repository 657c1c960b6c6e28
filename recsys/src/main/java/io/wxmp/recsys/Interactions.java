package io.wxmp.recsys;

import java.util.Arrays;

/**
 * Implicit feedback as a sparse users × items matrix of summed strengths, stored by user (CSR). Within a user the items
 * are in ascending id order with duplicates summed, so every consumer sees one canonical order — the reason training
 * is reproducible bit for bit.
 */
public final class Interactions {
  private final int users;
  private final int items;
  private final int[] rowStart; // users + 1
  private final int[] cols;
  private final float[] values;

  private Interactions(int users, int items, int[] rowStart, int[] cols, float[] values) {
    this.users = users;
    this.items = items;
    this.rowStart = rowStart;
    this.cols = cols;
    this.values = values;
  }

  /**
   * Builds the matrix from parallel arrays of entries; entries for the same (user, item) are summed in input order.
   *
   * @throws IllegalArgumentException on arrays of different lengths, an id out of range, or a strength that is negative
   *                                  or not finite
   */
  public static Interactions of(int users, int items, int[] user, int[] item, float[] strength) {
    if (users < 0 || items < 0) {
      throw new IllegalArgumentException("users and items must be >= 0, got " + users + " and " + items);
    }
    if (user.length != item.length || user.length != strength.length) {
      throw new IllegalArgumentException("user, item and strength must have the same length, got "
          + user.length + ", " + item.length + ", " + strength.length);
    }
    int n = user.length;
    int[] counts = new int[users + 1];
    for (int e = 0; e < n; e++) {
      int u = user[e];
      int i = item[e];
      float s = strength[e];
      if (u < 0 || u >= users) {
        throw new IllegalArgumentException("user " + u + " out of range 0.." + (users - 1) + " at entry " + e);
      }
      if (i < 0 || i >= items) {
        throw new IllegalArgumentException("item " + i + " out of range 0.." + (items - 1) + " at entry " + e);
      }
      if (!(s >= 0) || Float.isInfinite(s)) {
        throw new IllegalArgumentException("strength must be finite and >= 0, got " + s + " at entry " + e);
      }
      counts[u + 1]++;
    }
    for (int u = 0; u < users; u++) {
      counts[u + 1] += counts[u];
    }
    // Bucket entries by user, keeping input order inside a user.
    int[] order = new int[n];
    int[] fill = Arrays.copyOf(counts, users);
    for (int e = 0; e < n; e++) {
      order[fill[user[e]]++] = e;
    }
    int[] rowStart = new int[users + 1];
    int[] cols = new int[n];
    float[] values = new float[n];
    int out = 0;
    long[] keys = new long[0];
    for (int u = 0; u < users; u++) {
      rowStart[u] = out;
      int from = counts[u];
      int len = counts[u + 1] - from;
      if (len == 0) {
        continue;
      }
      if (keys.length < len) {
        keys = new long[Math.max(len, keys.length * 2)];
      }
      for (int k = 0; k < len; k++) {
        int e = order[from + k];
        keys[k] = ((long) item[e] << 32) | e; // item first, then input position: a stable sort
      }
      Arrays.sort(keys, 0, len);
      int prev = -1;
      for (int k = 0; k < len; k++) {
        int e = (int) keys[k];
        int i = (int) (keys[k] >>> 32);
        if (i == prev) {
          values[out - 1] += strength[e];
        } else {
          cols[out] = i;
          values[out] = strength[e];
          out++;
          prev = i;
        }
      }
    }
    rowStart[users] = out;
    return new Interactions(users, items, rowStart, Arrays.copyOf(cols, out), Arrays.copyOf(values, out));
  }

  public int users() {
    return users;
  }

  public int items() {
    return items;
  }

  /** Number of distinct (user, item) pairs. */
  public long nnz() {
    return cols.length;
  }

  /** The user's items in ascending id order (a copy). */
  public int[] itemsOf(int user) {
    checkUser(user);
    return Arrays.copyOfRange(cols, rowStart[user], rowStart[user + 1]);
  }

  /** The summed strengths, aligned with {@link #itemsOf(int)} (a copy). */
  public float[] strengthsOf(int user) {
    checkUser(user);
    return Arrays.copyOfRange(values, rowStart[user], rowStart[user + 1]);
  }

  /** Number of distinct items of the user. */
  public int countOf(int user) {
    checkUser(user);
    return rowStart[user + 1] - rowStart[user];
  }

  /** The same matrix stored by item: users become rows (for the item step of training and item statistics). */
  public Interactions transpose() {
    int[] counts = new int[items + 1];
    for (int c : cols) {
      counts[c + 1]++;
    }
    for (int i = 0; i < items; i++) {
      counts[i + 1] += counts[i];
    }
    int[] fill = Arrays.copyOf(counts, items + 1);
    int[] tCols = new int[cols.length];
    float[] tValues = new float[cols.length];
    for (int u = 0; u < users; u++) { // ascending u, so each item's users come out sorted
      for (int k = rowStart[u]; k < rowStart[u + 1]; k++) {
        int pos = fill[cols[k]]++;
        tCols[pos] = u;
        tValues[pos] = values[k];
      }
    }
    return new Interactions(items, users, counts, tCols, tValues);
  }

  // Raw access for the solvers in this package (no copies).
  int rowStart(int row) {
    return rowStart[row];
  }

  int[] cols() {
    return cols;
  }

  float[] values() {
    return values;
  }

  private void checkUser(int user) {
    if (user < 0 || user >= users) {
      throw new IndexOutOfBoundsException("user " + user + " out of range 0.." + (users - 1));
    }
  }
}
